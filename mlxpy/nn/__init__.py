"""mlxpy.nn: neural-network modules, losses and initializers with MLX's API.

>>> import mlxpy.core as mx
>>> import mlxpy.nn as nn
>>> layer = nn.Linear(3, 2)
>>> layer(mx.ones((4, 3))).shape
(4, 2)
"""
from . import init, layers, losses
from .layers import *  # noqa: F401,F403
# MLX's nn namespace also holds its layer modules (nn.activations, nn.base, ...).
from .layers import (activations, base, containers, convolution, convolution_transpose,  # noqa: F401
                     dropout, embedding, linear, normalization, pooling, positional_encoding,
                     recurrent, transformer, upsample)
from .layers import __all__ as _layer_names
from .utils import average_gradients, value_and_grad

__all__ = ["init", "losses", "value_and_grad", "average_gradients", *_layer_names]
