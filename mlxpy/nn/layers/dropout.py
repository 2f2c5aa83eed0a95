"""Dropout: elementwise (`Dropout`) and whole channels (`Dropout2d`, `Dropout3d`)."""
import mlxpy.core as mx

from .base import Module

__all__ = ["Dropout", "Dropout2d", "Dropout3d"]


class _DropoutBase(Module):
    """Zeroes entries with probability `p` in training mode and scales the kept ones by
    `1 / (1 - p)`; the identity in evaluation mode. Subclasses choose the mask's shape."""

    def __init__(self, p=0.5):
        super().__init__()
        if p < 0 or p >= 1:
            raise ValueError(f"[{type(self).__name__}] The dropout probability {p} is not in "
                             "[0, 1).")
        self._p_1 = 1 - p

    def _extra_repr(self):
        # Stated as MLX states it: 1 - (1 - p), which need not print as p.
        return f"p={1 - self._p_1}"

    def _mask_shape(self, x):
        return x.shape

    def __call__(self, x):
        mask_shape = self._mask_shape(x)
        if self._p_1 == 1 or not self.training:
            return x
        # One Bernoulli draw of the mask's shape, like MLX, so a seed gives MLX's mask.
        keep = mx.random.bernoulli(p=self._p_1, shape=mask_shape)
        return (keep * x) * (1 / self._p_1)


class Dropout(_DropoutBase):
    """Zeroes each element with probability `p` during training and scales the rest by
    `1 / (1 - p)`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> drop = nn.Dropout(0.5)
    >>> drop.eval()(mx.ones((3,)))
    array([1, 1, 1], dtype=float32)
    >>> drop
    Dropout(p=0.5)
    """


class _ChannelDropout(_DropoutBase):
    _spatial_dims = 0

    def _mask_shape(self, x):
        allowed = (self._spatial_dims + 1, self._spatial_dims + 2)
        if x.ndim not in allowed:
            raise ValueError(f"[{type(self).__name__}] Received input with {x.ndim} dimensions. "
                             f"Expected {allowed[0]} or {allowed[1]} dimensions.")
        # Channels last: one draw per (batch, channel), broadcast over the spatial axes.
        shape = list(x.shape)
        shape[-1 - self._spatial_dims:-1] = [1] * self._spatial_dims
        return shape


class Dropout2d(_ChannelDropout):
    """Zeroes whole channels of `NHWC` or `HWC` inputs with probability `p` during training
    and scales the rest by `1 / (1 - p)`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> y = nn.Dropout2d(0.5)(mx.ones((2, 4, 4, 3)))
    >>> bool(((y == 0) | (y == 2)).all())
    True
    """
    _spatial_dims = 2


class Dropout3d(_ChannelDropout):
    """Zeroes whole channels of `NDHWC` or `DHWC` inputs with probability `p` during training
    and scales the rest by `1 / (1 - p)`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.Dropout3d(0.25).eval()(mx.ones((2, 2, 2, 2, 3))).shape
    (2, 2, 2, 2, 3)
    """
    _spatial_dims = 3
