"""Elementwise primitives.

Ops have already promoted the inputs to one dtype (and to a float dtype where the
operation needs one), so a primitive's output dtype is its input dtype unless it says
otherwise. Binary primitives broadcast NumPy-style, so an op on differently shaped
operands is one node, not a broadcast node plus the op.

Where NumPy and MLX disagree (bool arithmetic, integer powers with negative exponents,
the sign of nan, complex floor division, ...), `eval` follows MLX.

Transform rules follow MLX's conventions: a holomorphic f has vjp `g * conj(f'(z))` and
jvp `t * f'(z)`; piecewise-constant primitives (rounding, comparisons, logic, bits)
have explicit zero derivatives, which propagate nan through earlier 0 * inf products
exactly as MLX's do. Unary primitives state f' in `derivative`, binary ones
`partial`, and the base classes turn those into vjp and jvp.
"""
import math

import mlxpy.core as mx

from .base import Primitive, TransformError
from ._rules import apply, unbroadcast, vmap_elementwise
from .. import dtypes as _dt


def _kind(dtype):
    """NumPy's dtype kind, but 'f' for bfloat16 (ml_dtypes reports 'V')."""
    k = dtype.kind
    return "f" if k == "V" else k


def _broadcast2(a, b):
    # Hot path of every binary op on differently shaped operands: a scalar operand
    # is the common case, and an import statement here would cost a microsecond.
    if a == b or not b:
        return a
    if not a:
        return b
    return _broadcast_shapes(a, b)


def _broadcast_shapes(*shapes):
    global _broadcast_shapes
    from ..ops._core import broadcast_shapes as _broadcast_shapes
    return _broadcast_shapes(*shapes)


def _conj(x):
    """conj(x) for complex arrays; real arrays and Python numbers are their own conjugate."""
    if isinstance(x, mx.array) and x.dtype is _dt.complex64:
        return mx.conj(x)
    return x


def _scale(g, d):
    """g * d, skipping the product when a factor is 1: the number, or the scalar
    constant 1 that seeds `grad` (when d has its dtype, d is exactly the product)."""
    if not isinstance(d, mx.array):
        if d == 1:
            return g
    elif _is_unit(g._node) and d._node.dtype is g._node.dtype:
        return d
    return g * d


def _is_unit(n):
    # Real only: a complex 1 times an infinity has a nan part.
    return (n.prim is None and not n.shape and n.data is not None
            and n.dtype.kind in "fiu" and n.data == 1)


def _mark_direct(cls, base):
    cls.direct_ufunc = cls.ufunc if cls.ufunc and cls.eval is base.eval else None


class Unary(Primitive):
    """A NumPy ufunc of one input whose output has the input's dtype."""
    __slots__ = ()
    abstract = True
    ufunc = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _mark_direct(cls, Unary)

    def infer(self, inputs):
        n = inputs[0]
        return n.shape, n.dtype

    def eval(self, xp, inputs):
        return getattr(xp, self.ufunc)(inputs[0])

    def derivative(self, x, out):
        """f'(x), an array or a Python number; `out` is f(x) when the caller has it."""
        raise TransformError(f"[{self.name}] This primitive has no derivative.")

    def output(self, x, out):
        """f(x): the given output, or a fresh node (jvp rules have no outputs)."""
        return out if out is not None else apply(self, [x])

    def vjp(self, primals, cotangents, argnums, outputs):
        return [_scale(cotangents[0], _conj(self.derivative(primals[0], outputs[0])))]

    def jvp(self, primals, tangents, argnums):
        return [_scale(tangents[0], self.derivative(primals[0], None))]

    def vmap(self, inputs, axes):
        return [apply(self, inputs)], [axes[0]]


class Piecewise(Unary):
    """A piecewise-constant unary primitive: zero derivatives of the input's dtype."""
    __slots__ = ()
    abstract = True

    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.zeros_like(primals[0])]

    def jvp(self, primals, tangents, argnums):
        return [mx.zeros_like(primals[0])]


