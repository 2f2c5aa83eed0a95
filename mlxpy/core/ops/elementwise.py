"""Elementwise ops: arithmetic, math functions, comparisons, logic."""
from .. import dtypes as _dt
from ..array import array, wrap
from ..graph import Node
from ..primitives import elementwise as P
from ._core import (binary_nodes, cast_node, make, node_of, stream_of, attach_methods,
                    check_dtype)

_array = array


def _binary_op(prim, name):
    def op(a, b, /, *, stream=None):
        s = stream_of(stream, name)
        na, nb = binary_nodes(a, b, name, s)
        sa, sb = na.shape, nb.shape
        shape = sa if sa == sb else prim.infer((na, nb))[0]
        return wrap(Node(shape, na.dtype, prim, [na, nb], s))
    op.__name__ = name
    return op


def _comparison_op(prim, name):
    def op(a, b, /, *, stream=None):
        s = stream_of(stream, name)
        na, nb = binary_nodes(a, b, name, s)
        return make(prim, [na, nb], s)
    op.__name__ = name
    return op


add = _binary_op(P.Add(), "add")
subtract = _binary_op(P.Subtract(), "subtract")
multiply = _binary_op(P.Multiply(), "multiply")
maximum = _binary_op(P.Maximum(), "maximum")
minimum = _binary_op(P.Minimum(), "minimum")
equal = _comparison_op(P.Equal(), "equal")
not_equal = _comparison_op(P.NotEqual(), "not_equal")
less = _comparison_op(P.Less(), "less")
less_equal = _comparison_op(P.LessEqual(), "less_equal")
greater = _comparison_op(P.Greater(), "greater")
greater_equal = _comparison_op(P.GreaterEqual(), "greater_equal")

add.__doc__ = """Elementwise sum with broadcasting.

>>> import mlxpy.core as mx
>>> mx.add(mx.array([1, 2]), 1)
array([2, 3], dtype=int32)
"""

_DIVIDE = P.Divide()
_FLOOR_DIVIDE = P.FloorDivide()
_REMAINDER = P.Remainder()
_POWER = P.Power()
_ARCTAN2 = P.ArcTan2()
_LOGADDEXP = P.LogAddExp()


def _float_pair(a, b, name, stream):
    na, nb = binary_nodes(a, b, name, stream)
    if na.dtype.kind not in "fc":
        na = cast_node(na, _dt.float32, stream)
        nb = cast_node(nb, _dt.float32, stream)
    return na, nb


def divide(a, b, /, *, stream=None):
    """True division; integer inputs give float32."""
    s = stream_of(stream, "divide")
    na, nb = _float_pair(a, b, "divide", s)
    return make(_DIVIDE, [na, nb], s)


def arctan2(a, b, /, *, stream=None):
    s = stream_of(stream, "arctan2")
    na, nb = _float_pair(a, b, "arctan2", s)
    return make(_ARCTAN2, [na, nb], s)


def logaddexp(a, b, /, *, stream=None):
    s = stream_of(stream, "logaddexp")
    na, nb = _float_pair(a, b, "logaddexp", s)
    return make(_LOGADDEXP, [na, nb], s)


def floor_divide(a, b, /, *, stream=None):
    """Division rounded towards negative infinity (floor of the quotient for floats)."""
    s = stream_of(stream, "floor_divide")
    na, nb = binary_nodes(a, b, "floor_divide", s)
    if na.dtype.kind in "fc":
        return floor(make(_DIVIDE, [na, nb], s), stream=s)
    return make(_FLOOR_DIVIDE, [na, nb], s)


def remainder(a, b, /, *, stream=None):
    """Remainder with the sign of the divisor, as Python's `%`."""
    s = stream_of(stream, "remainder")
    na, nb = binary_nodes(a, b, "remainder", s)
    return make(_REMAINDER, [na, nb], s)


def divmod(a, b, /, *, stream=None):
    """(floor_divide(a, b), remainder(a, b))."""
    return floor_divide(a, b, stream=stream), remainder(a, b, stream=stream)


def power(a, b, /, *, stream=None):
    """Elementwise a ** b."""
    s = stream_of(stream, "power")
    na, nb = binary_nodes(a, b, "power", s)
    return make(_POWER, [na, nb], s)


