from models.heads.heatmap_head import HeatmapHead  # noqa: F401
from models.heads.simcc_head import RTMCCHead  # noqa: F401