class Binary(Primitive):
    """A NumPy ufunc of two same-dtype inputs, broadcast together."""
    __slots__ = ()
    abstract = True
    ufunc = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _mark_direct(cls, Binary)

    def infer(self, inputs):
        a, b = inputs
        return _broadcast2(a.shape, b.shape), a.dtype

    def eval(self, xp, inputs):
        return getattr(xp, self.ufunc)(inputs[0], inputs[1])

    def partial(self, k, a, b, out):
        """df/d(input k) at (a, b), an array or a Python number; `out` may be None."""
        raise TransformError(f"[{self.name}] This primitive has no derivative.")

    def vjp(self, primals, cotangents, argnums, outputs):
        a, b = primals
        g = cotangents[0]
        return [unbroadcast(_scale(g, _conj(self.partial(k, a, b, outputs[0]))), primals[k].shape)
                for k in argnums]

    def jvp(self, primals, tangents, argnums):
        a, b = primals
        out = None
        for k, t in zip(argnums, tangents):
            term = _scale(t, self.partial(k, a, b, None))
            out = term if out is None else out + term
        shape = _broadcast2(a.shape, b.shape)
        return [out if out.shape == shape else mx.broadcast_to(out, shape)]

    def vmap(self, inputs, axes):
        return vmap_elementwise(self, inputs, axes)


class Discrete(Binary):
    """A binary primitive with integer or boolean meaning (floor division, bitwise ops,
    comparisons): zero derivatives, in the tangent's dtype for jvp, as MLX."""
    __slots__ = ()
    abstract = True
    # None: zeros of the tangent's dtype; logical ops give bool zeros instead.
    tangent_dtype = None

    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.zeros_like(primals[k]) for k in argnums]

    def jvp(self, primals, tangents, argnums):
        a, b = primals
        return [mx.zeros(_broadcast2(a.shape, b.shape), self.tangent_dtype or tangents[0].dtype)]


class Logical(Discrete):
    __slots__ = ()
    abstract = True
    tangent_dtype = _dt.bool_


class Comparison(Discrete):
    __slots__ = ()
    abstract = True

    def infer(self, inputs):
        a, b = inputs
        return _broadcast2(a.shape, b.shape), _dt.bool_


class Predicate(Unary):
    """A bool-valued test of one input: zero derivatives (jvp: in the tangent's dtype,
    or bool where MLX composes the test from logical ops)."""
    __slots__ = ()
    abstract = True
    tangent_dtype = None

    def infer(self, inputs):
        return inputs[0].shape, _dt.bool_

    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.zeros_like(primals[0])]

    def jvp(self, primals, tangents, argnums):
        return [mx.zeros(primals[0].shape, self.tangent_dtype or tangents[0].dtype)]


def _unary(name, ufunc, derivative=None, base=Unary):
    attrs = {"__slots__": (), "ufunc": ufunc}
    if derivative is not None:
        attrs["derivative"] = derivative
    return type(name, (base,), attrs)


def _binary(name, ufunc, base=Binary):
    return type(name, (base,), {"__slots__": (), "ufunc": ufunc})


# -- unary ---------------------------------------------------------------------------

