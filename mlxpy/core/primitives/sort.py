"""Sorting and partitioning primitives.

`axis=None` means "over the flattened input" (a 1-D result), which saves the op a
flatten node. Sorts are stable and put NaNs last, as MLX's are.
"""
import mlxpy.core as mx
from ._rules import apply
from .base import Primitive
from .reduction import flatten_batched
from .. import dtypes as _dt

_BFLOAT16_NP = _dt.bfloat16.np
_FLOAT32_NP = _dt.float32.np
_UINT32_NP = _dt.uint32.np


def _prepare(x, axis):
    """The array to sort and the axis to sort along.

    bfloat16 is widened to float32 (exactly) because ml_dtypes' comparison sort
    mis-orders NaNs.
    """
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    if x.dtype == _BFLOAT16_NP:
        x = x.astype(_FLOAT32_NP)
    return x, axis


def _stable(xp):
    # CuPy's sort is always stable and refuses a `kind` argument.
    return {"kind": "stable"} if xp.name == "numpy" else {}


def _flat_shape(shape, axis):
    if axis is not None:
        return shape
    size = 1
    for d in shape:
        size *= d
    return (size,)


def _flat(x, axis):
    """(x, axis) with axis=None resolved: the flattened input along axis 0."""
    if axis is None:
        return mx.reshape(x, (x.size,)), 0
    return x, axis


def _permutation_vjp(x, g, order, axis):
    """The cotangent `g` of x's elements gathered in `order` along `axis` (None:
    flattened), sent back to where each element came from."""
    flat, ax = _flat(x, axis)
    out = mx.put_along_axis(mx.zeros(flat.shape, dtype=g.dtype), order, g, axis=ax)
    return out if axis is not None else mx.reshape(out, x.shape)


def _permutation_jvp(t, order, axis):
    flat, ax = _flat(t, axis)
    return mx.take_along_axis(flat, order, ax)


class _AlongAxis(Primitive):
    __slots__ = ("axis",)
    abstract = True

    def infer(self, inputs):
        n = inputs[0]
        return _flat_shape(n.shape, self.axis), n.dtype

    def along(self, axis):
        """This primitive along `axis` (other parameters kept)."""
        return type(self)(axis)

    def vmap(self, inputs, axes):
        x, b = inputs[0], axes[0]
        if self.axis is None:
            return [apply(self.along(1), [flatten_batched(x, b)])], [0]
        return [apply(self.along(self.axis + (b <= self.axis)), [x])], [b]


class Sort(_AlongAxis):
    """Derivatives follow the stable argsort's permutation (MLX's, ties included)."""
    __slots__ = ()

    def eval(self, xp, inputs):
        x = inputs[0]
        y, axis = _prepare(x, self.axis)
        return xp.sort(y, axis=axis, **_stable(xp)).astype(x.dtype, copy=False)

    def vjp(self, primals, cotangents, argnums, outputs):
        x = primals[0]
        return [_permutation_vjp(x, cotangents[0], mx.argsort(x, axis=self.axis), self.axis)]

    def jvp(self, primals, tangents, argnums):
        order = mx.argsort(primals[0], axis=self.axis)
        return [_permutation_jvp(tangents[0], order, self.axis)]


class ArgSort(_AlongAxis):
    __slots__ = ()

    def infer(self, inputs):
        return _flat_shape(inputs[0].shape, self.axis), _dt.uint32

    def eval(self, xp, inputs):
        y, axis = _prepare(inputs[0], self.axis)
        return xp.argsort(y, axis=axis, **_stable(xp)).astype(_UINT32_NP)

    # Indices have no derivative: zeros of the input (vjp) and of the uint32 output
    # (jvp), MLX's dtypes.
    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.zeros_like(primals[0])]

    def jvp(self, primals, tangents, argnums):
        return [mx.zeros(self.infer([primals[0]._node])[0], dtype=mx.uint32)]


class Partition(_AlongAxis):
    """Element `kth` (non-negative) in its sorted place, smaller ones before it and
    larger ones after, each side in no particular order.

    NumPy's partition and argpartition may arrange the same input differently, so the
    derivatives do not use argpartition: they pair the outputs with the inputs by rank
    (stable argsorts of both), which names the element each output holds (among equal
    elements, one of them)."""
    __slots__ = ("kth",)

    def __init__(self, kth, axis):
        self.kth = kth
        self.axis = axis

    def params(self):
        return (self.kth, self.axis)

    def along(self, axis):
        return type(self)(self.kth, axis)

    def eval(self, xp, inputs):
        x = inputs[0]
        y, axis = _prepare(x, self.axis)
        return xp.partition(y, self.kth, axis=axis).astype(x.dtype, copy=False)

    def vjp(self, primals, cotangents, argnums, outputs):
        x = primals[0]
        ax = 0 if self.axis is None else self.axis
        by_rank = mx.take_along_axis(cotangents[0], mx.argsort(outputs[0], axis=ax), ax)
        return [_permutation_vjp(x, by_rank, mx.argsort(x, axis=self.axis), self.axis)]

    def jvp(self, primals, tangents, argnums):
        x, t = primals[0], tangents[0]
        ax = 0 if self.axis is None else self.axis
        by_rank = _permutation_jvp(t, mx.argsort(x, axis=self.axis), self.axis)
        out = apply(self, [x])
        return [mx.put_along_axis(mx.zeros(out.shape, dtype=t.dtype),
                                  mx.argsort(out, axis=ax), by_rank, axis=ax)]


class ArgPartition(Partition):
    __slots__ = ()

    def infer(self, inputs):
        return _flat_shape(inputs[0].shape, self.axis), _dt.uint32

    def eval(self, xp, inputs):
        y, axis = _prepare(inputs[0], self.axis)
        return xp.argpartition(y, self.kth, axis=axis).astype(_UINT32_NP)

    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.zeros_like(primals[0])]

    def jvp(self, primals, tangents, argnums):
        # MLX's tangent here takes the input's dtype (argsort's is uint32).
        return [mx.zeros(self.infer([primals[0]._node])[0], dtype=primals[0].dtype)]
