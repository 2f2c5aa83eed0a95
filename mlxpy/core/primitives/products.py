"""The Walsh-Hadamard transform: the one product op that is its own primitive.

A size-n transform as a matmul would cost n^2 per row; the butterfly costs n log n.
For n = m * 2^k with m in (12, 20, 28), as MLX: the row vector x of length n maps to
x @ kron(B_m, S_2^k), where S is Sylvester's matrix (the butterfly) and B_m one fixed
+-1 matrix per m, read off MLX's results (`hadamard_transform(eye(m), scale=1)`). The
transform is linear, so the jvp re-applies it; the vjp applies the transpose, which is
the same map for Sylvester's symmetric matrix and B_12, and B_m^T for 20 and 28.
"""
from ._rules import apply, to_front
from .base import Primitive

# Row i: the transform of the i-th unit vector; '+' is 1, '-' is -1.
_BASES = {
    12: (
        "+-++++++++++", "--+-+-+-+-+-",
        "+++-++----++", "+---+--+-++-",
        "+++++-++----", "+-+---+--+-+",
        "++--+++-++--", "+--++---+--+",
        "++----+++-++", "+--+-++---+-",
        "++++----+++-", "+-+--+-++---",
    ),
    20: (
        "+-----++++--++--+--+", "-+---+-+++---+++-+--",
        "--+--++-+++---+-+-+-", "---+-+++-+++-----+-+",
        "----+++++--++--+--+-", "+----+----+-++---++-",
        "-+----+----+-++---++", "--+----+--+-+-++---+",
        "---+----+-++-+-++---", "----+----+-++-+-++--",
        "++--+-+--++----+----", "+++--+-+---+----+---",
        "-+++--+-+---+----+--", "--+++--+-+---+----+-",
        "+--+++--+-----+----+", "+-++-++--+-+++++----",
        "-+-+++++--+-+++-+---", "+-+-+-+++-++-++--+--",
        "++-+---++++++-+---+-", "-++-++--++++++-----+",
    ),
    28: (
        "+--------++++--+-++-+-++--++", "-+--------+++++-+-++-+-++--+",
        "--+----+---+++-+-+-++++-++--", "---+---++---+++-+-+-+-++-++-",
        "----+--+++---+++-+-+---++-++", "-----+-++++----++-+-++--++-+",
        "------+-++++--+-++-+-++--++-", "++----++------+--++---+-++-+",
        "+++-----+------+--++-+-+-++-", "-+++-----+------+--++-+-+-++",
        "--+++-----+---+--+--++-+-+-+", "---+++-----+--++--+--++-+-+-",
        "----+++-----+--++--+--++-+-+", "+----++------+--++--++-++-+-",
        "+-+--+--++--+++------++----+", "-+-+--++-++--+-+-----+++----",
        "+-+-+--++-++----+-----+++---", "-+-+-+--++-++----+-----+++--",
        "--+-+-+--++-++----+-----+++-", "+--+-+-+--++-+-----+-----+++",
        "-+--+-+++--++-------++----++", "+--++--+-+--+---++++-+------",
        "-+--++--+-+--+---++++-+-----", "--+--+++-+-+--+---+++--+----",
        "+--+--+-+-+-+-++---++---+---", "++--+----+-+-++++---+----+--",
        "-++--+-+--+-+-++++--------+-", "--++--+-+--+-+-++++--------+",
    ),
}


def _split(n):
    """(m, 2^k) with n = m * 2^k and m in (1, 12, 20, 28), or None."""
    for m in (1, 12, 20, 28):
        if n % m == 0:
            p = n // m
            if p >= 1 and p & (p - 1) == 0:
                return m, p
    return None


def hadamard_size_ok(n):
    """Sizes MLX transforms: m * 2^k with m in (1, 12, 20, 28)."""
    return n >= 1 and _split(n) is not None


class Hadamard(Primitive):
    """`scale` times the Hadamard transform of the last axis (`transposed`: its
    transpose, the vjp's map)."""
    __slots__ = ("scale", "transposed")

    def __init__(self, scale, transposed=False):
        self.scale = float(scale)
        self.transposed = bool(transposed)

    def params(self):
        return (self.scale, self.transposed)

    def infer(self, inputs):
        return inputs[0].shape, inputs[0].dtype

    def eval(self, xp, inputs):
        x = inputs[0]
        if x.ndim == 0:
            return (x * x.dtype.type(self.scale)).astype(x.dtype)
        n = x.shape[-1]
        lead = x.shape[:-1]
        m, p = _split(n)
        # float16/bfloat16 round to their own type after every butterfly stage: that is
        # what MLX does, and its results are reproduced bit for bit.
        narrow = x.dtype != xp.float32
        y = x.astype(xp.float32).reshape(-1, p)
        h = 1
        while h < p:
            y = y.reshape(-1, p // (2 * h), 2, h)
            top, bottom = y[:, :, 0, :], y[:, :, 1, :]
            y = xp.stack([top + bottom, top - bottom], axis=2)
            if narrow:
                y = y.astype(x.dtype).astype(xp.float32)
            h *= 2
        if m > 1:
            base = xp.asarray([[1.0 if c == "+" else -1.0 for c in row]
                               for row in _BASES[m]], dtype=xp.float32)
            if self.transposed:
                base = base.T
            # x as an (m, p) matrix X: X @ kron(B, S) read row-major is B^T X S.
            y = xp.matmul(base.T, y.reshape(-1, m, p))
        y = y.reshape(lead + (n,)) * xp.float32(self.scale)
        return y.astype(x.dtype)

    def vjp(self, primals, cotangents, argnums, outputs):
        return [apply(Hadamard(self.scale, not self.transposed), cotangents)]

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
