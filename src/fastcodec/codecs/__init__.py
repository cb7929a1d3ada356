"""One module per codec; each class mirrors MMPose 1.3.2's codec of the same name."""
from fastcodec.codecs.base import BaseKeypointCodec  # noqa: F401
from fastcodec.codecs.megvii_heatmap import MegviiHeatmap  # noqa: F401
from fastcodec.codecs.msra_heatmap import MSRAHeatmap  # noqa: F401
from fastcodec.codecs.udp_heatmap import UDPHeatmap  # noqa: F401
from fastcodec.codecs.regression_label import RegressionLabel  # noqa: F401
from fastcodec.codecs.integral_regression_label import IntegralRegressionLabel  # noqa: F401
from fastcodec.codecs.simcc_label import SimCCLabel  # noqa: F401
from fastcodec.codecs.spr import SPR  # noqa: F401
from fastcodec.codecs.image_pose_lifting import ImagePoseLifting  # noqa: F401
from fastcodec.codecs.video_pose_lifting import VideoPoseLifting  # noqa: F401
from fastcodec.codecs.motionbert_label import MotionBERTLabel  # noqa: F401
from fastcodec.codecs.decoupled_heatmap import DecoupledHeatmap  # noqa: F401
from fastcodec.codecs.hand_3d_heatmap import Hand3DHeatmap  # noqa: F401
from fastcodec.codecs.simcc_3d_label import SimCC3DLabel  # noqa: F401
from fastcodec.codecs.edpose_label import EDPoseLabel  # noqa: F401
from fastcodec.codecs.annotation_processors import YOLOXPoseAnnotationProcessor  # noqa: F401
from fastcodec.codecs.associative_embedding import AssociativeEmbedding  # noqa: F401
