"""Activation functions and their parameter-free (or nearly so) module forms.

The element-wise functions are compiled with ``shapeless=True``, as MLX does, so a call
fuses into one node and one trace serves every input shape of a given rank. Under
``grad``, ``vmap`` or an outer ``compile`` a compiled function runs as plain ops, so
every transform sees the ordinary graph.

>>> import mlxpy.core as mx
>>> import mlxpy.nn as nn
>>> nn.relu(mx.array([-1.0, 2.0]))
array([0, 2], dtype=float32)
>>> nn.GELU(approx="tanh")(mx.array([1.0]))
array([0.841192], dtype=float32)
"""
import math
from functools import partial

import mlxpy.core as mx

from .base import Module

__all__ = [
    "celu", "elu", "gelu", "gelu_approx", "gelu_fast_approx", "glu", "hard_shrink",
    "hard_tanh", "hardswish", "leaky_relu", "log_sigmoid", "log_softmax", "mish", "prelu",
    "relu", "relu2", "relu6", "selu", "sigmoid", "silu", "softmax", "softmin", "softplus",
    "softshrink", "softsign", "step", "tanh",
    "CELU", "ELU", "GELU", "GLU", "HardShrink", "HardTanh", "Hardswish", "LeakyReLU",
    "LogSigmoid", "LogSoftmax", "Mish", "PReLU", "ReLU", "ReLU2", "ReLU6", "SELU", "SiLU",
    "Sigmoid", "Softmax", "Softmin", "Softplus", "Softshrink", "Softsign", "Step", "Tanh",
]

_fused = partial(mx.compile, shapeless=True)

# Fixed SELU constants, rounded as MLX rounds them (so outputs agree to the last bit).
_SELU_ALPHA = 1.67326
_SELU_SCALE = 1.0507


# -- functions ---------------------------------------------------------------------------

@_fused
def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.sigmoid(mx.array([0.0]))
    array([0.5], dtype=float32)
    """
    return mx.sigmoid(x)


@_fused
def relu(x):
    """Rectified linear unit: ``max(x, 0)``. Its gradient at exactly 0 is 0.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.relu(mx.array([-2.0, 0.0, 3.0]))
    array([0, 0, 3], dtype=float32)
    """
    return mx.maximum(x, 0)


@_fused
def relu2(x):
    """Squared ReLU: ``max(x, 0) ** 2``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.relu2(mx.array([-2.0, 3.0]))
    array([0, 9], dtype=float32)
    """
    return mx.square(mx.maximum(x, 0))


@_fused
def relu6(x):
    """ReLU capped at 6: ``min(max(x, 0), 6)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.relu6(mx.array([-1.0, 3.0, 9.0]))
    array([0, 3, 6], dtype=float32)
    """
    return mx.minimum(mx.maximum(x, 0), 6.0)


@_fused
def leaky_relu(x, negative_slope=0.01):
    """Leaky ReLU: ``max(negative_slope * x, x)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.leaky_relu(mx.array([-2.0, 2.0]), negative_slope=0.5)
    array([-1, 2], dtype=float32)
    """
    return mx.maximum(negative_slope * x, x)


@_fused
def log_softmax(x, axis=-1):
    """``x - logsumexp(x)`` along `axis`, shifted by the (gradient-free) maximum first.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.log_softmax(mx.array([0.0, 0.0]))
    array([-0.693147, -0.693147], dtype=float32)
    """
    shifted = x - mx.stop_gradient(mx.max(x, axis=axis, keepdims=True))
    return shifted - mx.logsumexp(shifted, axis=axis, keepdims=True)


@_fused
def elu(x, alpha=1.0):
    """Exponential linear unit: `x` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.elu(mx.array([-1.0, 2.0]))
    array([-0.632121, 2], dtype=float32)
    """
    return mx.where(x > 0, x, alpha * (mx.exp(x) - 1))


@_fused
def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along `axis`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.softmax(mx.array([1.0, 1.0]))
    array([0.5, 0.5], dtype=float32)
    """
    return mx.softmax(x, axis=axis)


@_fused
def softplus(x):
    """``log(1 + exp(x))``, computed stably as ``logaddexp(x, 0)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.softplus(mx.array([0.0]))
    array([0.693147], dtype=float32)
    """
    return mx.logaddexp(x, 0)