# Each derivative is written as MLX writes it (1 / x for log, 1 / cos(x)^2 for tan, 0.5 / out
# for sqrt), so that zeros, infinities and nans give the same gradients.
Negative = _unary("Negative", "negative", lambda self, x, out: -1)
Sqrt = _unary("Sqrt", "sqrt", lambda self, x, out: 0.5 / self.output(x, out))
Exp = _unary("Exp", "exp", lambda self, x, out: self.output(x, out))
Expm1 = _unary("Expm1", "expm1", lambda self, x, out: mx.exp(x) if out is None else out + 1)
Log = _unary("Log", "log", lambda self, x, out: 1 / x)
Log1p = _unary("Log1p", "log1p", lambda self, x, out: 1 / (x + 1))
Log2 = _unary("Log2", "log2", lambda self, x, out: (1 / math.log(2)) / x)
Log10 = _unary("Log10", "log10", lambda self, x, out: (1 / math.log(10)) / x)
Sin = _unary("Sin", "sin", lambda self, x, out: mx.cos(x))
Cos = _unary("Cos", "cos", lambda self, x, out: -mx.sin(x))
Tan = _unary("Tan", "tan", lambda self, x, out: 1 / mx.square(mx.cos(x)))
Sinh = _unary("Sinh", "sinh", lambda self, x, out: mx.cosh(x))
Cosh = _unary("Cosh", "cosh", lambda self, x, out: mx.sinh(x))
Tanh = _unary("Tanh", "tanh", lambda self, x, out: 1 / mx.square(mx.cosh(x)))
ArcSin = _unary("ArcSin", "arcsin", lambda self, x, out: mx.rsqrt(1 - mx.square(x)))
ArcCos = _unary("ArcCos", "arccos", lambda self, x, out: -mx.rsqrt(1 - mx.square(x)))
ArcTan = _unary("ArcTan", "arctan", lambda self, x, out: 1 / (1 + mx.square(x)))
ArcSinh = _unary("ArcSinh", "arcsinh", lambda self, x, out: mx.rsqrt(mx.square(x) + 1))
# For complex z, 1 / sqrt(z^2 - 1) takes the wrong sign of the square root on half the
# plane; the product of the two roots follows arccosh's principal branch.
ArcCosh = _unary("ArcCosh", "arccosh", lambda self, x, out: (
    1 / (mx.sqrt(x - 1) * mx.sqrt(x + 1)) if x.dtype is _dt.complex64
    else mx.rsqrt(mx.square(x) - 1)))
ArcTanh = _unary("ArcTanh", "arctanh", lambda self, x, out: 1 / (1 - mx.square(x)))
Floor = _unary("Floor", "floor", base=Piecewise)
Ceil = _unary("Ceil", "ceil", base=Piecewise)
Trunc = _unary("Trunc", "trunc", base=Piecewise)
LogicalNot = _unary("LogicalNot", "logical_not", base=Piecewise)
# On bool, NumPy's invert is logical not, which is also MLX's ~ on bool. (MLX has no
# derivative for it; zeros, like every other bitwise op, are the natural one.)
BitwiseInvert = _unary("BitwiseInvert", "invert", base=Piecewise)
Erf = _unary("Erf", "erf", lambda self, x, out: (2 / math.sqrt(math.pi)) * mx.exp(
    -mx.square(x)))
ErfInv = _unary("ErfInv", "erfinv", lambda self, x, out: (math.sqrt(math.pi) / 2) * mx.exp(
    mx.square(self.output(x, out))))


class Conjugate(Unary):
    """conj(z): not holomorphic, so its rules conjugate instead of multiplying."""
    __slots__ = ()
    ufunc = "conj"

    def vjp(self, primals, cotangents, argnums, outputs):
        return [_conj(cotangents[0])]

    def jvp(self, primals, tangents, argnums):
        return [_conj(tangents[0])]


class Abs(Unary):
    """|x|; complex64 gives float32."""
    __slots__ = ()
    ufunc = "abs"

    def infer(self, inputs):
        n = inputs[0]
        return n.shape, (_dt.float32 if n.dtype is _dt.complex64 else n.dtype)

    # |z| is real-valued: its gradient is the unit vector z / |z| (0 at 0), and its
    # tangent the component of t along it.
    def vjp(self, primals, cotangents, argnums, outputs):
        return [cotangents[0] * mx.sign(primals[0])]

    def jvp(self, primals, tangents, argnums):
        x, t = primals[0], tangents[0]
        if x.dtype is _dt.complex64:
            return [mx.real(mx.conj(mx.sign(x)) * t)]
        return [t * mx.sign(x)]


class Square(Unary):
    __slots__ = ()
    ufunc = "square"

    def eval(self, xp, inputs):
        x = inputs[0]
        if x.dtype.kind == "b":
            return x.copy()  # True * True; NumPy's square of bool is int8
        return xp.square(x)

    def derivative(self, x, out):
        return x if x.dtype is _dt.bool_ else 2 * x


