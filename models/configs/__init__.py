"""Training configs (Python files, run by models/train.py and models/eval.py)."""
