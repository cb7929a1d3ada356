"""Datasets, transforms, dataset meta and the synthetic data generator."""
from fastcodec.models.data.meta_coco17 import COCO17

__all__ = ["COCO17"]
