"""Elementwise primitives.

Ops have already promoted the inputs to one dtype (and to a float dtype where the
operation needs one), so a primitive's output dtype is its input dtype unless it says
otherwise. Binary primitives broadcast NumPy-style, so an op on differently shaped
operands is one node, not a broadcast node plus the op.

Where NumPy and MLX disagree (bool arithmetic, integer powers with negative exponents,
the sign of nan, complex floor division, ...), `eval` follows MLX.
"""
from .base import Primitive
from .. import dtypes as _dt


def _kind(dtype):
    """NumPy's dtype kind, but 'f' for bfloat16 (ml_dtypes reports 'V')."""
    k = dtype.kind
    return "f" if k == "V" else k


def _broadcast2(a, b):
    if a == b:
        return a
    from ..ops._core import broadcast_shapes
    return broadcast_shapes(a, b)


class Unary(Primitive):
    """A NumPy ufunc of one input whose output has the input's dtype."""
    __slots__ = ()
    abstract = True
    ufunc = ""

    def infer(self, inputs):
        n = inputs[0]
        return n.shape, n.dtype

    def eval(self, xp, inputs):
        return getattr(xp, self.ufunc)(inputs[0])


class Binary(Primitive):
    """A NumPy ufunc of two same-dtype inputs, broadcast together."""
    __slots__ = ()
    abstract = True
    ufunc = ""

    def infer(self, inputs):
        a, b = inputs
        return _broadcast2(a.shape, b.shape), a.dtype

    def eval(self, xp, inputs):
        return getattr(xp, self.ufunc)(inputs[0], inputs[1])


class Comparison(Binary):
    __slots__ = ()
    abstract = True

    def infer(self, inputs):
        a, b = inputs
        return _broadcast2(a.shape, b.shape), _dt.bool_


class Predicate(Unary):
    __slots__ = ()
    abstract = True

    def infer(self, inputs):
        return inputs[0].shape, _dt.bool_


def _unary(name, ufunc, base=Unary):
    return type(name, (base,), {"__slots__": (), "ufunc": ufunc})


def _binary(name, ufunc, base=Binary):
    return type(name, (base,), {"__slots__": (), "ufunc": ufunc})


# -- unary ---------------------------------------------------------------------------

Negative = _unary("Negative", "negative")
Sqrt = _unary("Sqrt", "sqrt")
Exp = _unary("Exp", "exp")
Expm1 = _unary("Expm1", "expm1")
Log = _unary("Log", "log")
Log1p = _unary("Log1p", "log1p")
Log2 = _unary("Log2", "log2")
Log10 = _unary("Log10", "log10")
Sin = _unary("Sin", "sin")
Cos = _unary("Cos", "cos")
Tan = _unary("Tan", "tan")
Sinh = _unary("Sinh", "sinh")
Cosh = _unary("Cosh", "cosh")
Tanh = _unary("Tanh", "tanh")
ArcSin = _unary("ArcSin", "arcsin")
ArcCos = _unary("ArcCos", "arccos")
ArcTan = _unary("ArcTan", "arctan")
ArcSinh = _unary("ArcSinh", "arcsinh")
ArcCosh = _unary("ArcCosh", "arccosh")
ArcTanh = _unary("ArcTanh", "arctanh")
Floor = _unary("Floor", "floor")
Ceil = _unary("Ceil", "ceil")
Trunc = _unary("Trunc", "trunc")
Conjugate = _unary("Conjugate", "conj")
LogicalNot = _unary("LogicalNot", "logical_not")
# On bool, NumPy's invert is logical not, which is also MLX's ~ on bool.
BitwiseInvert = _unary("BitwiseInvert", "invert")
Erf = _unary("Erf", "erf")
ErfInv = _unary("ErfInv", "erfinv")


class Abs(Unary):
    """|x|; complex64 gives float32."""
    __slots__ = ()
    ufunc = "abs"

    def infer(self, inputs):
        n = inputs[0]
        return n.shape, (_dt.float32 if n.dtype is _dt.complex64 else n.dtype)


