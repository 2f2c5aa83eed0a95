"""Affine layers: `Identity`, `Linear`, `Bilinear`."""
import math

import mlxpy.core as mx

from .base import Module

__all__ = ["Identity", "Linear", "Bilinear"]


def _uniform_init(bound, shape):
    # MLX draws U(-bound, bound) from the global key, weight first and bias second; the same
    # calls in the same order give the same parameters after the same `mx.random.seed`.
    return mx.random.uniform(low=-bound, high=bound, shape=shape)


class Identity(Module):
    """Returns its input; any constructor arguments are ignored.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Identity(8, bias=False)(mx.array([1, 2]))
    array([1, 2], dtype=int32)
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def __call__(self, x):
        return x


class Linear(Module):
    """`y = x @ weight.T + bias` with `weight` of shape `(output_dims, input_dims)`.

    Weight and bias start uniform in `[-k, k]`, `k = 1 / sqrt(input_dims)`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> layer = nn.Linear(3, 2, bias=False)
    >>> layer
    Linear(input_dims=3, output_dims=2, bias=False)
    >>> layer(mx.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(self, input_dims, output_dims, bias=True):
        super().__init__()
        bound = math.sqrt(1.0 / input_dims)
        self.weight = _uniform_init(bound, (output_dims, input_dims))
        if bias:
            self.bias = _uniform_init(bound, (output_dims,))

    def _extra_repr(self):
        output_dims, input_dims = self.weight.shape
        return f"input_dims={input_dims}, output_dims={output_dims}, bias={'bias' in self}"

    def __call__(self, x):
        if "bias" in self:
            return mx.addmm(self["bias"], x, self["weight"].T)
        return x @ self["weight"].T


class Bilinear(Module):
    """`y[..., i] = x2 @ weight[i] @ x1 + bias[i]` with `weight` of shape
    `(output_dims, input2_dims, input1_dims)`.

    Weight and bias start uniform in `[-k, k]`, `k = 1 / sqrt(input1_dims)`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> layer = nn.Bilinear(3, 4, 5)
    >>> layer(mx.ones((2, 3)), mx.ones((2, 4))).shape
    (2, 5)
    """

    def __init__(self, input1_dims, input2_dims, output_dims, bias=True):
        super().__init__()
        bound = math.sqrt(1.0 / input1_dims)
        self.weight = _uniform_init(bound, (output_dims, input2_dims, input1_dims))
        if bias:
            self.bias = _uniform_init(bound, (output_dims,))

    def _extra_repr(self):
        output_dims, input2_dims, input1_dims = self.weight.shape
        return (f"input1_dims={input1_dims}, input2_dims={input2_dims}, "
                f"output_dims={output_dims}, bias={'bias' in self}")

    def __call__(self, x1, x2):
        output_dims, input2_dims, input1_dims = self.weight.shape
        batch_shape = x1.shape[:-1]
        # Contract x1 against all (output, input2) rows at once, then x2 against input2.
        x1 = x1.reshape(-1, input1_dims)
        x2 = x2.reshape(-1, 1, input2_dims)
        partial = x1 @ self.weight.reshape(output_dims * input2_dims, input1_dims).T
        partial = partial.reshape(-1, output_dims, input2_dims).swapaxes(-2, -1)
        y = (x2 @ partial).squeeze(1).reshape(*batch_shape, output_dims)
        if "bias" in self:
            y = y + self.bias
        return y
