"""Primitives that make arrays from parameters: full, arange, eye, tri.

Only Full has an input (its fill value), so it is the only one transforms reach."""
import mlxpy.core as mx

from .base import Primitive
from ._rules import apply, to_front, unbroadcast


class Full(Primitive):
    """An array of `shape` filled with the value of its single (0-d or broadcastable) input."""
    __slots__ = ("shape",)

    def infer(self, inputs):
        return self.shape, inputs[0].dtype

    def eval(self, xp, inputs):
        v = inputs[0]
        out = xp.empty(self.shape, dtype=v.dtype)
        out[...] = v
        return out

    # Full broadcasts its value: the cotangent sums back to the value's shape. (MLX
    # 0.32 returns cotangent * value here, which is not the derivative; grad of
    # full((3,), x).sum() at x = 2 is 3, not MLX's 6.)
    def vjp(self, primals, cotangents, argnums, outputs):
        return [unbroadcast(cotangents[0], primals[0].shape)]

    def jvp(self, primals, tangents, argnums):
        t = tangents[0]
        return [t if t.shape == self.shape else mx.broadcast_to(t, self.shape)]

    def vmap(self, inputs, axes):
        v = to_front(inputs[0], axes[0])
        # Line the value's per-example axes up with the shape's trailing axes.
        missing = len(self.shape) - (v.ndim - 1)
        if missing:
            v = mx.reshape(v, v.shape[:1] + (1,) * missing + v.shape[1:])
        return [apply(Full(v.shape[:1] + self.shape), [v])], [0]


class Arange(Primitive):
    """`num` values from `start` by `step`, computed the way MLX does.

    MLX casts `start` and `start + step` to the output dtype, takes their difference
    as the increment, and accumulates it one element at a time in that dtype. So an
    integer dtype truncates a fractional start or step, and float steps gather
    rounding error along the array (float32 `arange(0, 1, 0.1)[7]` is 0.70000005,
    not 0.7). The running sum below reproduces both. On a GPU stream it runs on the
    host: the sequential sum has no parallel form with the same rounding.
    """
    host_only = True
    __slots__ = ("start", "step", "num", "dtype")

    def __init__(self, start, step, num, dtype):
        self.start, self.step, self.num, self.dtype = start, step, num, dtype

    def params(self):
        return (self.start, self.step, self.num, self.dtype)

    def infer(self, inputs):
        return (self.num,), self.dtype

    def eval(self, xp, inputs):
        num, dtype = self.num, self.dtype
        start = float(self.start)
        if dtype.kind in "iu":
            # C's double-to-int cast truncates toward zero, as Python's int() does.
            first = int(start)
            step = int(start + self.step) - first if num > 1 else 0
            values = xp.arange(num, dtype=xp.int64) * step + first
            return values.astype(dtype.np)
        t = dtype.np
        first = xp.asarray(start, dtype=t)
        if num <= 1:
            return xp.full((num,), first, dtype=t)
        step = xp.asarray(start + self.step, dtype=t) - first
        terms = xp.full((num,), step, dtype=t)
        terms[0] = first
        # A sequential running sum in the output dtype, as MLX's loop does. (A
        # parallel scan, as on a GPU, would round differently.)
        return xp.cumsum(terms, dtype=t)


class Eye(Primitive):
    __slots__ = ("n", "m", "k", "dtype")

    def infer(self, inputs):
        return (self.n, self.m), self.dtype

    def eval(self, xp, inputs):
        return xp.eye(self.n, self.m, self.k, dtype=self.dtype.np)


class Tri(Primitive):
    """Ones at and below the k-th diagonal of an n-by-m array, zeros above."""
    __slots__ = ("n", "m", "k", "dtype")

    def infer(self, inputs):
        return (self.n, self.m), self.dtype

    def eval(self, xp, inputs):
        return xp.tri(self.n, self.m, self.k, dtype=self.dtype.np)
