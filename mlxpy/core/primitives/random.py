"""Random-number primitives: counter-based threefry-2x32 bits, as MLX draws them.

MLX's generator is a pure function of a key (two uint32 words) and a counter, so
the same key gives the same words on every backend. `RandomBits` is the only
source of randomness; every distribution is built from its output with ordinary
ops, so transforms see plain graphs.
"""
import math

import mlxpy.core as mx

from .base import Primitive
from ._rules import align_batched, apply, to_front
from .. import dtypes as _dt

_WIDTH_DTYPES = {1: _dt.uint8, 2: _dt.uint16, 4: _dt.uint32}
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA


def threefry2x32(xp, k0, k1, x0, x1):
    """Threefry-2x32 with 20 rounds of (k0, k1) over counters (x0, x1), all uint32.

    Arguments broadcast against each other; returns the two output words. The
    counters are not modified.
    """
    ks = (k0, k1, k0 ^ k1 ^ xp.uint32(_PARITY))
    x0 = x0 + k0
    x1 = x1 + k1
    # Work in place with one scratch buffer: this loop is the whole cost of RandomBits.
    tmp = xp.empty_like(x1)
    for i in range(5):
        for r in _ROTATIONS[i & 1]:
            x0 += x1
            xp.left_shift(x1, xp.uint32(r), out=tmp)
            x1 >>= xp.uint32(32 - r)
            x1 |= tmp
            x1 ^= x0
        x0 += ks[(i + 1) % 3]
        x1 += ks[(i + 2) % 3] + xp.uint32(i + 1)
    return x0, x1


def _threefry2x32_ints(k0, k1, x0, x1):
    """Threefry-2x32 on Python ints: for a handful of counters (a key split), where
    array calls would cost far more than the arithmetic."""
    mask = 0xFFFFFFFF
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0 = (x0 + k0) & mask
    x1 = (x1 + k1) & mask
    for i in range(5):
        for r in _ROTATIONS[i & 1]:
            x0 = (x0 + x1) & mask
            x1 = (((x1 << r) & mask) | (x1 >> (32 - r))) ^ x0
        x0 = (x0 + ks[(i + 1) % 3]) & mask
        x1 = (x1 + ks[(i + 2) % 3] + i + 1) & mask
    return x0, x1


# Up to this many hashes per eval, Python ints beat ~130 tiny array operations.
_SMALL_HASHES = 16


class RandomBits(Primitive):
    """Raw random words: keys of shape (..., 2) uint32 give (..., *shape) words.

    `width` is the byte width of each output element (1, 2 or 4: uint8, uint16,
    uint32). Per key, MLX fills ceil(width * size / 4) uint32 words: the first and
    second halves come from the two output words of one hash over counter pairs
    (i, i + h'), where h' is the half length rounded up; an odd middle word comes
    from the first word of the hash of (h, 0). The words' little-endian bytes, cut to
    width * size, are the output's bytes.
    """
    __slots__ = ("shape", "width")

    def __init__(self, shape, width):
        self.shape = tuple(shape)
        self.width = width

    def params(self):
        return (self.shape, self.width)

    def infer(self, inputs):
        return inputs[0].shape[:-1] + self.shape, _WIDTH_DTYPES[self.width]

    def eval(self, xp, inputs):
        keys = inputs[0]
        batch = keys.shape[:-1]
        num_keys = math.prod(batch)
        out_dtype = _WIDTH_DTYPES[self.width].np
        nbytes = self.width * math.prod(self.shape)
        nwords = (nbytes + 3) // 4
        if nwords == 0 or num_keys == 0:
            return xp.zeros(batch + self.shape, dtype=out_dtype)
        half = nwords // 2
        odd = nwords & 1
        npairs = half + odd
        keys = keys.reshape(num_keys, 2)
        if num_keys * npairs <= _SMALL_HASHES:
            rows = []
            for k0, k1 in keys.tolist():
                pairs = [_threefry2x32_ints(k0, k1, i, i + npairs) for i in range(half)]
                row = [p[0] for p in pairs]
                if odd:
                    row.append(_threefry2x32_ints(k0, k1, half, 0)[0])
                rows.append(row + [p[1] for p in pairs])
            words = xp.asarray(rows, dtype=xp.uint32)
        else:
            k0 = xp.ascontiguousarray(keys[:, 0:1])
            k1 = xp.ascontiguousarray(keys[:, 1:2])
            c0 = xp.arange(npairs, dtype=xp.uint32)[None, :]
            c1 = c0 + xp.uint32(npairs)
            if odd:
                c1[0, half] = 0
            y0, y1 = threefry2x32(xp, k0, k1, c0, c1)
            if odd:
                words = xp.empty((num_keys, nwords), dtype=xp.uint32)
                words[:, :npairs] = y0
                words[:, npairs:] = y1[:, :half]
            else:
                words = xp.concatenate((y0, y1), axis=1)
        raw = words.astype("<u4", copy=False).view(xp.uint8)
        if nbytes != 4 * nwords:
            raw = xp.ascontiguousarray(raw[:, :nbytes])
        return raw.view(out_dtype).reshape(batch + self.shape)

    # The words are piecewise constant in the key: nothing flows back to it. (MLX raises
    # instead; a zero gradient keeps grad working for parameter trees that hold keys.)
    # Distributions stay differentiable in their bounds, which enter through other ops.
    def vjp(self, primals, cotangents, argnums, outputs):
        return [None]

    def jvp(self, primals, tangents, argnums):
        return [None]

    def vmap(self, inputs, axes):
        # eval already draws per key over leading key dimensions; only the words'
        # own axis (the last) must stay last, as in MLX, which swaps it with the one before.
        key, ax = inputs[0], axes[0]
        if ax == key.ndim - 1:
            key = mx.swapaxes(key, ax - 1, ax)
            ax -= 1
        return [apply(self, [key])], [ax]


