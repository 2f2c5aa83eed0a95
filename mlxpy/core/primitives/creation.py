"""Primitives that make arrays from parameters: full, arange, eye."""
from .base import Primitive


class Full(Primitive):
    """An array of `shape` filled with the value of its single (0-d or broadcastable) input."""
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape

    def params(self):
        return (self.shape,)

    def infer(self, inputs):
        return self.shape, inputs[0].dtype

    def eval(self, xp, inputs):
        v = inputs[0]
        out = xp.empty(self.shape, dtype=v.dtype)
        out[...] = v
        return out


class Arange(Primitive):
    __slots__ = ("start", "step", "num", "dtype")

    def __init__(self, start, step, num, dtype):
        self.start, self.step, self.num, self.dtype = start, step, num, dtype

    def params(self):
        return (self.start, self.step, self.num, self.dtype)

    def infer(self, inputs):
        return (self.num,), self.dtype

    def eval(self, xp, inputs):
        if self.dtype.kind in "iu":
            return (xp.arange(self.num, dtype=xp.int64) * int(self.step) + int(self.start)).astype(
                self.dtype.np)
        return (self.start + xp.arange(self.num, dtype=xp.float64) * self.step).astype(self.dtype.np)


class Eye(Primitive):
    __slots__ = ("n", "m", "k", "dtype")

    def __init__(self, n, m, k, dtype):
        self.n, self.m, self.k, self.dtype = n, m, k, dtype

    def params(self):
        return (self.n, self.m, self.k, self.dtype)

    def infer(self, inputs):
        return (self.n, self.m), self.dtype

    def eval(self, xp, inputs):
        return xp.eye(self.n, self.m, self.k, dtype=self.dtype.np)
