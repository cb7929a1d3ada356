"""fastcodec: MMPose's keypoint codecs as compiled kernels.

    >>> import fastcodec
    >>> codec = fastcodec.build(dict(type='MSRAHeatmap', input_size=(192, 256),
    ...                              heatmap_size=(48, 64), sigma=2))
"""
from fastcodec._backend import (available_backends, get_backend, get_num_threads,  # noqa: F401
                                set_backend, set_num_threads, use_backend)
from fastcodec.codecs import (SPR, AssociativeEmbedding, BaseKeypointCodec, DecoupledHeatmap,  # noqa: F401
                              ImagePoseLifting, IntegralRegressionLabel, MegviiHeatmap,
                              MotionBERTLabel, MSRAHeatmap, RegressionLabel, SimCCLabel,
                              UDPHeatmap, VideoPoseLifting)
from fastcodec.codecs import EDPoseLabel, Hand3DHeatmap, SimCC3DLabel  # noqa: F401
from fastcodec.codecs import YOLOXPoseAnnotationProcessor  # noqa: F401
from fastcodec.registry import CODECS, build, register  # noqa: F401
from fastcodec import ops  # noqa: F401

__version__ = '0.1.0'