class Sign(Piecewise):
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
        # xp.reciprocal, not 1 / ...: CuPy's Python-scalar division loses the sign of
        # a 0-d -0.0, and rsqrt(-0.0) is -inf.
        x = inputs[0]
        return xp.reciprocal(xp.sqrt(x)).astype(x.dtype, copy=False)

    def derivative(self, x, out):
        return -0.5 * self.output(x, out) / x


class Reciprocal(Unary):
    __slots__ = ()

    def eval(self, xp, inputs):
        x = inputs[0]
        if x.dtype.kind == "c":
            return _complex_divide(xp, xp.ones_like(x), x)
        return xp.reciprocal(x).astype(x.dtype, copy=False)

    def derivative(self, x, out):
        return -1 / mx.square(x)


class Sigmoid(Unary):
    __slots__ = ()

    def eval(self, xp, inputs):
        x = inputs[0]
        # exp(-|x|) never overflows; pick the algebraically equal branch per sign.
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def derivative(self, x, out):
        s = self.output(x, out)
        return s * (1 - s)


class Round(Piecewise):
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

    # Re(z) = x: its gradient is g (along the real axis), its tangent Re(t).
    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.astype(cotangents[0], primals[0].dtype)]

    def jvp(self, primals, tangents, argnums):
        return [mx.real(tangents[0])]


class Imag(Real):
    __slots__ = ()

    def eval(self, xp, inputs):
        return xp.imag(inputs[0])

    # Im(z) = y: its gradient is g * i, its tangent Im(t).
    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.astype(cotangents[0], primals[0].dtype) * 1j]

    def jvp(self, primals, tangents, argnums):
        return [mx.imag(tangents[0])]


IsNaN = _unary("IsNaN", "isnan", base=Predicate)
# MLX builds these two from logical ops, whose tangents are bool.
IsInf = type("IsInf", (Predicate,), {"__slots__": (), "ufunc": "isinf",
                                      "tangent_dtype": _dt.bool_})
IsFinite = type("IsFinite", (Predicate,), {"__slots__": (), "ufunc": "isfinite",
                                            "tangent_dtype": _dt.bool_})


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

    # No cotangent or tangent at all (not zeros): nothing upstream is differentiated,
    # so upstream infinities cannot turn into nan.
    def vjp(self, primals, cotangents, argnums, outputs):
        return [None]

    def jvp(self, primals, tangents, argnums):
        return [None]


class AsType(Unary):
    __slots__ = ("dtype",)

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
        if xp.name != "numpy" and target.kind in "iu" and _kind(x.dtype) == "f":
            return xp.float_to_int(x, target.np)
        return x.astype(target.np)

    # The cotangent is cast back to the input's dtype: complex to real keeps the real
    # part, and an integer input gets its float gradient truncated, as in MLX.
    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.astype(cotangents[0], primals[0].dtype)]

    def jvp(self, primals, tangents, argnums):
        return [mx.astype(tangents[0], self.dtype)]


# -- binary --------------------------------------------------------------------------

class Add(Binary):
    __slots__ = ()
    ufunc = "add"  # on bool, NumPy's add is logical or, as MLX's

    def partial(self, k, a, b, out):
        return 1


class Multiply(Binary):
    __slots__ = ()
    ufunc = "multiply"  # on bool, logical and, as MLX's

    def partial(self, k, a, b, out):
        return b if k == 0 else a


class Subtract(Binary):
    __slots__ = ()
    ufunc = "subtract"

    def eval(self, xp, inputs):
        a, b = inputs
        if a.dtype.kind == "b":
            return xp.not_equal(a, b)  # MLX: True - True is False, False - True is True
        return xp.subtract(a, b)

    def partial(self, k, a, b, out):
        return 1 if k == 0 else -1


class Maximum(Binary):
    """Nan-propagating; complex compares lexicographically.

    As MLX: the gradient goes to a where a > b and to b where a <= b, so ties go to b
    and where either is nan neither gets it. The masks multiply the cotangent, so an
    infinite cotangent gives nan on the unselected side."""
    __slots__ = ()
    ufunc = "maximum"

    def partial(self, k, a, b, out):
        return mx.greater(a, b) if k == 0 else mx.less_equal(a, b)


