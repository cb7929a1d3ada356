from models.backbones.resnet import ResNet  # noqa: F401
