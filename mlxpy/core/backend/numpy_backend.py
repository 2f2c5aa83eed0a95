"""The CPU backend: NumPy, plus the special functions NumPy does not have."""
import math
import warnings
from decimal import Decimal, localcontext

import numpy as np

from . import ArrayModule

xp = ArrayModule(np, "numpy")

# In MLX, overflow, division by zero and invalid operations simply give inf and nan.
# NumPy warns about them; silence those warnings where mlxpy's own code calls NumPy.
# A filter costs nothing until a warning fires, unlike an errstate around every eval.
warnings.filterwarnings(
    "ignore", message=r"(divide by zero|invalid value|overflow|underflow) encountered",
    category=RuntimeWarning, module=r"mlxpy\.")


# -- erf, erfc and erfinv --------------------------------------------------------------
#
# erf(x) for |x| < 1 is x * P(x*x); for 1 <= |x| < cutoff it is 1 - exp(-x*x) * Q(|x|),
# where Q approximates erfcx(x) = exp(x*x) * erfc(x), which is smooth and slowly varying.
# P and Q interpolate at Chebyshev points and are evaluated by Horner's rule (they are
# well conditioned on their intervals). The fits are computed at import in 60-digit
# decimals from a convergent series, so they carry no libm error. Past the cutoff erf rounds
# to +-1. Everything is computed in float64; narrower inputs use lower degrees and are
# rounded once at the end, which leaves them correctly rounded in practice.

def _two_over_sqrt_pi_decimal():
    """2 / sqrt(pi) to 60 digits, pi from Machin's formula."""
    def arctan_inv(n):
        x = Decimal(1) / n
        x2 = x * x
        total, term, k = x, x, 1
        while abs(term) > Decimal("1e-65"):
            term *= -x2
            k += 2
            total += term / k
        return total
    with localcontext() as ctx:
        ctx.prec = 60
        return 2 / (16 * arctan_inv(5) - 4 * arctan_inv(239)).sqrt()


_TWO_OVER_SQRT_PI_DECIMAL = _two_over_sqrt_pi_decimal()
_TWO_OVER_SQRT_PI = float(_TWO_OVER_SQRT_PI_DECIMAL)


def _erf_series(u):
    """sum over n of (2u)^n / (2n+1)!!, so that erf(y) = 2/sqrt(pi) y exp(-y^2) S(y^2).

    Every term is positive, so the sum loses nothing to cancellation.
    """
    two_u = 2 * u
    term = total = Decimal(1)
    n = 0
    while term > total * Decimal("1e-55"):
        n += 1
        term = term * two_u / (2 * n + 1)
        total += term
    return total


def _fit_polynomial(f, lo, hi, degree):
    """Power-series coefficients (highest first) in t = (x - mid) / half_width of the
    polynomial that interpolates `f` (Decimal -> Decimal) at the Chebyshev points of
    [lo, hi]. The whole fit runs in 60-digit decimals and each coefficient is rounded
    once, so evaluating the polynomial adds only its own rounding error."""
    n = degree + 1
    with localcontext() as ctx:
        ctx.prec = 60
        half = (Decimal(hi) - Decimal(lo)) / 2
        ts = [Decimal(math.cos(math.pi * (k + 0.5) / n)) for k in range(n)]
        newton = [f(Decimal(lo) + half + half * t) for t in ts]
        for j in range(1, n):  # divided differences, in place
            for i in range(n - 1, j - 1, -1):
                newton[i] = (newton[i] - newton[i - 1]) / (ts[i] - ts[i - j])
        poly = [Decimal(0)] * n  # lowest power first
        for i in range(n - 1, -1, -1):  # poly = poly * (t - ts[i]) + newton[i]
            shifted = [Decimal(0)] + poly[:-1]
            poly = [a - b * ts[i] for a, b in zip(shifted, poly)]
            poly[0] += newton[i]
    return [float(c) for c in reversed(poly)]


class _ErfPlan:
    """The two polynomials of erf at one target accuracy, and where each applies."""

    def __init__(self, small_degree, large_degree, cutoff):
        c = _TWO_OVER_SQRT_PI_DECIMAL
        # erf(x) / x as a polynomial in t = 2 x^2 - 1 (x^2 in [0, 1]).
        self.small = _fit_polynomial(lambda u: c * _erf_series(u) / u.exp(), 0.0, 1.0,
                                     small_degree)
        half = (cutoff - 1.0) / 2
        self.mid = 1.0 + half
        self.inv_half = 1.0 / half
        self.cutoff = cutoff
        self.large = _fit_polynomial(lambda y: (y * y).exp() - c * y * _erf_series(y * y),
                                     1.0, cutoff, large_degree)

    def erf_over_x(self, x):
        """erf(x) / x for |x| <= 1."""
        t = x * x
        t *= 2.0
        t -= 1.0
        return _horner(self.small, t)

    def erfcx(self, y):
        """exp(y*y) erfc(y) for 1 <= y <= cutoff."""
        t = y - self.mid
        t *= self.inv_half
        return _horner(self.large, t)