class Minimum(Binary):
    """The gradient goes to a where a < b and to b where a >= b (see Maximum)."""
    __slots__ = ()
    ufunc = "minimum"

    def partial(self, k, a, b, out):
        return mx.less(a, b) if k == 0 else mx.greater_equal(a, b)


class ArcTan2(Binary):
    __slots__ = ()
    ufunc = "arctan2"

    def partial(self, k, a, b, out):
        return (b if k == 0 else -a) / (mx.square(a) + mx.square(b))


LogicalAnd = _binary("LogicalAnd", "logical_and", Logical)
LogicalOr = _binary("LogicalOr", "logical_or", Logical)
BitwiseAnd = _binary("BitwiseAnd", "bitwise_and", Discrete)
BitwiseOr = _binary("BitwiseOr", "bitwise_or", Discrete)
BitwiseXor = _binary("BitwiseXor", "bitwise_xor", Discrete)
LeftShift = _binary("LeftShift", "left_shift", Discrete)
RightShift = _binary("RightShift", "right_shift", Discrete)
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

    def partial(self, k, a, b, out):
        return 1 / b if k == 0 else -a / mx.square(b)


class FloorDivide(Discrete):
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

    def partial(self, k, a, b, out):
        return 1 if k == 0 else -mx.floor(a / b)


def _constant_value(x):
    """The value of a real one-element constant (evaluated, outside any graph), else None."""
    n = x._node
    if n.prim is None and n.data is not None and n.data.size == 1 and _kind(n.dtype.np) != "c":
        return float(n.data.reshape(()))
    return None


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

    def partial(self, k, a, b, out):
        if k == 0:
            if _constant_value(b) == 2.0:
                # d(x**2)/dx = 2x: the square of a loss is common, and a float power
                # costs ~100 multiplies in NumPy.
                return a * b
            return mx.power(a, b - 1) * b
        out = self.output(a, b, out)
        # MLX's rule: out * log(a), but 0 wherever the power itself is 0. So at a == 0
        # the derivative is 0 for y > 0 but -inf for y == 0 (there out is 1).
        return mx.where(out, mx.log(a) * out, 0.0)

    def output(self, a, b, out):
        return out if out is not None else apply(self, [a, b])


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

    def partial(self, k, a, b, out):
        # sigmoid(a - b), as MLX: logaddexp(inf, 1) gives gradients 1 and 0, not nan.
        # (MLX refuses complex inputs here; 1 / (1 + exp(b - a)) is their derivative.)
        if a.dtype is _dt.complex64:
            s = 1 / (1 + mx.exp(b - a))
        else:
            s = mx.sigmoid(a - b)
        return s if k == 0 else 1 - s


class Select(Primitive):
    """where(condition, x, y), broadcasting all three."""
    __slots__ = ()

    def infer(self, inputs):
        c, x, y = inputs
        from ..ops._core import broadcast_shapes
        return broadcast_shapes(c.shape, x.shape, y.shape), x.dtype

    def eval(self, xp, inputs):
        return xp.where(inputs[0], inputs[1], inputs[2])

    # Masks multiply the cotangent (MLX's rule), so an infinite cotangent gives nan on
    # the unselected side. The condition has no derivative.
    def vjp(self, primals, cotangents, argnums, outputs):
        c = primals[0]
        g = cotangents[0]
        grads = []
        for k in argnums:
            if k == 0:
                grads.append(mx.zeros_like(c))
            else:
                mask = c if k == 1 else mx.logical_not(c)
                grads.append(unbroadcast(g * mask, primals[k].shape))
        return grads

    def jvp(self, primals, tangents, argnums):
        c = primals[0]
        out = None
        for k, t in zip(argnums, tangents):
            if k == 0:
                continue
            term = t * (c if k == 1 else mx.logical_not(c))
            out = term if out is None else out + term
        shape = mx.broadcast_shapes(*(p.shape for p in primals))
        if out is None:
            return [mx.zeros(shape, primals[1].dtype)]
        return [out if out.shape == shape else mx.broadcast_to(out, shape)]

    def vmap(self, inputs, axes):
        return vmap_elementwise(self, inputs, axes)
