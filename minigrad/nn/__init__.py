"""``minigrad.nn``: modules, layers, losses, and their functional forms.

    from minigrad import nn
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)
"""

from minigrad.nn import functional, init, utils
from minigrad.nn.layers import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    BatchNorm1d,
    Dropout,
    Embedding,
    Flatten,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
    Tanhshrink,
)
from minigrad.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from minigrad.nn.module import IncompatibleKeys, Module, ModuleList, Parameter, Sequential

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "IncompatibleKeys",
    "Linear", "Identity", "Flatten", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "GELU",
    "Softmax", "LogSoftmax", "SiLU", "Mish", "ELU", "CELU", "SELU", "Hardtanh", "ReLU6",
    "Hardsigmoid", "Hardswish", "Softplus", "Softsign", "LogSigmoid", "Tanhshrink", "Softmin",
    "GLU", "PReLU", "Dropout", "LayerNorm", "BatchNorm1d", "Embedding",
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss",
    "BCELoss", "BCEWithLogitsLoss",
    "functional", "init", "utils",
]

# Layers for images (SPEC §11): convolutions, pooling, BatchNorm2d, Dropout2d, Unfold, Fold.
from minigrad.nn.conv import (  # noqa: E402
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    Dropout2d,
    Fold,
    MaxPool2d,
    Unfold,
)

__all__ += [
    "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d", "BatchNorm2d", "Dropout2d", "Unfold", "Fold",
]
