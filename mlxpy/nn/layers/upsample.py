"""Resampling of the spatial axes of channels-last input ``(N, *spatial, C)``.

Each output position ``j`` along an axis of size ``n`` (``m = int(scale * n)`` outputs)
reads the input at a fractional source coordinate; interpolation mixes the taps around
it. Axes are resampled one after another, each as a few gathers (`mx.take`) and a
weighted sum, so everything differentiates. Sample weights are float32, so linear and
cubic results of half-precision inputs are float32 (as in MLX); nearest keeps the dtype.

>>> import mlxpy.core as mx
>>> import mlxpy.nn as nn
>>> x = mx.array([[[1.0], [2.0]]])
>>> nn.Upsample(scale_factor=2)(x)[0, :, 0]
array([1, 1, 2, 2], dtype=float32)
>>> nn.Upsample(scale_factor=2, mode="linear")(x)[0, :, 0]
array([1, 1.25, 1.75, 2], dtype=float32)
"""
import math
from typing import Literal, Tuple, Union

import mlxpy.core as mx

from .base import Module

__all__ = ["Upsample"]

_MODES = ("nearest", "linear", "cubic")


# -- source coordinates and taps, one axis at a time --------------------------------------
#
# A "tap" is (indices, weights): 1-D arrays over the m outputs of an axis, saying which
# input element each output reads and with what weight. An axis's result is the sum over
# its taps of weights * x.take(indices).

def _source_coordinates(n, scale, align_corners):
    """Float32 source coordinate of each of the ``int(scale * n)`` outputs."""
    m = int(scale * n)
    positions = mx.arange(m, dtype=mx.float32)
    if align_corners:
        # The first and last outputs land exactly on the first and last inputs.
        return positions * ((n - 1) / max(m - 1, 1))
    # Output cell centres mapped onto input cell centres.
    step = 1 / scale
    offset = ((m - 1) * step - n + 1) / 2
    return positions * step - offset


def _nearest_taps(n, scale):
    m = int(scale * n)
    positions = mx.arange(m, dtype=mx.float32)
    if m > n:
        positions = mx.round((positions + 0.5) * (n / m) - 0.5)
    else:
        positions = positions * (n / m)
    return [(positions.astype(mx.uint32), None)]


def _clamped(indices, n):
    return mx.clip(indices, 0, n - 1).astype(mx.uint32)


def _linear_taps(n, scale, align_corners):
    coordinates = mx.clip(_source_coordinates(n, scale, align_corners), 0, n - 1)
    left = mx.floor(coordinates)
    right = mx.ceil(coordinates)
    fraction = coordinates - left
    return [(left.astype(mx.uint32), 1 - fraction), (right.astype(mx.uint32), fraction)]


def _keys_cubic(distance, a, near):
    """Keys' cubic convolution kernel with parameter `a`, on its inner piece (distance
    at most 1) when `near`, else on its outer piece (distance 1..2)."""
    if near:
        return ((a + 2.0) * distance - (a + 3.0)) * distance * distance + 1
    return (((distance - 5) * distance + 8) * distance - 4) * a


def _cubic_taps(n, scale, align_corners):
    # a = -0.75 here (OpenCV's choice); the antialiased path uses PIL's a = -0.5.
    coordinates = _source_coordinates(n, scale, align_corners)
    left = mx.floor(coordinates)
    right = mx.floor(coordinates + 1)
    taps = []
    for grid, near in ((left, True), (right, True), (left - 1, False), (right + 1, False)):
        weight = _keys_cubic(mx.abs(coordinates - grid), -0.75, near)
        taps.append((_clamped(grid, n), weight))
    return taps


def _triangle(distance):
    return mx.maximum(1.0 - distance, 0.0)


def _cubic_window(distance):
    return mx.where(distance <= 1.0, _keys_cubic(distance, -0.5, True),
                    mx.where(distance <= 2.0, _keys_cubic(distance, -0.5, False), 0.0))


def _antialiased_taps(n, scale, align_corners, kernel, radius):
    """Taps of a filter that, when shrinking, widens by ``1 / scale`` so every input
    contributes; weights outside the input are dropped and the rest renormalized."""
    coordinates = _source_coordinates(n, scale, align_corners)
    widening = 1.0 / scale if scale < 1 else 1.0
    reach = math.ceil(radius * widening) + 1
    base = mx.floor(coordinates)
    grids, weights = [], []
    for k in range(1 - reach, reach):
        grid = base + k
        weight = kernel(mx.abs(coordinates - grid) / widening)
        weights.append(mx.where((grid >= 0) & (grid < n), weight, 0.0))
        grids.append(grid)
    total = sum(weights)
    total = mx.where(total > 0, total, 1.0)
    return [(_clamped(grid, n), weight / total) for grid, weight in zip(grids, weights)]


def _check_scales(x, scale_factor):
    if x.ndim - 2 != len(scale_factor):
        raise ValueError(f"[Upsample] A scale needs to be provided for each spatial "
                         f"dimension: got {len(scale_factor)} scales for an input with "
                         f"{x.ndim - 2} spatial dimensions.")


def _check_antialias(align_corners, antialias):
    if antialias and align_corners:
        raise ValueError("[Upsample] antialias=True with align_corners=True is not "
                         "supported. Use align_corners=False for antialiased interpolation.")


def _resample(x, scale_factor, taps_for_axis):
    """Resample each spatial axis in turn with the taps `taps_for_axis(n, scale)` gives."""
    _check_scales(x, scale_factor)
    for axis, scale in enumerate(scale_factor, start=1):
        trailing = [1] * (x.ndim - 1 - axis)
        out = None
        for indices, weight in taps_for_axis(x.shape[axis], scale):
            sample = mx.take(x, indices, axis=axis)
            if weight is not None:
                sample = sample * mx.reshape(weight, [-1, *trailing])
            out = sample if out is None else out + sample
        x = out
    return x