class Square(Unary):
    __slots__ = ()
    ufunc = "square"

    def eval(self, xp, inputs):
        x = inputs[0]
        if x.dtype.kind == "b":
            return x.copy()  # True * True; NumPy's square of bool is int8
        return xp.square(x)


class Sign(Unary):
    """-1, 0 or 1 (0 for nan and for both zeros, as MLX); x / |x| for complex."""
    __slots__ = ()

    def eval(self, xp, inputs):
        x = inputs[0]
        kind = _kind(x.dtype)
        if kind == "c":
            mag = xp.abs(x)
            zero = mag == 0
            return xp.where(zero, 0, x / xp.where(zero, 1, mag)).astype(x.dtype, copy=False)
        if kind == "b":
            return x.copy()
        if kind == "f":
            return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)
        return xp.sign(x)


class Rsqrt(Unary):
    __slots__ = ()

    def eval(self, xp, inputs):
        x = inputs[0]
        return (1 / xp.sqrt(x)).astype(x.dtype, copy=False)


class Reciprocal(Unary):
    __slots__ = ()

    def eval(self, xp, inputs):
        x = inputs[0]
        if x.dtype.kind == "c":
            return _complex_divide(xp, xp.ones_like(x), x)
        return (1 / x).astype(x.dtype, copy=False)


class Sigmoid(Unary):
    __slots__ = ()

    def eval(self, xp, inputs):
        x = inputs[0]
        # exp(-|x|) never overflows; pick the algebraically equal branch per sign.
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Round(Unary):
    """Round half to even. Only `decimals=0` is a primitive; the op scales for others."""
    __slots__ = ("decimals",)

    def __init__(self, decimals=0):
        self.decimals = decimals

    def params(self):
        return (self.decimals,)

    def eval(self, xp, inputs):
        return xp.round(inputs[0], self.decimals)


class Real(Unary):
    __slots__ = ()

    def infer(self, inputs):
        return inputs[0].shape, _dt.float32

    def eval(self, xp, inputs):
        return xp.real(inputs[0])


class Imag(Real):
    __slots__ = ()

    def eval(self, xp, inputs):
        return xp.imag(inputs[0])


IsNaN = _unary("IsNaN", "isnan", Predicate)
IsInf = _unary("IsInf", "isinf", Predicate)
IsFinite = _unary("IsFinite", "isfinite", Predicate)


class IsPosInf(Predicate):
    """x == +inf; for complex, the real part +inf and the imaginary part 0 (MLX)."""
    __slots__ = ()
    ufunc = "isposinf"
    value = float("inf")

    def eval(self, xp, inputs):
        x = inputs[0]
        if x.dtype.kind == "c":
            return x == self.value
        return getattr(xp, self.ufunc)(x)


class IsNegInf(IsPosInf):
    __slots__ = ()
    ufunc = "isneginf"
    value = float("-inf")


class StopGradient(Unary):
    """The identity, which gradients do not flow through."""
    __slots__ = ()

    def eval(self, xp, inputs):
        return inputs[0]


class AsType(Unary):
    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def params(self):
        return (self.dtype,)

    def infer(self, inputs):
        return inputs[0].shape, self.dtype

    def eval(self, xp, inputs):
        # Out-of-range float to integer casts are undefined in C. NumPy's casts compile
        # to the same instructions as MLX's, so they agree with it (x86: nan and
        # overflow give the type's minimum, narrow types keep the low bits of int32).
        x = inputs[0]
        target = self.dtype
        if _kind(x.dtype) == "c":
            if target.kind == "b":
                return x != 0
            if target.kind != "c":
                x = x.real
        return x.astype(target.np)


# -- binary --------------------------------------------------------------------------

class Add(Binary):
    __slots__ = ()
    ufunc = "add"  # on bool, NumPy's add is logical or, as MLX's


class Multiply(Binary):
    __slots__ = ()
    ufunc = "multiply"  # on bool, logical and, as MLX's


