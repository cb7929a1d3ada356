"""fastcodec model zoo: plain-PyTorch pose models, data and train/eval scripts.

Uses fastcodec only through its public API (``fastcodec.build``, ``encode``,
``decode``, ``batch_encode``, ``batch_decode``), exactly as a user would.
"""