@_fused
def softsign(x):
    """``x / (1 + |x|)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.softsign(mx.array([-3.0, 1.0]))
    array([-0.75, 0.5], dtype=float32)
    """
    return mx.divide(x, 1 + mx.abs(x))


@_fused
def softshrink(x, lambd: float = 0.5):
    """Shrinks toward zero by `lambd`: ``x - sign(x) * lambd`` where ``|x| > lambd``, else 0.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.softshrink(mx.array([-2.0, 0.25, 1.0]))
    array([-1.5, 0, 0.5], dtype=float32)
    """
    return mx.where(mx.abs(x) > lambd, x - mx.sign(x) * lambd, 0)


@_fused
def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.celu(mx.array([-1.0, 2.0]), alpha=2.0)
    array([-0.786939, 2], dtype=float32)
    """
    return mx.maximum(x, 0.0) + alpha * (mx.exp(mx.minimum(x, 0.0) / alpha) - 1)


@_fused
def silu(x):
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.silu(mx.array([0.0, 1.0]))
    array([0, 0.731059], dtype=float32)
    """
    return x * mx.sigmoid(x)


@_fused
def log_sigmoid(x):
    """``log(sigmoid(x))``, computed stably as ``-softplus(-x)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.log_sigmoid(mx.array([0.0]))
    array([-0.693147], dtype=float32)
    """
    return -softplus(-x)


@_fused
def gelu(x):
    """Exact Gaussian error linear unit ``x * Phi(x)``, with Phi the normal CDF.

    See `gelu_approx` and `gelu_fast_approx` for the cheaper approximations.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.gelu(mx.array([-1.0, 1.0]))
    array([-0.158655, 0.841345], dtype=float32)
    """
    return x * (1 + mx.erf(x / math.sqrt(2))) / 2


