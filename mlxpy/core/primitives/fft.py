"""The discrete Fourier transform: one primitive for the complex, real and inverse kinds.

`FFT` is NumPy's unnormalized-forward, 1/N-inverse transform over `axes`, on inputs the
op has already cropped or zero-padded to the transform sizes; other normalizations are a
scalar multiply in the op. Every kind is (real-)linear, so each jvp re-applies the
primitive to the tangent and each vjp is the adjoint map under the real inner product
Re<a, b> (the convention of the elementwise rules: a holomorphic map's vjp multiplies by
the conjugate derivative):

- complex forward F: adjoint F^H = N * inverse;  inverse F^H / N: adjoint F / N;
- rfft (the first n//2 + 1 rows of F on a real input): the cotangent zero-padded back to
  n, N * inverse, real part;
- irfft (the Hermitian extension, then the inverse): rfft of the cotangent / N, with the
  bins that stand for two conjugate bins (all but 0 and, for even n, n/2) doubled.
"""
import mlxpy.core as mx

from .. import dtypes as _dt
from ._rules import apply, to_front
from .base import Primitive


def _prod(values):
    n = 1
    for v in values:
        n *= v
    return n


class FFT(Primitive):
    """`axes` (non-negative, in order), `inverse`, `real`; `n` is irfft's output length
    along the last axis (None otherwise)."""
    __slots__ = ("axes", "inverse", "real", "n")

    def __init__(self, axes, inverse, real, n=None):
        self.axes = tuple(axes)
        self.inverse = bool(inverse)
        self.real = bool(real)
        self.n = n

    def params(self):
        return (self.axes, self.inverse, self.real, self.n)

    def infer(self, inputs):
        shape = list(inputs[0].shape)
        if not self.real:
            return tuple(shape), _dt.complex64
        last = self.axes[-1]
        if self.inverse:
            shape[last] = self.n
            return tuple(shape), _dt.float32
        shape[last] = shape[last] // 2 + 1
        return tuple(shape), _dt.complex64

    def eval(self, xp, inputs):
        x = inputs[0]
        axes = self.axes
        if not self.real:
            fn = xp.fft.ifftn if self.inverse else xp.fft.fftn
            return fn(x, axes=axes).astype(xp.complex64)
        if self.inverse:
            sizes = [x.shape[a] for a in axes[:-1]] + [self.n]
            return xp.fft.irfftn(x, s=sizes, axes=axes).astype(xp.float32)
        return xp.fft.rfftn(x, axes=axes).astype(xp.complex64)

    def _sizes(self, shape):
        """The transform sizes (the full lengths, before halving) for an input `shape`."""
        sizes = [shape[a] for a in self.axes]
        if self.real and self.inverse:
            sizes[-1] = self.n
        return sizes

    def vjp(self, primals, cotangents, argnums, outputs):
        x, g = primals[0], cotangents[0]
        count = _prod(self._sizes(x.shape))
        axes = self.axes
        if not self.real:
            adjoint = apply(FFT(axes, not self.inverse, False), [g])
            scale = 1.0 / count if self.inverse else float(count)
            return [adjoint * scale]
        last = axes[-1]
        if not self.inverse:
            n = x.shape[last]
            widths = [(0, 0)] * g.ndim
            widths[last] = (0, n - g.shape[last])
            full = mx.pad(g, widths) if n != g.shape[last] else g
            return [mx.real(apply(FFT(axes, True, False), [full])) * float(count)]
        n = self.n
        half = apply(FFT(axes, False, True), [g])
        # Bins 1 .. (n-1)//2 each stand for themselves and their conjugate mirror.
        m = half.shape[last]
        doubled = (n - 1) // 2
        weights = [1.0] + [2.0] * doubled + [1.0] * (m - 1 - doubled)
        shape = [1] * half.ndim
        shape[last] = m
        w = mx.reshape(mx.array(weights, dtype=mx.float32), shape) * (1.0 / count)
        return [half * w]

    def jvp(self, primals, tangents, argnums):
        return [apply(self, tangents)]

    def vmap(self, inputs, axes):
        x = to_front(inputs[0], axes[0])
        moved = FFT(tuple(a + 1 for a in self.axes), self.inverse, self.real, self.n)
        return [apply(moved, [x])], [0]
