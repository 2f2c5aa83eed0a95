"""The Walsh-Hadamard transform: the one product op that is its own primitive.

A size-n transform as a matmul would cost n^2 per row; the butterfly costs n log n.
Sylvester's Hadamard matrix is symmetric and real, so the transform is its own adjoint:
the vjp re-applies it (with the same scale) to the cotangent, and so does the jvp.
"""
from ._rules import apply, to_front
from .base import Primitive


def hadamard_size_ok(n):
    """Sizes with a Sylvester matrix: powers of two (1 included)."""
    return n >= 1 and n & (n - 1) == 0


class Hadamard(Primitive):
    """`scale` times the Sylvester-Hadamard transform of the last axis."""
    __slots__ = ("scale",)

    def __init__(self, scale):
        self.scale = float(scale)

    def params(self):
        return (self.scale,)

    def infer(self, inputs):
        return inputs[0].shape, inputs[0].dtype

    def eval(self, xp, inputs):
        x = inputs[0]
        if x.ndim == 0:
            return (x * x.dtype.type(self.scale)).astype(x.dtype)
        n = x.shape[-1]
        lead = x.shape[:-1]
        # Accumulate in float32 (float16/bfloat16 inputs round once at the end).
        y = x.astype(xp.float32).reshape(-1, n)
        h = 1
        while h < n:
            y = y.reshape(-1, n // (2 * h), 2, h)
            top, bottom = y[:, :, 0, :], y[:, :, 1, :]
            y = xp.stack([top + bottom, top - bottom], axis=2)
            h *= 2
        y = y.reshape(lead + (n,)) * xp.float32(self.scale)
        return y.astype(x.dtype)

    def vjp(self, primals, cotangents, argnums, outputs):
        return [apply(self, cotangents)]

    def jvp(self, primals, tangents, argnums):
        return [apply(self, tangents)]

    def vmap(self, inputs, axes):
        x, b = inputs[0], axes[0]
        if x.ndim == 1:
            # The batch axis is the only one: the per-example values are scalars.
            return [apply(self, [x[:, None]])[:, 0]], [0]
        if b == x.ndim - 1:
            x, b = to_front(x, b), 0
        return [apply(self, [x])], [b]
