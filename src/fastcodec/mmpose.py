"""MMPose plug-in: fastcodec's codecs under MMPose's own codec names.

One line in an MMPose 1.x config switches every codec that config builds (the
``codec`` of the data pipeline's ``GenerateTarget`` and the head's ``decoder``)::

    custom_imports = dict(imports=['fastcodec.mmpose'], allow_failed_imports=False)

Importing this module registers each fastcodec codec in
``mmpose.registry.KEYPOINT_CODECS`` under the name MMPose uses for it
(``MSRAHeatmap``, ``SimCCLabel``, ...), replacing MMPose's class, so
``dict(type='MSRAHeatmap', ...)`` builds ``fastcodec.MSRAHeatmap`` with the same
arguments. MMPose's own classes stay importable from ``mmpose.codecs``.

What the registered classes add to fastcodec's: MMPose's heads decode a batch with
``codec.batch_decode(*network_outputs)`` whenever ``support_batch_decoding`` is true,
and expect numpy results they can iterate per sample. For the codecs whose batched
decode has exactly that shape (heatmap, SimCC and regression codecs, and
AssociativeEmbedding, whose three lists its head unpacks) the registered class decodes
the whole batch in one call: on the device when the network's outputs
are CUDA tensors and the codec runs there (``device_ready``, with the ``cuda`` backend
installed), copying only the decoded keypoints and scores to the host; otherwise on
the host, after the device-to-host copy of the outputs that MMPose's own per-sample
path makes too. DecoupledHeatmap decodes the instances CIDHead hands over for one
image in one call the same way. The other codecs keep MMPose's
per-sample ``decode`` loop, whose signatures they share with MMPose.
"""
from __future__ import annotations

from typing import Any, Dict

import mmpose.codecs  # noqa: F401  MMPose registers its codecs first; ours then replace them
from mmpose.registry import KEYPOINT_CODECS

from fastcodec._arrays import device_of, on_device
from fastcodec._backend import kernels
from fastcodec.registry import CODECS

# Codecs whose batch_decode takes the head's batched outputs and returns arrays whose
# i-th entries are MMPose's decode results for sample i (AssociativeEmbedding: MMPose's
# three lists, as its AssociativeEmbeddingHead unpacks them).
BATCH_DECODED = ('MSRAHeatmap', 'UDPHeatmap', 'MegviiHeatmap', 'SimCCLabel',
                 'RegressionLabel', 'IntegralRegressionLabel', 'AssociativeEmbedding')


def _host(x: Any) -> Any:
    """A torch tensor (any device) or CuPy array as a host numpy array; tuples of them
    element by element."""
    if isinstance(x, tuple):
        return tuple(_host(v) for v in x)
    if hasattr(x, 'detach'):
        return x.detach().cpu().numpy()
    if hasattr(type(x), '__cuda_array_interface__') and hasattr(x, 'get'):  # CuPy
        return x.get()
    return x


def _decodes_on_device(codec: Any, outputs: tuple) -> bool:
    """Whether ``codec`` decodes ``outputs`` where they are: device arrays, a codec
    that runs on them, and a backend for their device."""
    if not getattr(codec, 'device_ready', False) or not outputs or not on_device(outputs[0]):
        return False
    try:
        kernels(device_of(outputs[0]))
    except TypeError:   # no backend for the device here (e.g. no CuPy): decode on the host
        return False
    return True


def _decoded(codec: Any, method, outputs: tuple):
    """``method(codec, *outputs)`` on the device where ``_decodes_on_device``, else on
    host copies of the outputs; the results as host arrays."""
    if _decodes_on_device(codec, outputs):
        return _host(method(codec, *outputs))
    return _host(method(codec, *_host(outputs)))


def _for_mmpose(cls: type) -> type:
    """``cls`` with the batch-decoding contract MMPose's heads rely on."""
    attrs: Dict[str, Any] = {'__module__': __name__, '__doc__': cls.__doc__,
                             '__qualname__': cls.__name__}
    if cls.__name__ in BATCH_DECODED:
        def batch_decode(self, *outputs):
            return _decoded(self, cls.batch_decode, outputs)
        batch_decode.__doc__ = cls.batch_decode.__doc__
        attrs['batch_decode'] = batch_decode
    elif cls.__name__ == 'DecoupledHeatmap':
        # CIDHead hands BaseHead.decode one image's (instance_heatmaps (N, K, H, W),
        # instance_scores (N, 1)), which MMPose decodes one instance at a time: all N in
        # one call here, returned per instance as that loop would (keypoints[i]
        # (1, K, 2), scores[i] (1, K)).
        def batch_decode(self, instance_heatmaps, instance_scores):
            """CIDHead's outputs of one image -> per-instance keypoints (N, 1, K, 2) and
            scores (N, 1, K), numpy, MMPose's per-instance decode results stacked."""
            keypoints, scores = _decoded(self, cls.decode, (instance_heatmaps, instance_scores))
            return keypoints[:, None], scores[:, None]
        attrs['batch_decode'] = batch_decode
        attrs['support_batch_decoding'] = True
    else:
        attrs['support_batch_decoding'] = False
    return type(cls.__name__, (cls,), attrs)


REGISTERED: Dict[str, type] = {}
for _name, _cls in sorted(CODECS.items()):
    REGISTERED[_name] = _for_mmpose(_cls)
    KEYPOINT_CODECS.register_module(name=_name, module=REGISTERED[_name], force=True)

__all__ = ['REGISTERED', 'BATCH_DECODED']
del _name, _cls

