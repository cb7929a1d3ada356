from models.heads.heatmap_head import HeatmapHead
from models.heads.regression_head import IntegralRegressionHead, RegressionHead
from models.heads.simcc_head import RTMCCHead

__all__ = ['HeatmapHead', 'IntegralRegressionHead', 'RegressionHead', 'RTMCCHead']