class Subtract(Binary):
    __slots__ = ()
    ufunc = "subtract"

    def eval(self, xp, inputs):
        a, b = inputs
        if a.dtype.kind == "b":
            return xp.not_equal(a, b)  # MLX: True - True is False, False - True is True
        return xp.subtract(a, b)


Maximum = _binary("Maximum", "maximum")  # nan-propagating; complex compares lexicographically
Minimum = _binary("Minimum", "minimum")
ArcTan2 = _binary("ArcTan2", "arctan2")
LogicalAnd = _binary("LogicalAnd", "logical_and")
LogicalOr = _binary("LogicalOr", "logical_or")
BitwiseAnd = _binary("BitwiseAnd", "bitwise_and")
BitwiseOr = _binary("BitwiseOr", "bitwise_or")
BitwiseXor = _binary("BitwiseXor", "bitwise_xor")
LeftShift = _binary("LeftShift", "left_shift")
RightShift = _binary("RightShift", "right_shift")
NotEqual = _binary("NotEqual", "not_equal", Comparison)
Less = _binary("Less", "less", Comparison)
LessEqual = _binary("LessEqual", "less_equal", Comparison)
Greater = _binary("Greater", "greater", Comparison)
GreaterEqual = _binary("GreaterEqual", "greater_equal", Comparison)


class Equal(Comparison):
    """a == b; with `equal_nan`, two nans compare equal too (array_equal, isclose)."""
    __slots__ = ("equal_nan",)
    ufunc = "equal"

    def __init__(self, equal_nan=False):
        self.equal_nan = equal_nan

    def params(self):
        return (self.equal_nan,)

    def eval(self, xp, inputs):
        a, b = inputs
        out = xp.equal(a, b)
        if self.equal_nan and _kind(a.dtype) in "fc":
            out |= xp.isnan(a) & xp.isnan(b)
        return out


def _complex_divide(xp, a, b):
    """a / b with the C99 (Annex G) recovery of infinities and zeros that MLX's complex
    division has: x / 0 is copysign(inf, real(0)) * x, inf / finite is infinite and
    finite / inf is zero, where NumPy gives nan or other signs."""
    q = (a / b).astype(a.dtype, copy=False)
    c, d = b.real, b.imag
    zero = (c == 0) & (d == 0)
    lost = xp.isnan(q.real) & xp.isnan(q.imag)
    if not (zero.any() or lost.any()):
        return q
    x, y = a.real, a.imag
    inf = float("inf")
    num_not_nan = ~(xp.isnan(x) & xp.isnan(y))
    by_zero = zero & num_not_nan
    scale = xp.copysign(inf, c)
    q = xp.where(by_zero, _complex(xp, scale * x, scale * y), q)
    # An infinite numerator over a finite denominator.
    inf_num = lost & ~zero & (xp.isinf(x) | xp.isinf(y)) & xp.isfinite(c) & xp.isfinite(d)
    if inf_num.any():
        xs = xp.copysign(xp.where(xp.isinf(x), 1.0, 0.0), x)
        ys = xp.copysign(xp.where(xp.isinf(y), 1.0, 0.0), y)
        q = xp.where(inf_num, _complex(xp, inf * (xs * c + ys * d), inf * (ys * c - xs * d)), q)
    # A finite numerator over an infinite denominator.
    inf_den = lost & (xp.isinf(c) | xp.isinf(d)) & xp.isfinite(x) & xp.isfinite(y)
    if inf_den.any():
        cs = xp.copysign(xp.where(xp.isinf(c), 1.0, 0.0), c)
        ds = xp.copysign(xp.where(xp.isinf(d), 1.0, 0.0), d)
        q = xp.where(inf_den, _complex(xp, 0.0 * (x * cs + y * ds), 0.0 * (y * cs - x * ds)), q)
    return q.astype(a.dtype, copy=False)


def _complex(xp, re, im):
    """re + i im, without the nan that complex arithmetic makes of 1j * inf."""
    re, im = xp.broadcast_arrays(re, im)
    out = xp.empty(re.shape, dtype=xp.complex64)
    out.real = re
    out.imag = im
    return out


