from fastcodec.models.backbones.resnet import ResNet

__all__ = ['ResNet']
