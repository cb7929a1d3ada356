from models.heads.dekr_head import DEKRHead
from models.heads.heatmap_head import HeatmapHead
from models.heads.regression_head import IntegralRegressionHead, RegressionHead
from models.heads.simcc_head import RTMCCHead

__all__ = ['DEKRHead', 'HeatmapHead', 'IntegralRegressionHead', 'RegressionHead', 'RTMCCHead']
