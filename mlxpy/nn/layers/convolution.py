"""Convolution layers over channels-last inputs: `Conv1d` (NLC), `Conv2d` (NHWC), `Conv3d`
(NDHWC).

Weights have MLX's layout ``(out_channels, *kernel_size, in_channels // groups)`` and are
drawn from ``U(-s, s)`` with ``s = 1 / sqrt(fan_in)``; biases start at zero.
"""
import math

from ... import core as mx
from .base import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d"]


def _per_axis(value, spatial_dims):
    """An int repeated once per spatial axis; sequences pass through as given (MLX keeps
    them as the user wrote them, which its reprs show)."""
    return (value,) * spatial_dims if isinstance(value, int) else value


def _check_groups(name, in_channels, groups):
    if in_channels % groups != 0:
        raise ValueError(f"[{name}] The number of input channels ({in_channels}) must be "
                         f"divisible by the number of groups ({groups}).")


class _ConvLayer(Module):
    """What every (transposed) convolution layer shares: weight init, bias, repr, call.

    Subclasses set `_op_name` (the `mx` function they call), `_spatial_dims`, and
    `_settings`: the names, in repr order, of the keyword settings passed on to that op.
    """

    _op_name = ""
    _spatial_dims = 1
    _settings = ()

    def _init_params(self, in_channels, out_channels, kernel_size, groups, bias):
        """Draw the weight and zero the bias; `kernel_size` is an int or one per axis."""
        kernel = (kernel_size,) if self._spatial_dims == 1 else tuple(kernel_size)
        bound = math.sqrt(1 / (in_channels // groups * math.prod(kernel)))
        self.weight = mx.random.uniform(low=-bound, high=bound,
                                        shape=(out_channels, *kernel, in_channels // groups))
        if bias:
            self.bias = mx.zeros((out_channels,))

    def _extra_repr(self):
        kernel = self.weight.shape[1:1 + self._spatial_dims]
        if self._spatial_dims == 1:
            kernel = kernel[0]
        in_channels = self.weight.shape[-1] * getattr(self, "groups", 1)
        settings = "".join(f"{name}={getattr(self, name)}, " for name in self._settings)
        return (f"{in_channels}, {self.weight.shape[0]}, kernel_size={kernel}, {settings}"
                f"bias={'bias' in self}")

    def __call__(self, x):
        op = getattr(mx, self._op_name)
        y = op(x, self.weight, **{name: getattr(self, name) for name in self._settings})
        if "bias" in self:
            y = y + self.bias
        return y


class Conv1d(_ConvLayer):
    """A 1-D convolution over inputs of shape ``(N, L, C_in)``.

    Args:
        in_channels (int): input channels ``C_in``.
        out_channels (int): output channels.
        kernel_size (int): filter length.
        stride, padding, dilation (int): as in `mx.conv1d`. Defaults 1, 0, 1.
        groups (int): channel groups; must divide ``in_channels``. Default 1.
        bias (bool): learn a bias. Default ``True``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> conv = nn.Conv1d(2, 4, kernel_size=3, padding=1)
    >>> conv.weight.shape
    (4, 3, 2)
    >>> conv(mx.zeros((1, 10, 2))).shape
    (1, 10, 4)
    """

    _op_name = "conv1d"
    _spatial_dims = 1
    _settings = ("stride", "padding", "dilation", "groups")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True):
        super().__init__()
        _check_groups("Conv1d", in_channels, groups)
        self._init_params(in_channels, out_channels, kernel_size, groups, bias)
        self.padding = padding
        self.dilation = dilation
        self.stride = stride
        self.groups = groups


class Conv2d(_ConvLayer):
    """A 2-D convolution over inputs of shape ``(N, H, W, C_in)``.

    Args:
        in_channels (int): input channels ``C_in``.
        out_channels (int): output channels.
        kernel_size (int or tuple): filter size, one int for both axes or one per axis.
        stride, padding, dilation (int or tuple): as in `mx.conv2d`. Defaults 1, 0, 1.
        groups (int): channel groups; must divide ``in_channels``. Default 1.
        bias (bool): learn a bias. Default ``True``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> conv = nn.Conv2d(3, 8, kernel_size=(3, 5), stride=2)
    >>> conv.weight.shape
    (8, 3, 5, 3)
    >>> conv(mx.zeros((1, 9, 9, 3))).shape
    (1, 4, 3, 8)
    """

    _op_name = "conv2d"
    _spatial_dims = 2
    _settings = ("stride", "padding", "dilation", "groups")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True):
        super().__init__()
        _check_groups("Conv2d", in_channels, groups)
        kernel_size, stride, padding = (_per_axis(v, 2) for v in (kernel_size, stride, padding))
        self._init_params(in_channels, out_channels, kernel_size, groups, bias)
        self.padding = padding
        self.stride = stride
        self.dilation = dilation
        self.groups = groups


class Conv3d(_ConvLayer):
    """A 3-D convolution over inputs of shape ``(N, D, H, W, C_in)``.

    Args:
        in_channels (int): input channels ``C_in``.
        out_channels (int): output channels.
        kernel_size (int or tuple): filter size, one int for all axes or one per axis.
        stride, padding, dilation (int or tuple): as in `mx.conv3d`. Defaults 1, 0, 1.
        bias (bool): learn a bias. Default ``True``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> conv = nn.Conv3d(2, 4, kernel_size=3, padding=1)
    >>> conv.weight.shape
    (4, 3, 3, 3, 2)
    >>> conv(mx.zeros((1, 5, 5, 5, 2))).shape
    (1, 5, 5, 5, 4)
    """

    _op_name = "conv3d"
    _spatial_dims = 3
    _settings = ("stride", "padding", "dilation")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 bias=True):
        super().__init__()
        kernel_size, stride, padding = (_per_axis(v, 3) for v in (kernel_size, stride, padding))
        self._init_params(in_channels, out_channels, kernel_size, 1, bias)
        self.padding = padding
        self.stride = stride
        self.dilation = dilation