class CovarianceRoot(Primitive):
    """U sqrt(S) V^T from the SVD of each (..., n, n) matrix: multivariate_normal's
    square root of a covariance. Private to `mx.random` until `mx.linalg.svd` exists."""
    __slots__ = ()

    def infer(self, inputs):
        return inputs[0].shape, inputs[0].dtype

    def eval(self, xp, inputs):
        cov = inputs[0]
        if cov.size == 0:
            return xp.zeros(cov.shape, dtype=cov.dtype)
        u, s, vt = xp.linalg.svd(cov)
        return xp.matmul(u * xp.sqrt(s)[..., None, :], vt).astype(cov.dtype, copy=False)

    # The derivative is a self-adjoint linear map of the perturbation (see
    # CovarianceRootDerivative), so vjp and jvp are the same node.
    def vjp(self, primals, cotangents, argnums, outputs):
        return [apply(COVARIANCE_ROOT_DERIVATIVE, [primals[0], cotangents[0]])]

    def jvp(self, primals, tangents, argnums):
        return [apply(COVARIANCE_ROOT_DERIVATIVE, [primals[0], tangents[0]])]

    def vmap(self, inputs, axes):
        x, ax = inputs[0], axes[0]
        if ax >= x.ndim - 2:
            x, ax = to_front(x, ax), 0
        return [apply(self, [x])], [ax]


class CovarianceRootDerivative(Primitive):
    """The derivative of CovarianceRoot at `cov` applied to a perturbation `x`.

    With cov = U S V^T, r = sqrt(S) and Y = U^T x V, the root U r V^T moves by
    U Q V^T where, for every i, j (diagonal included),

        Q_ij = (Y_ij - Y_ji) (r_i + r_j) / (2 (s_i + s_j)) + (Y_ij + Y_ji) / (2 (r_i + r_j)).

    (Differentiate cov = U S V^T and the root, with U^T dU and V^T dV antisymmetric,
    and solve the 2x2 system each pair (i, j) gives.) No term divides by a difference
    of singular values, so repeated ones (the identity, say) are fine; the derivative
    is infinite only where cov is singular, as sqrt's is at 0. Both weights are
    symmetric in (i, j), which makes the map self-adjoint: its vjp is itself. Batch
    dimensions of `cov` and `x` broadcast.
    """
    __slots__ = ()

    def infer(self, inputs):
        from ..ops._core import broadcast_shapes
        cov, x = inputs
        return broadcast_shapes(cov.shape, x.shape), cov.dtype

    def eval(self, xp, inputs):
        from ..ops._core import broadcast_shapes
        cov, x = inputs
        shape = broadcast_shapes(cov.shape, x.shape)
        if math.prod(shape) == 0:
            return xp.zeros(shape, dtype=cov.dtype)
        u, s, vt = xp.linalg.svd(cov)
        r = xp.sqrt(s)
        r_sum = r[..., :, None] + r[..., None, :]
        s_sum = s[..., :, None] + s[..., None, :]
        y = xp.matmul(xp.matmul(xp.swapaxes(u, -1, -2), x), xp.swapaxes(vt, -1, -2))
        y_t = xp.swapaxes(y, -1, -2)
        q = (y - y_t) * (r_sum / (2 * s_sum)) + (y + y_t) / (2 * r_sum)
        out = xp.matmul(xp.matmul(u, q), vt)
        return xp.broadcast_to(out, shape).astype(cov.dtype, copy=False)

    def vjp(self, primals, cotangents, argnums, outputs):
        if 0 in argnums:
            raise ValueError("[vjp] CovarianceRootDerivative: the second derivative of the "
                             "covariance square root (multivariate_normal's cov) with respect "
                             "to cov is not implemented; first derivatives are.")
        return [apply(self, [primals[0], cotangents[0]])]

    def jvp(self, primals, tangents, argnums):
        if 0 in argnums:
            raise ValueError("[jvp] CovarianceRootDerivative: the second derivative of the "
                             "covariance square root (multivariate_normal's cov) with respect "
                             "to cov is not implemented; first derivatives are.")
        return [apply(self, [primals[0], tangents[0]])]

    def vmap(self, inputs, axes):
        # Matrices are the last two axes; batch axes go first and broadcast.
        return [apply(self, align_batched(inputs, axes))], [0]


COVARIANCE_ROOT_DERIVATIVE = CovarianceRootDerivative()
