"""Elementwise primitives. Binary ones broadcast their inputs NumPy-style, so an op
on differently shaped operands is one node, not a broadcast node plus the op."""
from .base import Primitive
from .. import dtypes as _dt


def _broadcast2(a, b):
    if a == b or not b:
        return a
    if not a:
        return b
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


def _unary(name, ufunc):
    return type(name, (Unary,), {"__slots__": (), "ufunc": ufunc})


def _binary(name, ufunc, base=Binary):
    return type(name, (base,), {"__slots__": (), "ufunc": ufunc})


Negative = _unary("Negative", "negative")
Abs = _unary("Abs", "abs")
Square = _unary("Square", "square")
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
Conjugate = _unary("Conjugate", "conj")
LogicalNot = _unary("LogicalNot", "logical_not")
BitwiseInvert = _unary("BitwiseInvert", "invert")
Erf = _unary("Erf", "erf")
ErfInv = _unary("ErfInv", "erfinv")


class Sign(Unary):
    __slots__ = ()

    def eval(self, xp, inputs):
        x = inputs[0]
        if x.dtype.kind == "c":
            # MLX's complex sign is x / |x| (0 at 0), NumPy 2's too; keep the dtype.
            mag = xp.abs(x)
            return xp.where(mag == 0, 0, x / xp.where(mag == 0, 1, mag)).astype(x.dtype)
        if x.dtype.kind == "b":
            return x.copy()
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
        return (1 / x).astype(x.dtype, copy=False)


class Sigmoid(Unary):
    __slots__ = ()

    def eval(self, xp, inputs):
        x = inputs[0]
        # exp(-|x|) never overflows; pick the algebraically equal branch per sign.
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Round(Unary):
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
        return xp.real(inputs[0]).copy()


class Imag(Real):
    __slots__ = ()

    def eval(self, xp, inputs):
        return xp.imag(inputs[0]).copy()


IsNaN = type("IsNaN", (Predicate,), {"__slots__": (), "ufunc": "isnan"})
IsInf = type("IsInf", (Predicate,), {"__slots__": (), "ufunc": "isinf"})
IsFinite = type("IsFinite", (Predicate,), {"__slots__": (), "ufunc": "isfinite"})
IsPosInf = type("IsPosInf", (Predicate,), {"__slots__": (), "ufunc": "isposinf"})
IsNegInf = type("IsNegInf", (Predicate,), {"__slots__": (), "ufunc": "isneginf"})


class AsType(Unary):
    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def params(self):
        return (self.dtype,)

    def infer(self, inputs):
        return inputs[0].shape, self.dtype

    def eval(self, xp, inputs):
        x = inputs[0]
        target = self.dtype.np
        if target.kind in "iu" and x.dtype.kind in "fc":
            if x.dtype.kind == "c":
                x = x.real
            # Truncate through int64 so that out-of-range values wrap as in C, where
            # NumPy's direct cast is undefined.
            return x.astype(xp.int64).astype(target)
        if target.kind == "b" and x.dtype.kind == "c":
            return x != 0
        if target.kind == "f" and x.dtype.kind == "c":
            return x.real.astype(target)
        return x.astype(target)


Add = _binary("Add", "add")
Subtract = _binary("Subtract", "subtract")
Multiply = _binary("Multiply", "multiply")
Maximum = _binary("Maximum", "maximum")
Minimum = _binary("Minimum", "minimum")
ArcTan2 = _binary("ArcTan2", "arctan2")
LogAddExp = _binary("LogAddExp", "logaddexp")
LogicalAnd = _binary("LogicalAnd", "logical_and")
LogicalOr = _binary("LogicalOr", "logical_or")
BitwiseAnd = _binary("BitwiseAnd", "bitwise_and")
BitwiseOr = _binary("BitwiseOr", "bitwise_or")
BitwiseXor = _binary("BitwiseXor", "bitwise_xor")
LeftShift = _binary("LeftShift", "left_shift")
RightShift = _binary("RightShift", "right_shift")
Equal = _binary("Equal", "equal", Comparison)
NotEqual = _binary("NotEqual", "not_equal", Comparison)
Less = _binary("Less", "less", Comparison)
LessEqual = _binary("LessEqual", "less_equal", Comparison)
Greater = _binary("Greater", "greater", Comparison)
GreaterEqual = _binary("GreaterEqual", "greater_equal", Comparison)


class Divide(Binary):
    __slots__ = ()

    def eval(self, xp, inputs):
        a, b = inputs
        return (a / b).astype(a.dtype, copy=False)


class FloorDivide(Binary):
    __slots__ = ()
    ufunc = "floor_divide"


class Remainder(Binary):
    __slots__ = ()
    ufunc = "remainder"


class Power(Binary):
    __slots__ = ()

    def eval(self, xp, inputs):
        a, b = inputs
        if a.dtype.kind in "iu":
            # NumPy refuses negative integer exponents; MLX computes them by repeated
            # squaring, which gives 0 except for bases 1 and -1.
            neg = b < 0
            if xp.any(neg):
                safe = xp.power(a, xp.where(neg, 0, b))
                inv = xp.where(a == 1, 1, xp.where(a == -1, xp.where(b % 2 == 0, 1, -1), 0))
                return xp.where(neg, inv, safe).astype(a.dtype, copy=False)
        return xp.power(a, b)


class Select(Primitive):
    """where(condition, x, y), broadcasting all three."""
    __slots__ = ()

    def infer(self, inputs):
        c, x, y = inputs
        from ..ops._core import broadcast_shapes
        return broadcast_shapes(c.shape, x.shape, y.shape), x.dtype

    def eval(self, xp, inputs):
        return xp.where(inputs[0], inputs[1], inputs[2])