def _bitwise_op(prim, name):
    def op(a, b, /, *, stream=None):
        s = stream_of(stream, name)
        na, nb = binary_nodes(a, b, name, s)
        if na.dtype.kind not in "iub":
            raise ValueError(f"[{name}] Bitwise operations are only allowed on integer and "
                             "boolean types.")
        return make(prim, [na, nb], s)
    op.__name__ = name
    return op


bitwise_and = _bitwise_op(P.BitwiseAnd(), "bitwise_and")
bitwise_or = _bitwise_op(P.BitwiseOr(), "bitwise_or")
bitwise_xor = _bitwise_op(P.BitwiseXor(), "bitwise_xor")
left_shift = _bitwise_op(P.LeftShift(), "left_shift")
right_shift = _bitwise_op(P.RightShift(), "right_shift")


def _logical_op(prim, name):
    def op(a, b, /, *, stream=None):
        s = stream_of(stream, name)
        na, nb = binary_nodes(a, b, name, s)
        return make(prim, [cast_node(na, _dt.bool_, s), cast_node(nb, _dt.bool_, s)], s)
    op.__name__ = name
    return op


logical_and = _logical_op(P.LogicalAnd(), "logical_and")
logical_or = _logical_op(P.LogicalOr(), "logical_or")
_LOGICAL_NOT = P.LogicalNot()


def logical_not(a, /, *, stream=None):
    s = stream_of(stream, "logical_not")
    return make(_LOGICAL_NOT, [cast_node(node_of(a, "logical_not"), _dt.bool_, s)], s)


def _unary_op(prim, name, to_float=False, doc=None):
    """A unary op; `to_float` promotes integer and boolean inputs to float32 first."""
    def op(a, /, *, stream=None):
        s = stream_of(stream, name)
        n = a._node if type(a) is _array else node_of(a, name)
        if to_float and n.dtype.kind not in "fc":
            n = cast_node(n, _dt.float32, s)
        return wrap(Node(n.shape, n.dtype, prim, [n], s))
    op.__name__ = name
    op.__doc__ = doc
    return op


abs = _unary_op(P.Abs(), "abs")
square = _unary_op(P.Square(), "square")
sign = _unary_op(P.Sign(), "sign")
sqrt = _unary_op(P.Sqrt(), "sqrt", True)
rsqrt = _unary_op(P.Rsqrt(), "rsqrt", True)
reciprocal = _unary_op(P.Reciprocal(), "reciprocal", True)
exp = _unary_op(P.Exp(), "exp", True, """Elementwise exponential.

>>> import mlxpy.core as mx
>>> mx.exp(mx.array([0.0]))
array([1], dtype=float32)
""")
expm1 = _unary_op(P.Expm1(), "expm1", True)
log = _unary_op(P.Log(), "log", True)
log1p = _unary_op(P.Log1p(), "log1p", True)
log2 = _unary_op(P.Log2(), "log2", True)
log10 = _unary_op(P.Log10(), "log10", True)
sin = _unary_op(P.Sin(), "sin", True, """Elementwise sine.

>>> import mlxpy.core as mx
>>> mx.sin(mx.array(0.0))
array(0, dtype=float32)
""")
cos = _unary_op(P.Cos(), "cos", True)
tan = _unary_op(P.Tan(), "tan", True)
sinh = _unary_op(P.Sinh(), "sinh", True)
cosh = _unary_op(P.Cosh(), "cosh", True)
tanh = _unary_op(P.Tanh(), "tanh", True)
arcsin = _unary_op(P.ArcSin(), "arcsin", True)
arccos = _unary_op(P.ArcCos(), "arccos", True)
arctan = _unary_op(P.ArcTan(), "arctan", True)
arcsinh = _unary_op(P.ArcSinh(), "arcsinh", True)
arccosh = _unary_op(P.ArcCosh(), "arccosh", True)
arctanh = _unary_op(P.ArcTanh(), "arctanh", True)
sigmoid = _unary_op(P.Sigmoid(), "sigmoid", True)
erf = _unary_op(P.Erf(), "erf", True)
erfinv = _unary_op(P.ErfInv(), "erfinv", True)
conjugate = conj = _unary_op(P.Conjugate(), "conjugate")
_NEGATIVE = P.Negative()
_FLOOR = P.Floor()
_CEIL = P.Ceil()
_INVERT = P.BitwiseInvert()


