from fastcodec.models.heads.dekr_head import DEKRHead
from fastcodec.models.heads.heatmap_head import HeatmapHead
from fastcodec.models.heads.regression_head import IntegralRegressionHead, RegressionHead
from fastcodec.models.heads.simcc_head import RTMCCHead

__all__ = ['DEKRHead', 'HeatmapHead', 'IntegralRegressionHead', 'RegressionHead', 'RTMCCHead']
