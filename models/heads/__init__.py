from models.heads.heatmap_head import HeatmapHead
from models.heads.simcc_head import RTMCCHead

__all__ = ['HeatmapHead', 'RTMCCHead']