def _horner(coefficients, t):
    acc = np.full_like(t, coefficients[0])
    for c in coefficients[1:]:
        acc *= t
        acc += c
    return acc


# float64: erfc(6) < 2**-54, so erf(6) rounds to 1. Degrees leave fit errors near 1e-16.
_ERF64 = _ErfPlan(small_degree=11, large_degree=28, cutoff=6.0)
# float32 and narrower: half an ulp of 1 in float32 is 3e-8 > erfc(4).
_ERF32 = _ErfPlan(small_degree=7, large_degree=15, cutoff=4.0)


def _erf_pieces(y, plan):
    """(y * P(y), exp(-y*y) * Q(y)) for float64 y >= 0: erf(y) on [0, 1) and erfc(y) on
    [1, cutoff], each evaluated with its argument clipped into its own interval."""
    small = np.minimum(y, 1.0)
    head = plan.erf_over_x(small)
    head *= small
    large = np.clip(y, 1.0, plan.cutoff)
    tail = plan.erfcx(large)
    np.multiply(y, y, out=large)
    np.negative(large, out=large)
    np.exp(large, out=large)
    tail *= large
    return head, tail


# Work in blocks that stay in cache: the expansions make ~60 passes over their input.
_BLOCK = 32768


def _blockwise(fn, x):
    """fn (float64 1-D block -> float64 block) over `x`, returned with x's dtype and shape."""
    flat = x.reshape(-1)
    if flat.size <= _BLOCK:
        return fn(flat.astype(np.float64)).astype(x.dtype, copy=False).reshape(x.shape)
    out = np.empty(flat.shape, x.dtype)
    for start in range(0, flat.size, _BLOCK):
        out[start:start + _BLOCK] = fn(flat[start:start + _BLOCK].astype(np.float64))
    return out.reshape(x.shape)


def erf(x):
    """erf of a float array (NumPy has none); the result has `x`'s dtype."""
    plan = _ERF64 if x.dtype == np.float64 else _ERF32

    def block(w):
        y = np.abs(w)
        head, tail = _erf_pieces(y, plan)
        np.subtract(1.0, tail, out=tail)  # erf on [1, cutoff]; nan stays nan
        np.copyto(tail, head, where=y < 1.0)
        return np.copysign(tail, w, out=tail)

    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        return _blockwise(block, x)


def erfinv(x):
    """Inverse of erf on [-1, 1] (nan outside); the result has `x`'s dtype.

    A closed-form start (Winitzki's, about 2e-3 relative error) is refined by Halley
    steps on f(z) = erf(z) - a. Where a > 0.5, f is computed as (1 - a) - erfc(z), with
    1 - a exact, so values close to +-1 keep their precision. Each step triples the
    correct digits: 2e-3, 1e-8, then below float64 rounding.
    """
    plan = _ERF64 if x.dtype == np.float64 else _ERF32
    steps = 3 if x.dtype == np.float64 else 2

    def block(w):
        a = np.abs(w)
        one_minus = 1.0 - a  # exact for a >= 0.5 (Sterbenz), the range that uses it
        log_term = np.log(one_minus * (1.0 + a))
        k = 0.147
        s = 2.0 / (math.pi * k) + log_term / 2.0
        z = np.sqrt(np.sqrt(s * s - log_term / k) - s)
        near_one = a > 0.5
        for _ in range(steps):
            head, tail = _erf_pieces(z, plan)
            # erfc(z) where a > 0.5 (z > 0.47), from whichever piece covers z.
            erfc = np.where(z < 1.0, 1.0 - head, tail)
            residual = np.where(near_one, one_minus - erfc, head - a)
            step = residual / (_TWO_OVER_SQRT_PI * np.exp(-z * z))
            z = z - step / (1.0 + z * step)
        z[a == 1.0] = np.inf
        z[~(a <= 1.0)] = np.nan  # |x| > 1 and nan
        return np.copysign(z, w, out=z)

    with np.errstate(invalid="ignore", divide="ignore", over="ignore", under="ignore"):
        return _blockwise(block, x)


xp.erf = erf
xp.erfinv = erfinv


def scatter_apply(op, out, key, values):
    """out[key] = op(out[key], values) in place, every repeat of a position in `key`
    applied in turn (`op` names a ufunc: add, multiply, maximum, minimum)."""
    getattr(np, op).at(out, key, values)


xp.scatter_apply = scatter_apply


def scatter_set(out, key, values):
    """out[key] = values; a repeated position keeps the last write, as in MLX."""
    out[key] = values


xp.scatter_set = scatter_set
# Device-specific fast paths (the CuPy backend's cuda_index kernels); none here.
xp.take_along = None
xp.scatter_add_along = None