@_fused
def gelu_approx(x):
    """GELU by the tanh formula
    ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x ** 3)))``
    (absolute error below 0.0005 on [-6, 6]).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.gelu_approx(mx.array([1.0]))
    array([0.841192], dtype=float32)
    """
    return 0.5 * x * (1 + mx.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


@_fused
def gelu_fast_approx(x):
    """GELU by the sigmoid formula ``x * sigmoid(1.702 * x)``
    (absolute error below 0.015 on [-6, 6]).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.gelu_fast_approx(mx.array([1.0]))
    array([0.845796], dtype=float32)
    """
    return x * mx.sigmoid(1.702 * x)


def glu(x, axis: int = -1):
    """Gated linear unit: splits `axis` into halves ``a, b`` and returns ``a * sigmoid(b)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.glu(mx.array([[2.0, 4.0, 0.0, 0.0]]))
    array([[1, 2]], dtype=float32)
    """
    gated, gate = mx.split(x, 2, axis=axis)
    return gated * mx.sigmoid(gate)


@_fused
def step(x, threshold: float = 0.0):
    """Binary step: 1 where ``x >= threshold``, else 0 (an int32 result).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.step(mx.array([-1.0, 0.0, 2.0]))
    array([0, 1, 1], dtype=int32)
    """
    return mx.where(x >= threshold, 1, 0)


@_fused
def selu(x):
    """Scaled ELU: ``1.0507 * elu(x, alpha=1.67326)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.selu(mx.array([-1.0, 1.0]))
    array([-1.11133, 1.0507], dtype=float32)
    """
    return elu(x, _SELU_ALPHA) * _SELU_SCALE


@_fused
def prelu(x, alpha):
    """Parametric ReLU: ``max(0, x) + alpha * min(0, x)``, `alpha` an array.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.prelu(mx.array([-2.0, 2.0]), mx.array([0.5]))
    array([-1, 2], dtype=float32)
    """
    return mx.maximum(0, x) + alpha * mx.minimum(0, x)


@_fused
def mish(x):
    """Mish: ``x * tanh(softplus(x))`` (https://arxiv.org/abs/1908.08681).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.mish(mx.array([1.0]))
    array([0.865098], dtype=float32)
    """
    return x * mx.tanh(softplus(x))


@_fused
def hardswish(x):
    """Hard swish: ``x * min(max(x + 3, 0), 6) / 6``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.hardswish(mx.array([-4.0, 0.0, 3.0]))
    array([-0, 0, 3], dtype=float32)
    """
    return x * mx.minimum(mx.maximum(x + 3, 0), 6) / 6


@_fused
def hard_tanh(x, min_val=-1.0, max_val=1.0):
    """`x` clamped to ``[min_val, max_val]``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.hard_tanh(mx.array([-3.0, 0.5, 3.0]))
    array([-1, 0.5, 1], dtype=float32)
    """
    return mx.minimum(mx.maximum(x, min_val), max_val)


@_fused
def hard_shrink(x, lambd=0.5):
    """`x` where ``|x| > lambd``, else 0.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.hard_shrink(mx.array([-2.0, 0.25, 1.0]))
    array([-2, 0, 1], dtype=float32)
    """
    return mx.where(mx.abs(x) > lambd, x, 0)


@_fused
def softmin(x, axis=-1):
    """``softmax(-x)`` along `axis`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.softmin(mx.array([0.0, 0.0]))
    array([0.5, 0.5], dtype=float32)
    """
    return mx.softmax(-x, axis=axis)


def tanh(x):
    """Hyperbolic tangent, the same as ``mx.tanh``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.tanh(mx.array([0.0]))
    array([0], dtype=float32)
    """
    return mx.tanh(x)


# -- modules -----------------------------------------------------------------------------

class _Elementwise(Module):
    """A parameter-free module that applies its class's `_function` to the input."""

    _function = None

    def __call__(self, x):
        return self._function(x)


class Sigmoid(_Elementwise):
    """Applies `sigmoid` element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Sigmoid()(mx.array([0.0]))
    array([0.5], dtype=float32)
    """

    _function = staticmethod(sigmoid)


class Mish(_Elementwise):
    """Applies `mish` element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Mish()(mx.array([0.0]))
    array([0], dtype=float32)
    """

    _function = staticmethod(mish)


class ReLU(_Elementwise):
    """Applies `relu` element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.ReLU()(mx.array([-1.0, 1.0]))
    array([0, 1], dtype=float32)
    """

    _function = staticmethod(relu)


class ReLU2(_Elementwise):
    """Applies `relu2` (squared ReLU) element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.ReLU2()(mx.array([-1.0, 2.0]))
    array([0, 4], dtype=float32)
    """

    _function = staticmethod(relu2)


class ReLU6(_Elementwise):
    """Applies `relu6` element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.ReLU6()(mx.array([-1.0, 8.0]))
    array([0, 6], dtype=float32)
    """

    _function = staticmethod(relu6)


class Softmax(_Elementwise):
    """Applies `softmax` over the last axis.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Softmax()(mx.array([0.0, 0.0]))
    array([0.5, 0.5], dtype=float32)
    """

    _function = staticmethod(softmax)


class Softplus(_Elementwise):
    """Applies `softplus` element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Softplus()(mx.array([0.0]))
    array([0.693147], dtype=float32)
    """

    _function = staticmethod(softplus)


class Softsign(_Elementwise):
    """Applies `softsign` element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Softsign()(mx.array([1.0]))
    array([0.5], dtype=float32)
    """

    _function = staticmethod(softsign)


class SiLU(_Elementwise):
    """Applies `silu` (swish) element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.SiLU()(mx.array([0.0]))
    array([0], dtype=float32)
    """

    _function = staticmethod(silu)


class LogSoftmax(_Elementwise):
    """Applies `log_softmax` over the last axis.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.LogSoftmax()(mx.array([0.0, 0.0]))
    array([-0.693147, -0.693147], dtype=float32)
    """

    _function = staticmethod(log_softmax)


class LogSigmoid(_Elementwise):
    """Applies `log_sigmoid` element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.LogSigmoid()(mx.array([0.0]))
    array([-0.693147], dtype=float32)
    """

    _function = staticmethod(log_sigmoid)


class Tanh(_Elementwise):
    """Applies `tanh` element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Tanh()(mx.array([0.0]))
    array([0], dtype=float32)
    """

    _function = staticmethod(tanh)


class Hardswish(_Elementwise):
    """Applies `hardswish` element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Hardswish()(mx.array([3.0]))
    array([3], dtype=float32)
    """

    _function = staticmethod(hardswish)


class SELU(_Elementwise):
    """Applies `selu` element-wise.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.SELU()(mx.array([1.0]))
    array([1.0507], dtype=float32)
    """

    _function = staticmethod(selu)


class HardTanh(_Elementwise):
    """Applies `hard_tanh` with its default bounds [-1, 1].

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.HardTanh()(mx.array([-5.0, 5.0]))
    array([-1, 1], dtype=float32)
    """

    _function = staticmethod(hard_tanh)


class Softmin(_Elementwise):
    """Applies `softmin` over the last axis.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Softmin()(mx.array([0.0, 0.0]))
    array([0.5, 0.5], dtype=float32)
    """

    _function = staticmethod(softmin)


class GLU(Module):
    """Applies `glu` along `axis` (default -1).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.GLU()(mx.array([2.0, 0.0]))
    array([1], dtype=float32)
    """

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = axis

    def __call__(self, x):
        return glu(x=x, axis=self.axis)


class LeakyReLU(Module):
    """Applies `leaky_relu` with slope `negative_slope` (default 0.01) below zero.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.LeakyReLU(0.1)(mx.array([-10.0, 1.0]))
    array([-1, 1], dtype=float32)
    """

    def __init__(self, negative_slope=1e-2):
        super().__init__()
        self._negative_slope = negative_slope

    def __call__(self, x):
        return leaky_relu(x, self._negative_slope)


class ELU(Module):
    """Applies `elu` with the given `alpha` (default 1.0).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.ELU(alpha=2.0)(mx.array([-1.0, 1.0]))
    array([-1.26424, 1], dtype=float32)
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self._alpha = alpha

    def __call__(self, x):
        return elu(x, self._alpha)


class CELU(Module):
    """Applies `celu` with the given `alpha` (default 1.0).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.CELU()(mx.array([-1.0, 1.0]))
    array([-0.632121, 1], dtype=float32)
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self._alpha = alpha

    def __call__(self, x):
        return celu(x, self._alpha)


class Softshrink(Module):
    """Applies `softshrink` with threshold `lambd` (default 0.5).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Softshrink(1.0)(mx.array([-3.0, 0.5, 3.0]))
    array([-2, 0, 2], dtype=float32)
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def __call__(self, x):
        return softshrink(x, self.lambd)


class HardShrink(Module):
    """Applies `hard_shrink` with threshold `lambd` (default 0.5).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.HardShrink(1.0)(mx.array([-3.0, 0.5, 3.0]))
    array([-3, 0, 3], dtype=float32)
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def __call__(self, x):
        return hard_shrink(x, self.lambd)


class Step(Module):
    """Applies `step`: 1 where ``x >= threshold`` (default 0.0), else 0.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Step(1.0)(mx.array([0.0, 1.0]))
    array([0, 1], dtype=int32)
    """

    def __init__(self, threshold: float = 0.0):
        super().__init__()
        self.threshold = threshold

    def __call__(self, x):
        return step(x, self.threshold)


class PReLU(Module):
    """Applies `prelu` with a learned slope `weight` of `num_parameters` entries (each
    starting at `init`), broadcast against the input's last axis.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> layer = nn.PReLU(num_parameters=2, init=0.5)
    >>> layer.weight
    array([0.5, 0.5], dtype=float32)
    >>> layer(mx.array([[-2.0, 2.0]]))
    array([[-1, 2]], dtype=float32)
    """

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.weight = mx.full([num_parameters], init)

    def __call__(self, x):
        return prelu(x, self.weight)


_GELU_FORMS = {"none": gelu, "precise": gelu_approx, "tanh": gelu_approx,
               "fast": gelu_fast_approx}


class GELU(Module):
    """Applies GELU: exactly (`approx='none'`), by the tanh formula (`'precise'`, or its
    PyTorch name `'tanh'`; see `gelu_approx`) or by the sigmoid formula (`'fast'`; see
    `gelu_fast_approx`).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.GELU()(mx.array([1.0]))
    array([0.841345], dtype=float32)
    >>> nn.GELU(approx="fast")(mx.array([1.0]))
    array([0.845796], dtype=float32)
    """

    def __init__(self, approx="none"):
        super().__init__()
        self._approx = approx
        if approx not in _GELU_FORMS:
            raise ValueError(f"[GELU] The approximation should be in {list(_GELU_FORMS)} "
                             f"but '{approx}' was given.")

    def __call__(self, x):
        return _GELU_FORMS[self._approx](x)
