"""Max and average pooling over 1, 2 or 3 spatial axes of channels-last input.

Inputs are laid out ``(N, *spatial, C)``. Windows are read as a strided view of the
(padded) input, so pooling is a view plus one reduction, and differentiates through
both. Max pooling pads with -inf and average pooling with 0 (padded zeros count in
the average, as in MLX).

>>> import mlxpy.core as mx
>>> import mlxpy.nn as nn
>>> x = mx.arange(8, dtype=mx.float32).reshape(1, 4, 2)
>>> nn.MaxPool1d(kernel_size=2)(x)
array([[[2, 3],
        [6, 7]]], dtype=float32)
"""
from typing import Optional, Tuple, Union

import mlxpy.core as mx

from .base import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d"]


def _per_axis(value, n, name, where):
    """`value` (an int, or a list/tuple of `n` ints) as a list of `n` ints."""
    plural = "integer" if n == 1 else "integers"
    message = f"[{where}] '{name}' must be an integer or a tuple containing {n} {plural}"
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(message)
        return list(value)
    if not isinstance(value, int):
        raise ValueError(message)
    return [value] * n


def _row_major_strides(shape):
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return strides[::-1]


def _windows(x, window, stride, where):
    """``(N, *out_spatial, *window, C)``: every pooling window of ``(N, *spatial, C)``."""
    if x.ndim < 3:
        raise ValueError(f"[{where}] Pooling needs at least one spatial axis (a 3-D input "
                         f"(N, ..., C)) but the input has {x.ndim} dimensions.")
    spatial = x.shape[1:-1]
    if len(spatial) != len(window):
        raise ValueError(f"[{where}] The input has {len(spatial)} spatial dimensions but "
                         f"the pooling window has {len(window)}; the input layout is "
                         f"(N, *spatial, C).")
    batch, channels = x.shape[0], x.shape[-1]
    if all(w == s and n % w == 0 for n, w, s in zip(spatial, window, stride)):
        # Windows tile the input exactly: a reshape and a transpose give them as a view.
        split = [batch]
        for n, w in zip(spatial, window):
            split += [n // w, w]
        split.append(channels)
        k = len(window)
        order = [0, *range(1, 2 * k, 2), *range(2, 2 * k + 1, 2), 2 * k + 1]
        return mx.transpose(mx.reshape(x, split), order)
    strides = _row_major_strides(x.shape)
    out_spatial = [(n - w) // s + 1 for n, w, s in zip(spatial, window, stride)]
    shape = [batch, *out_spatial, *window, channels]
    view_strides = [strides[0],
                    *(st * s for st, s in zip(strides[1:-1], stride)),
                    *strides[1:-1],
                    strides[-1]]
    return mx.as_strided(x, shape, view_strides)


class _Pool(Module):
    """Shared pooling layer: pad, take windows, reduce them with `_reduce`."""

    _dims = None
    _padding_value = None

    def __init__(self, kernel_size, stride, padding):
        super().__init__()
        where = type(self).__name__
        kernel_size = _per_axis(kernel_size, self._dims, "kernel_size", where)
        stride = kernel_size if stride is None else _per_axis(stride, self._dims, "stride",
                                                              where)
        padding = _per_axis(padding, self._dims, "padding", where)
        for name, values in (("kernel_size", kernel_size), ("stride", stride)):
            if any(v <= 0 for v in values):
                raise ValueError(f"[{where}] '{name}' must be positive but got "
                                 f"{tuple(values)}.")
        if any(p < 0 for p in padding):
            raise ValueError(f"[{where}] 'padding' must be non-negative but got "
                             f"{tuple(padding)}.")
        # Same attribute names and kinds as MLX keeps, so the module's tree matches.
        self._kernel_size = kernel_size
        self._stride = stride
        self._padding = [(p, p) for p in padding]
        self._axes = tuple(range(-self._dims - 1, -1))

    def _extra_repr(self):
        return (f"kernel_size={tuple(self._kernel_size)}, stride={tuple(self._stride)}, "
                f"padding={tuple(p for p, _ in self._padding)}")

    def __call__(self, x):
        if any(p for p, _ in self._padding):
            x = mx.pad(x, [(0, 0), *self._padding, (0, 0)],
                       constant_values=self._padding_value)
        windows = _windows(x, self._kernel_size, self._stride, type(self).__name__)
        return self._reduce(windows, self._axes)


class _MaxPool(_Pool):
    _padding_value = -float("inf")
    _reduce = staticmethod(mx.max)


class _AvgPool(_Pool):
    _padding_value = 0
    _reduce = staticmethod(mx.mean)


class MaxPool1d(_MaxPool):
    """Maximum over sliding windows of the middle axis of ``(N, L, C)`` input.

    `kernel_size`, `stride` (default: `kernel_size`) and `padding` (-inf on both ends)
    are ints or 1-tuples. The output length is ``(L + 2 * padding - kernel_size) //
    stride + 1``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> pool = nn.MaxPool1d(kernel_size=2, stride=1)
    >>> pool
    MaxPool1d(kernel_size=(2,), stride=(1,), padding=(0,))
    >>> pool(mx.array([[[1.0], [3.0], [2.0]]])).shape
    (1, 2, 1)
    """
    _dims = 1

    def __init__(self, kernel_size: Union[int, Tuple[int]],
                 stride: Optional[Union[int, Tuple[int]]] = None,
                 padding: Union[int, Tuple[int]] = 0):
        super().__init__(kernel_size, stride, padding)


class AvgPool1d(_AvgPool):
    """Mean over sliding windows of the middle axis of ``(N, L, C)`` input (zero padding
    counts toward the mean).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.AvgPool1d(kernel_size=2)(mx.array([[[1.0], [3.0], [2.0], [6.0]]]))
    array([[[2],
            [4]]], dtype=float32)
    """
    _dims = 1

    def __init__(self, kernel_size: Union[int, Tuple[int]],
                 stride: Optional[Union[int, Tuple[int]]] = None,
                 padding: Union[int, Tuple[int]] = 0):
        super().__init__(kernel_size, stride, padding)


class MaxPool2d(_MaxPool):
    """Maximum over sliding windows of the two spatial axes of ``(N, H, W, C)`` input.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> x = mx.arange(16, dtype=mx.float32).reshape(1, 4, 4, 1)
    >>> nn.MaxPool2d(kernel_size=2)(x)[0, :, :, 0]
    array([[5, 7],
           [13, 15]], dtype=float32)
    """
    _dims = 2

    def __init__(self, kernel_size: Union[int, Tuple[int, int]],
                 stride: Optional[Union[int, Tuple[int, int]]] = None,
                 padding: Optional[Union[int, Tuple[int, int]]] = 0):
        super().__init__(kernel_size, stride, padding)


class AvgPool2d(_AvgPool):
    """Mean over sliding windows of the two spatial axes of ``(N, H, W, C)`` input.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> x = mx.arange(16, dtype=mx.float32).reshape(1, 4, 4, 1)
    >>> nn.AvgPool2d(kernel_size=2)(x)[0, :, :, 0]
    array([[2.5, 4.5],
           [10.5, 12.5]], dtype=float32)
    """
    _dims = 2

    def __init__(self, kernel_size: Union[int, Tuple[int, int]],
                 stride: Optional[Union[int, Tuple[int, int]]] = None,
                 padding: Optional[Union[int, Tuple[int, int]]] = 0):
        super().__init__(kernel_size, stride, padding)


class MaxPool3d(_MaxPool):
    """Maximum over sliding windows of the three spatial axes of ``(N, D, H, W, C)`` input.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.MaxPool3d(kernel_size=2)(mx.ones((1, 4, 4, 4, 3))).shape
    (1, 2, 2, 2, 3)
    """
    _dims = 3

    def __init__(self, kernel_size: Union[int, Tuple[int, int, int]],
                 stride: Optional[Union[int, Tuple[int, int, int]]] = None,
                 padding: Optional[Union[int, Tuple[int, int, int]]] = 0):
        super().__init__(kernel_size, stride, padding)


class AvgPool3d(_AvgPool):
    """Mean over sliding windows of the three spatial axes of ``(N, D, H, W, C)`` input.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.AvgPool3d(kernel_size=2, stride=1)(mx.ones((1, 3, 3, 3, 1))).shape
    (1, 2, 2, 2, 1)
    """
    _dims = 3

    def __init__(self, kernel_size: Union[int, Tuple[int, int, int]],
                 stride: Optional[Union[int, Tuple[int, int, int]]] = None,
                 padding: Optional[Union[int, Tuple[int, int, int]]] = 0):
        super().__init__(kernel_size, stride, padding)
