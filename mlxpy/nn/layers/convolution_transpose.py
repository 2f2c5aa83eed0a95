"""Transposed convolution layers over channels-last inputs: `ConvTranspose1d/2d/3d`.

Weights have MLX's layout ``(out_channels, *kernel_size, in_channels)``, drawn from
``U(-s, s)`` with ``s = 1 / sqrt(in_channels * prod(kernel_size))``; biases start at zero.
"""
from .convolution import _ConvLayer, _per_axis

__all__ = ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_TRANSPOSE_SETTINGS = ("stride", "padding", "dilation", "output_padding")


class _ConvTransposeLayer(_ConvLayer):
    """Shared constructor: ints become one value per axis (except in 1-D, and except
    `dilation`, which MLX keeps as given), then the weight is drawn."""

    _settings = _TRANSPOSE_SETTINGS

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 output_padding=0, bias=True):
        super().__init__()
        if self._spatial_dims > 1:
            kernel_size, stride, padding, output_padding = (
                _per_axis(v, self._spatial_dims)
                for v in (kernel_size, stride, padding, output_padding))
        self._init_params(in_channels, out_channels, kernel_size, 1, bias)
        self.padding = padding
        self.stride = stride
        self.dilation = dilation
        self.output_padding = output_padding


class ConvTranspose1d(_ConvTransposeLayer):
    """A 1-D transposed convolution over inputs of shape ``(N, L, C_in)``.

    Args:
        in_channels (int): input channels ``C_in``.
        out_channels (int): output channels.
        kernel_size (int): filter length.
        stride, padding, dilation, output_padding (int): as in `mx.conv_transpose1d`.
            Defaults 1, 0, 1, 0.
        bias (bool): learn a bias. Default ``True``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> up = nn.ConvTranspose1d(4, 2, kernel_size=3, stride=2, output_padding=1)
    >>> up.weight.shape
    (2, 3, 4)
    >>> up(mx.zeros((1, 5, 4))).shape
    (1, 12, 2)
    """

    _op_name = "conv_transpose1d"
    _spatial_dims = 1


class ConvTranspose2d(_ConvTransposeLayer):
    """A 2-D transposed convolution over inputs of shape ``(N, H, W, C_in)``.

    Args:
        in_channels (int): input channels ``C_in``.
        out_channels (int): output channels.
        kernel_size (int or tuple): filter size, one int for both axes or one per axis.
        stride, padding, dilation, output_padding (int or tuple): as in
            `mx.conv_transpose2d`. Defaults 1, 0, 1, 0.
        bias (bool): learn a bias. Default ``True``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> up = nn.ConvTranspose2d(3, 6, kernel_size=2, stride=2)
    >>> up(mx.zeros((1, 4, 4, 3))).shape
    (1, 8, 8, 6)
    """

    _op_name = "conv_transpose2d"
    _spatial_dims = 2


class ConvTranspose3d(_ConvTransposeLayer):
    """A 3-D transposed convolution over inputs of shape ``(N, D, H, W, C_in)``.

    Args:
        in_channels (int): input channels ``C_in``.
        out_channels (int): output channels.
        kernel_size (int or tuple): filter size, one int for all axes or one per axis.
        stride, padding, dilation, output_padding (int or tuple): as in
            `mx.conv_transpose3d`. Defaults 1, 0, 1, 0.
        bias (bool): learn a bias. Default ``True``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> up = nn.ConvTranspose3d(2, 1, kernel_size=(1, 2, 3))
    >>> up.weight.shape
    (1, 1, 2, 3, 2)
    >>> up(mx.zeros((1, 2, 2, 2, 2))).shape
    (1, 2, 3, 4, 1)
    """

    _op_name = "conv_transpose3d"
    _spatial_dims = 3