class Divide(Binary):
    """True division of float or complex inputs (ops cast integers to float32 first)."""
    __slots__ = ()
    ufunc = "divide"

    def eval(self, xp, inputs):
        a, b = inputs
        if a.dtype.kind == "c":
            return _complex_divide(xp, a, b)
        return (a / b).astype(a.dtype, copy=False)


class FloorDivide(Binary):
    """Floor division; floor(a / b) for floats and plain a / b for complex, as MLX."""
    __slots__ = ()
    ufunc = "floor_divide"

    def eval(self, xp, inputs):
        a, b = inputs
        kind = _kind(a.dtype)
        if kind == "f":
            return xp.floor(a / b).astype(a.dtype, copy=False)
        if kind == "c":
            return _complex_divide(xp, a, b)
        if kind == "b":
            return xp.logical_and(a, b)  # a // True is a; a // False divides by zero
        return xp.floor_divide(a, b)


class Remainder(Binary):
    """a - floor(a / b) * b, with the sign of `b` (Python's %)."""
    __slots__ = ()
    ufunc = "remainder"

    def eval(self, xp, inputs):
        a, b = inputs
        kind = _kind(a.dtype)
        if kind == "f":
            # MLX's rule: fmod, moved into b's sign. Unlike NumPy's remainder, a zero
            # result keeps fmod's sign (that of a).
            r = xp.fmod(a, b)
            fix = (r != 0) & ((r < 0) != (b < 0))
            return xp.where(fix, r + b, r).astype(a.dtype, copy=False)
        if kind == "b":
            return xp.logical_and(a, xp.logical_not(b))
        return xp.remainder(a, b)


class Power(Binary):
    __slots__ = ()
    ufunc = "power"

    def eval(self, xp, inputs):
        a, b = inputs
        kind = _kind(a.dtype)
        if kind in "iu":
            if kind == "i":
                # NumPy refuses negative integer exponents; MLX gives 0 for all of them.
                neg = b < 0
                if neg.any():
                    out = xp.power(a, xp.where(neg, 0, b))
                    return xp.where(neg, 0, out).astype(a.dtype, copy=False)
            return xp.power(a, b)
        if kind == "b":
            return xp.logical_or(a, xp.logical_not(b))  # x ** False is 1
        if kind == "c":
            # exp(b log a), as the C library's cpow: 0 ** 0 is nan there, not 1.
            return xp.exp(b * xp.log(a)).astype(a.dtype, copy=False)
        out = xp.power(a, b)
        if b.size == 1 and b.reshape(-1)[0] == 0.5:
            # NumPy computes x ** 0.5 as sqrt(x); C's pow gives +inf for -inf and +0 for -0.
            out = xp.where(a == 0, 0, xp.where(a == float("-inf"), float("inf"), out))
            out = out.astype(a.dtype, copy=False)
        return out


class LogAddExp(Binary):
    """log(exp(a) + exp(b)), without overflow."""
    __slots__ = ()
    ufunc = "logaddexp"

    def eval(self, xp, inputs):
        a, b = inputs
        if a.dtype.kind != "c":
            return xp.logaddexp(a, b)
        # MLX's complex rule: the lexicographically larger operand plus
        # log1p(exp(smaller - larger)); an infinite end returns the larger one.
        larger = xp.where(a > b, a, b)
        smaller = xp.where(a > b, b, a)
        inf = float("inf")
        out = larger + xp.log1p(xp.exp(smaller - larger))
        return xp.where((smaller == -inf) | (larger == inf), larger, out).astype(
            a.dtype, copy=False)


class Select(Primitive):
    """where(condition, x, y), broadcasting all three."""
    __slots__ = ()

    def infer(self, inputs):
        c, x, y = inputs
        from ..ops._core import broadcast_shapes
        return broadcast_shapes(c.shape, x.shape, y.shape), x.dtype

    def eval(self, xp, inputs):
        return xp.where(inputs[0], inputs[1], inputs[2])
