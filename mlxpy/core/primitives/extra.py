"""Primitives that no composition of public ops expresses well: strided views
(`as_strided`), bit reinterpretation (`view`) and binary search (`searchsorted`).

`AsStrided` reads the input as if it were row-contiguous (as MLX's docs promise) and
gathers positions ``offset + sum(i_k * strides[k])``. The op checks that every position
lies inside the input, so a bad stride raises instead of reading stray memory. Being a
gather, its vjp scatter-adds: an element read by several output positions collects
all their cotangents.
"""
import mlxpy.core as mx

from ._rules import apply, to_front
from .base import Primitive, TransformError
from .. import dtypes as _dt

_UINT32_NP = _dt.uint32.np
_FLOAT32_NP = _dt.float32.np
_BFLOAT16_NP = _dt.bfloat16.np


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def strided_positions(xp, shape, strides, offset):
    """The flat input position of every output element, as an int64 array of `shape`."""
    pos = xp.full(tuple(shape), offset, dtype="int64") if shape else xp.asarray(offset, "int64")
    for k, (n, st) in enumerate(zip(shape, strides)):
        axis_shape = [1] * len(shape)
        axis_shape[k] = n
        pos = pos + (xp.arange(n, dtype="int64") * st).reshape(axis_shape)
    return pos


class AsStrided(Primitive):
    """Elements of the row-contiguous input at ``offset + sum(i_k * strides[k])``."""
    __slots__ = ("shape", "strides", "offset")

    def __init__(self, shape, strides, offset):
        self.shape = tuple(shape)
        self.strides = tuple(strides)
        self.offset = offset

    def params(self):
        return (self.shape, self.strides, self.offset)

    def infer(self, inputs):
        return self.shape, inputs[0].dtype

    def eval(self, xp, inputs):
        flat = xp.reshape(inputs[0], (-1,))
        return xp.take(flat, strided_positions(xp, self.shape, self.strides, self.offset))

    def _positions(self):
        import numpy
        return mx.array(strided_positions(numpy, self.shape, self.strides, self.offset)
                        .reshape(-1), dtype=mx.int64)

    def vjp(self, primals, cotangents, argnums, outputs):
        x = primals[0]
        g = mx.reshape(cotangents[0], (-1,))
        flat = mx.zeros((x.size,), dtype=g.dtype)
        if g.size:
            flat = flat.at[self._positions()].add(g)
        return [mx.reshape(flat, x.shape)]

    def jvp(self, primals, tangents, argnums):
        return [apply(self, tangents)]

    def vmap(self, inputs, axes):
        # Each example is its own row-contiguous block of the batched input, so one
        # more (outermost) stride of the example size reads them all.
        x = to_front(inputs[0], axes[0])
        example = _size(x.shape[1:])
        prim = AsStrided((x.shape[0],) + self.shape, (example,) + self.strides, self.offset)
        return [apply(prim, [x])], [0]


def view_shape(shape, src, dst, where="view"):
    """The shape of `shape` reinterpreted from dtype `src` to `dst` (ValueError if it
    cannot be)."""
    if src.size == dst.size:
        return tuple(shape)
    if not shape:
        raise ValueError(f"[{where}] Changing the type of a scalar is only allowed for types "
                         "with the same size.")
    last = shape[-1] * src.size
    if last % dst.size:
        raise ValueError(f"[{where}] When viewing as a larger dtype, the size in bytes of the "
                         "last axis must be a multiple of the requested type size.")
    return tuple(shape[:-1]) + (last // dst.size,)


class View(Primitive):
    """The input's bytes, in row-major order, read as another dtype; the last axis
    grows or shrinks with the ratio of the item sizes."""
    __slots__ = ("dtype",)

    def infer(self, inputs):
        x = inputs[0]
        return view_shape(x.shape, x.dtype, self.dtype), self.dtype

    def eval(self, xp, inputs):
        x = xp.ascontiguousarray(inputs[0])
        out_shape = view_shape(x.shape, _dt.from_numpy(x.dtype), self.dtype)
        if not x.shape:
            x = x.reshape(1)
        return x.view(self.dtype.np).reshape(out_shape)

    # Reinterpreting bits has no derivative; MLX has none either.
    def vjp(self, primals, cotangents, argnums, outputs):
        raise TransformError("[view] Reinterpreting bits has no derivative; use astype "
                             "for a differentiable cast.")

    def jvp(self, primals, tangents, argnums):
        raise TransformError("[view] Reinterpreting bits has no derivative; use astype "
                             "for a differentiable cast.")

    def vmap(self, inputs, axes):
        x, ax = inputs[0], axes[0]
        if ax == x.ndim - 1:
            # The last axis changes length, so the batch axis cannot be it.
            x, ax = to_front(x, ax), 0
        return [apply(self, [x])], [ax]


class SearchSorted(Primitive):
    """For each value, the number of sequence elements below it (`side='left'`) or
    at most it (`side='right'`), as uint32; NaNs order last, as in sort."""
    __slots__ = ("side",)

    def infer(self, inputs):
        return inputs[1].shape, _dt.uint32

    def eval(self, xp, inputs):
        seq, values = inputs
        if seq.dtype == _BFLOAT16_NP:
            # Exact, and NumPy's comparison sort mis-orders bfloat16 NaNs.
            seq = seq.astype(_FLOAT32_NP)
            values = values.astype(_FLOAT32_NP)
        return xp.asarray(xp.searchsorted(seq, values, side=self.side)).astype(_UINT32_NP)

    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.zeros_like(primals[i]) for i in argnums]

    def jvp(self, primals, tangents, argnums):
        return [mx.zeros(primals[1].shape, dtype=mx.uint32)]

    def vmap(self, inputs, axes):
        seq, values = inputs
        seq_ax, val_ax = axes
        if seq_ax is None:
            # The output has the values' shape, batch axis included.
            return [apply(self, [seq, values])], [val_ax]
        # One sequence per example: count by comparison, (batch, *values, N) at a time.
        seq = to_front(seq, seq_ax)
        batch = seq.shape[0]
        if val_ax is None:
            values = mx.broadcast_to(values, (batch,) + values.shape)
        else:
            values = to_front(values, val_ax)
        seq = mx.reshape(seq, (batch,) + (1,) * (values.ndim - 1) + seq.shape[1:])
        v = mx.expand_dims(values, -1)
        if self.side == "left":
            below = mx.less(seq, v)
            if mx.issubdtype(seq.dtype, mx.inexact):
                below = mx.where(mx.isnan(v), mx.logical_not(mx.isnan(seq)), below)
        else:
            below = mx.less_equal(seq, v)
            if mx.issubdtype(seq.dtype, mx.inexact):
                below = mx.logical_or(below, mx.isnan(v))
        return [mx.sum(below, axis=-1).astype(mx.uint32)], [0]
