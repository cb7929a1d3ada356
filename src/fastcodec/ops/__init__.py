"""Array-level functions with the signatures of ``mmpose.codecs.utils``."""
from fastcodec.ops.heatmap import (gaussian_blur, generate_gaussian_heatmaps,  # noqa: F401
                                   generate_offset_heatmap,
                                   generate_udp_gaussian_heatmaps,
                                   generate_unbiased_gaussian_heatmaps,
                                   get_heatmap_maximum, refine_keypoints,
                                   refine_keypoints_dark, refine_keypoints_dark_udp)
from fastcodec.ops.simcc import get_simcc_maximum, get_simcc_normalized, refine_simcc_dark  # noqa: F401,E402