def negative(a, /, *, stream=None):
    s = stream_of(stream, "negative")
    n = node_of(a, "negative")
    if n.dtype is _dt.bool_:
        raise ValueError("[negative] Not supported for bool, use logical_not instead.")
    return make(_NEGATIVE, [n], s)


def _integral_passthrough(prim, name):
    # floor/ceil leave integers as they are (MLX returns them unchanged).
    def op(a, /, *, stream=None):
        s = stream_of(stream, name)
        n = node_of(a, name)
        if n.dtype.kind == "c":
            raise ValueError(f"[{name}] Not supported for complex64.")
        if n.dtype.kind in "iub":
            return wrap(n)
        return make(prim, [n], s)
    op.__name__ = name
    return op


floor = _integral_passthrough(_FLOOR, "floor")
ceil = _integral_passthrough(_CEIL, "ceil")


def round(a, /, decimals=0, *, stream=None):
    """Round to `decimals` decimal places (half to even)."""
    s = stream_of(stream, "round")
    n = node_of(a, "round")
    if n.dtype.kind in "iub" and decimals >= 0:
        return wrap(n)
    return make(P.Round(int(decimals)), [n], s)


def bitwise_invert(a, /, *, stream=None):
    s = stream_of(stream, "bitwise_invert")
    n = node_of(a, "bitwise_invert")
    if n.dtype.kind not in "iub":
        raise ValueError("[bitwise_invert] Bitwise inverse is only allowed on integer types.")
    return make(_INVERT, [n], s)


def _predicate(prim, name, integral_value):
    def op(a, /, *, stream=None):
        s = stream_of(stream, name)
        n = node_of(a, name)
        if n.dtype.kind in "iub":
            from .creation import full
            return full(n.shape, integral_value, _dt.bool_, stream=s)
        return make(prim, [n], s)
    op.__name__ = name
    return op


isnan = _predicate(P.IsNaN(), "isnan", False)
isinf = _predicate(P.IsInf(), "isinf", False)
isfinite = _predicate(P.IsFinite(), "isfinite", True)
isposinf = _predicate(P.IsPosInf(), "isposinf", False)
isneginf = _predicate(P.IsNegInf(), "isneginf", False)


def real(a, /, *, stream=None):
    s = stream_of(stream, "real")
    n = node_of(a, "real")
    if n.dtype is not _dt.complex64:
        return wrap(n)
    return make(P.Real(), [n], s)


def imag(a, /, *, stream=None):
    s = stream_of(stream, "imag")
    n = node_of(a, "imag")
    if n.dtype is not _dt.complex64:
        from .creation import zeros_like
        return zeros_like(wrap(n), stream=s)
    return make(P.Imag(), [n], s)


_SELECT = P.Select()


def where(condition, x, y, /, *, stream=None):
    """Elements of `x` where `condition` is true, else of `y`, with broadcasting."""
    s = stream_of(stream, "where")
    nx, ny = binary_nodes(x, y, "where", s)
    nc = cast_node(node_of(condition, "where"), _dt.bool_, s)
    return make(_SELECT, [nc, nx, ny], s)


def astype(a, dtype, /, stream=None):
    """A copy of `a` converted to `dtype`."""
    s = stream_of(stream, "astype")
    check_dtype(dtype, "astype")
    n = node_of(a, "astype")
    return wrap(cast_node(n, dtype, s)) if n.dtype is not dtype else wrap(n)


def clip(a, /, a_min, a_max, *, stream=None):
    """Limit the values of `a` to [a_min, a_max] (either may be None)."""
    if a_min is None and a_max is None:
        raise ValueError("[clip] At most one of a_min and a_max may be None.")
    out = a
    if a_min is not None:
        out = maximum(out, a_min, stream=stream)
    if a_max is not None:
        out = minimum(out, a_max, stream=stream)
    return out


attach_methods({
    "abs": abs, "square": square, "sqrt": sqrt, "rsqrt": rsqrt, "reciprocal": reciprocal,
    "exp": exp, "log": log, "log1p": log1p, "log2": log2, "log10": log10, "sin": sin,
    "cos": cos, "conj": conj, "round": round, "astype": astype,
})