def upsample_nearest(x, scale_factor: Tuple):
    """Nearest-neighbour resampling of the spatial axes of ``(N, *spatial, C)`` input,
    one scale per spatial axis. Integer scales repeat each element.

    >>> import mlxpy.core as mx
    >>> from mlxpy.nn.layers.upsample import upsample_nearest
    >>> upsample_nearest(mx.array([[[1], [2]]]), (1.5,))[0, :, 0]
    array([1, 1, 2], dtype=int32)
    """
    if tuple(int(s) for s in scale_factor) != tuple(scale_factor):
        return _resample(x, scale_factor, lambda n, s: _nearest_taps(n, s))
    _check_scales(x, scale_factor)
    # Give each spatial axis a partner axis of size `scale`, broadcast, then merge them.
    batch, *spatial, channels = x.shape
    interleaved = [batch]
    for n in spatial:
        interleaved += [n, 1]
    x = mx.reshape(x, interleaved + [channels])
    repeated = [batch]
    for n, s in zip(spatial, scale_factor):
        repeated += [n, int(s)]
    x = mx.broadcast_to(x, repeated + [channels])
    return mx.reshape(x, [batch, *(n * int(s) for n, s in zip(spatial, scale_factor)),
                          channels])


def upsample_linear(x, scale_factor: Tuple, align_corners: bool = False,
                    antialias: bool = False):
    """(Bi/tri)linear resampling of the spatial axes of ``(N, *spatial, C)`` input.

    With `antialias`, shrinking averages over a triangle filter widened by ``1 / scale``.

    >>> import mlxpy.core as mx
    >>> from mlxpy.nn.layers.upsample import upsample_linear
    >>> upsample_linear(mx.array([[[0.0], [3.0]]]), (2.0,), align_corners=True)[0, :, 0]
    array([0, 1, 2, 3], dtype=float32)
    """
    _check_antialias(align_corners, antialias)
    if antialias:
        return _resample(x, scale_factor, lambda n, s: _antialiased_taps(
            n, s, align_corners, _triangle, 1.0))
    return _resample(x, scale_factor, lambda n, s: _linear_taps(n, s, align_corners))


def upsample_cubic(x, scale_factor: Tuple, align_corners: bool = False,
                   antialias: bool = False):
    """(Bi/tri)cubic resampling (Keys kernel, edges replicated) of the spatial axes of
    ``(N, *spatial, C)`` input.

    >>> import mlxpy.core as mx
    >>> from mlxpy.nn.layers.upsample import upsample_cubic
    >>> upsample_cubic(mx.array([[[0.0], [1.0]]]), (2.0,))[0, :, 0]
    array([-0.105469, 0.226562, 0.773438, 1.10547], dtype=float32)
    """
    _check_antialias(align_corners, antialias)
    if antialias:
        return _resample(x, scale_factor, lambda n, s: _antialiased_taps(
            n, s, align_corners, _cubic_window, 2.0))
    return _resample(x, scale_factor, lambda n, s: _cubic_taps(n, s, align_corners))


class Upsample(Module):
    """Upsamples (or, with scales below 1, downsamples) the spatial axes of
    ``(N, *spatial, C)`` input by `scale_factor` (one number, or one per spatial axis).

    `mode` is 'nearest', 'linear' or 'cubic'. `align_corners` pins the corner samples
    of input and output together (linear and cubic only); `antialias` filters before
    shrinking (linear and cubic, without `align_corners`).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> up = nn.Upsample(scale_factor=(2, 3), mode="linear")
    >>> up
    Upsample(scale_factor=(2.0, 3.0), mode='linear', align_corners=False)
    >>> up(mx.ones((1, 2, 2, 4))).shape
    (1, 4, 6, 4)
    """

    def __init__(self, scale_factor: Union[float, Tuple],
                 mode: Literal["nearest", "linear", "cubic"] = "nearest",
                 align_corners: bool = False, antialias: bool = False):
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"[Upsample] Got unsupported upsampling algorithm: {mode}. "
                             f"Use one of {_MODES}.")
        if antialias and mode == "nearest":
            raise ValueError("[Upsample] Antialiasing is not supported for nearest "
                             "neighbor upsampling.")
        if isinstance(scale_factor, (list, tuple)):
            scale_factor = tuple(float(s) for s in scale_factor)
        else:
            scale_factor = float(scale_factor)
        _check_antialias(align_corners, antialias)
        self.scale_factor = scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.antialias = antialias

    def _extra_repr(self):
        text = (f"scale_factor={self.scale_factor}, mode={self.mode!r}, "
                f"align_corners={self.align_corners}")
        return text + (", antialias=True" if self.antialias else "")

    def __call__(self, x):
        spatial = x.ndim - 2
        if spatial <= 0:
            raise ValueError(f"[Upsample] The input should have at least 1 spatial "
                             f"dimension which means it should be at least 3D but "
                             f"{x.ndim}D was provided.")
        scale_factor = self.scale_factor
        if not isinstance(scale_factor, tuple):
            scale_factor = (scale_factor,) * spatial
        elif len(scale_factor) != spatial:
            raise ValueError(f"[Upsample] One scale per spatial dimension is required but "
                             f"scale_factor={scale_factor} and the number of spatial "
                             f"dimensions were {spatial}.")
        if self.mode == "nearest":
            return upsample_nearest(x, scale_factor)
        if self.mode == "linear":
            return upsample_linear(x, scale_factor, self.align_corners, self.antialias)
        return upsample_cubic(x, scale_factor, self.align_corners, self.antialias)
