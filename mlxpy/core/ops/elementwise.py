"""Elementwise ops: arithmetic, math functions, comparisons, logic, bitwise ops.

Arguments typed `scalar | array` in MLX take arrays, Python scalars, NumPy arrays and
scalars, and objects with `__array__` or `__dlpack__`; lists are refused, as in MLX.
Binary ops promote with MLX's rules: Python scalars are weakly typed, and a NumPy
operand next to an array takes the array's dtype.
"""
import math
import operator

from .. import dtypes as _dt
from ..array import array, wrap
from ..graph import Node, RawNode as _RawNode, _next_seq
from ..primitives import elementwise as P
from ._core import (binary_nodes, cast_node, make, stream_of, attach_methods, operand_node,
                    scalar_node, _SCALAR_CACHE)
from ..device import _state as _stream_state

__all__ = [
    "abs", "negative", "positive", "square", "sqrt", "rsqrt", "reciprocal", "exp", "expm1",
    "log", "log1p", "log2", "log10", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin",
    "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "asin", "acos", "atan", "asinh",
    "acosh", "atanh", "sigmoid", "erf", "erfinv", "floor", "ceil", "trunc", "round", "sign",
    "conj", "conjugate", "real", "imag", "degrees", "radians", "nan_to_num", "isnan", "isinf",
    "isfinite", "isposinf", "isneginf", "logical_not", "logical_and", "logical_or",
    "logical_xor", "bitwise_invert", "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift",
    "right_shift", "bitwise_left_shift", "bitwise_right_shift", "add", "subtract", "multiply",
    "divide", "floor_divide", "remainder", "divmod", "power", "pow", "maximum", "minimum",
    "arctan2", "atan2", "logaddexp", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "where", "clip", "astype",
]

_array = array
_Node = Node
_new = object.__new__


def _operand(x, where):
    """The node of a `scalar | array` argument."""
    if type(x) is _array:
        return x._node
    return operand_node(x, None, where)


def _strict(x, where):
    """The node of an argument MLX types as `array` alone (no scalars, no NumPy)."""
    if type(x) is _array or isinstance(x, _array):
        return x._node
    raise TypeError(f"[{where}] Expected an mlxpy array, got {type(x).__name__}.")


def _no_complex(n, where):
    if n.dtype is _dt.complex64:
        raise ValueError(f"[{where}] Not supported for complex64.")


# -- binary arithmetic -------------------------------------------------------------------

def _binary_op(prim, name, doc):
    # The hot path of every arithmetic operator. The common operands skip the general
    # promotion: two arrays of one dtype, and a Python float next to a floating array
    # (weakly typed: it takes the array's dtype, so it is the shared constant node,
    # with no checks to run). The node is built field by field (see graph.RawNode).
    infer = prim.infer

    def op(a, b, /, *, stream=None):
        s = _stream_state.current if stream is None else stream_of(stream, name)
        if type(a) is _array:
            na = a._node
            tb = type(b)
            if tb is _array and na.dtype is b._node.dtype:
                nb = b._node
                shape = na.shape
                if shape != nb.shape:
                    shape = infer((na, nb))[0]
            elif tb is float and na.dtype.kind == "f":
                nb = _SCALAR_CACHE.get((b, na.dtype.name)) or scalar_node(b, na.dtype, name)
                shape = na.shape
            else:
                shape = None
        elif type(a) is float and type(b) is _array and b._node.dtype.kind == "f":
            nb = b._node
            na = _SCALAR_CACHE.get((a, nb.dtype.name)) or scalar_node(a, nb.dtype, name)
            shape = nb.shape
        else:
            shape = None
        if shape is None:
            na, nb = binary_nodes(a, b, name, s)
            shape = na.shape
            if shape != nb.shape:
                shape = infer((na, nb))[0]
        n = _RawNode()
        n.seq = _next_seq()
        n.shape = shape
        n.dtype = nb.dtype
        n.prim = prim
        n.inputs = [na, nb]
        n.stream = s
        n.siblings = None
        n.data = None
        n.nbytes = 0
        out = _new(_array)
        out._node = n
        return out
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


add = _binary_op(P.Add(), "add", """Elementwise sum, with broadcasting.

>>> import mlxpy.core as mx
>>> mx.add(mx.array([1, 2]), 1)
array([2, 3], dtype=int32)
""")
subtract = _binary_op(P.Subtract(), "subtract", """Elementwise difference, with broadcasting.

>>> import mlxpy.core as mx
>>> mx.subtract(mx.array([1.5, 2.5]), mx.array([[1.0], [2.0]]))
array([[0.5, 1.5],
       [-0.5, 0.5]], dtype=float32)
""")
multiply = _binary_op(P.Multiply(), "multiply", """Elementwise product, with broadcasting.

>>> import mlxpy.core as mx
>>> mx.multiply(mx.array([1, 2], dtype=mx.int8), 3)
array([3, 6], dtype=int8)
""")
maximum = _binary_op(P.Maximum(), "maximum", """Elementwise maximum; nan wins.

>>> import mlxpy.core as mx
>>> mx.maximum(mx.array([1.0, float("nan")]), 2.0)
array([2, nan], dtype=float32)
""")
minimum = _binary_op(P.Minimum(), "minimum", """Elementwise minimum; nan wins.

>>> import mlxpy.core as mx
>>> mx.minimum(mx.array([1, 5]), 3)
array([1, 3], dtype=int32)
""")


def _make2(prim, na, nb, s):
    shape = na.shape if na.shape == nb.shape else prim.infer((na, nb))[0]
    return wrap(_Node(shape, na.dtype, prim, [na, nb], s))


def _float_pair(a, b, name, s):
    """Promoted operands, cast to float32 unless already floating or complex."""
    na, nb = binary_nodes(a, b, name, s)
    if na.dtype.kind not in "fc":
        na = cast_node(na, _dt.float32, s)
        nb = cast_node(nb, _dt.float32, s)
    return na, nb


_DIVIDE = P.Divide()
_FLOOR_DIVIDE = P.FloorDivide()
_REMAINDER = P.Remainder()
_POWER = P.Power()
_ARCTAN2 = P.ArcTan2()
_LOGADDEXP = P.LogAddExp()


def divide(a, b, /, *, stream=None):
    """True division; integer and boolean inputs give float32.

    >>> import mlxpy.core as mx
    >>> mx.divide(mx.array([1, 2]), 4)
    array([0.25, 0.5], dtype=float32)
    """
    s = stream_of(stream, "divide")
    na, nb = _float_pair(a, b, "divide", s)
    return _make2(_DIVIDE, na, nb, s)


def floor_divide(a, b, /, *, stream=None):
    """Division rounded towards negative infinity (complex: plain division, as MLX).

    >>> import mlxpy.core as mx
    >>> mx.floor_divide(mx.array([7, -7]), 2)
    array([3, -4], dtype=int32)
    """
    s = stream_of(stream, "floor_divide")
    na, nb = binary_nodes(a, b, "floor_divide", s)
    return _make2(_FLOOR_DIVIDE, na, nb, s)


def remainder(a, b, /, *, stream=None):
    """Remainder of floor division, with the sign of the divisor (Python's %).

    >>> import mlxpy.core as mx
    >>> mx.remainder(mx.array([7, -7]), 3)
    array([1, 2], dtype=int32)
    """
    s = stream_of(stream, "remainder")
    na, nb = binary_nodes(a, b, "remainder", s)
    if na.dtype is _dt.complex64:
        raise ValueError("[remainder] Complex type not supported.")
    return _make2(_REMAINDER, na, nb, s)


def divmod(a, b, /, *, stream=None):
    """[floor_divide(a, b), remainder(a, b)], as a list.

    >>> import mlxpy.core as mx
    >>> mx.divmod(mx.array([7, -7]), 2)
    [array([3, -4], dtype=int32), array([1, 1], dtype=int32)]
    """
    s = stream_of(stream, "divmod")
    na, nb = binary_nodes(a, b, "divmod", s)
    if na.dtype is _dt.complex64:
        raise ValueError("[divmod] Complex type not supported.")
    return [_make2(_FLOOR_DIVIDE, na, nb, s), _make2(_REMAINDER, na, nb, s)]


def power(a, b, /, *, stream=None):
    """Elementwise a ** b. Integer powers with negative exponents are 0, as in MLX.

    >>> import mlxpy.core as mx
    >>> mx.power(mx.array([2, 3]), 2)
    array([4, 9], dtype=int32)
    """
    s = stream_of(stream, "power")
    na, nb = binary_nodes(a, b, "power", s)
    return _make2(_POWER, na, nb, s)


def arctan2(a, b, /, *, stream=None):
    """Elementwise arctan(a / b), in the quadrant of (b, a).

    >>> import mlxpy.core as mx
    >>> mx.arctan2(mx.array([1.0, -1.0]), mx.array([-1.0, -1.0]))
    array([2.35619, -2.35619], dtype=float32)
    """
    s = stream_of(stream, "arctan2")
    na, nb = _float_pair(a, b, "arctan2", s)
    _no_complex(na, "arctan2")
    return _make2(_ARCTAN2, na, nb, s)


def logaddexp(a, b, /, *, stream=None):
    """log(exp(a) + exp(b)), computed without overflow.

    >>> import mlxpy.core as mx
    >>> mx.logaddexp(mx.array([0.0, 1000.0]), mx.array([0.0, 1000.0]))
    array([0.693147, 1000.69], dtype=float32)
    """
    s = stream_of(stream, "logaddexp")
    na, nb = _float_pair(a, b, "logaddexp", s)
    return _make2(_LOGADDEXP, na, nb, s)


# -- comparisons -------------------------------------------------------------------------

def _comparison_op(prim, name, doc):
    def op(a, b, /, *, stream=None):
        s = stream_of(stream, name)
        na, nb = binary_nodes(a, b, name, s)
        sa = na.shape
        shape = sa if sa == nb.shape else prim.infer((na, nb))[0]
        return wrap(_Node(shape, _dt.bool_, prim, [na, nb], s))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


_CMP_EXAMPLE = """

>>> import mlxpy.core as mx
>>> mx.{name}(mx.array([1, 2, 3]), 2)
array({result}, dtype=bool)
"""


def _cmp_doc(summary, name, result):
    return summary + _CMP_EXAMPLE.format(name=name, result=result)


equal = _comparison_op(P.Equal(), "equal", _cmp_doc(
    "Elementwise a == b, with broadcasting.", "equal", "[False, True, False]"))
not_equal = _comparison_op(P.NotEqual(), "not_equal", _cmp_doc(
    "Elementwise a != b, with broadcasting.", "not_equal", "[True, False, True]"))
less = _comparison_op(P.Less(), "less", _cmp_doc(
    "Elementwise a < b (complex: lexicographic).", "less", "[True, False, False]"))
less_equal = _comparison_op(P.LessEqual(), "less_equal", _cmp_doc(
    "Elementwise a <= b (complex: lexicographic).", "less_equal", "[True, True, False]"))
greater = _comparison_op(P.Greater(), "greater", _cmp_doc(
    "Elementwise a > b (complex: lexicographic).", "greater", "[False, False, True]"))
greater_equal = _comparison_op(P.GreaterEqual(), "greater_equal", _cmp_doc(
    "Elementwise a >= b (complex: lexicographic).", "greater_equal", "[False, True, True]"))


# -- logical and bitwise -------------------------------------------------------------------

def _logical_op(prim, name, doc):
    # Each operand becomes bool on its own: no weak typing, so no overflow checks.
    def op(a, b, /, *, stream=None):
        s = stream_of(stream, name)
        na = cast_node(_operand(a, name), _dt.bool_, s)
        nb = cast_node(_operand(b, name), _dt.bool_, s)
        return _make2(prim, na, nb, s)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


logical_and = _logical_op(P.LogicalAnd(), "logical_and", """Elementwise logical and.

>>> import mlxpy.core as mx
>>> mx.logical_and(mx.array([True, True]), mx.array([True, False]))
array([True, False], dtype=bool)
""")
logical_or = _logical_op(P.LogicalOr(), "logical_or", """Elementwise logical or (nonzero is true).

>>> import mlxpy.core as mx
>>> mx.logical_or(mx.array([0, 2]), 0)
array([False, True], dtype=bool)
""")
logical_xor = _logical_op(P.NotEqual(), "logical_xor", """Elementwise logical exclusive or.

>>> import mlxpy.core as mx
>>> mx.logical_xor(mx.array([True, False]), True)
array([False, True], dtype=bool)
""")
_LOGICAL_NOT = P.LogicalNot()


def logical_not(a, /, *, stream=None):
    """Elementwise logical not (nonzero is true).

    >>> import mlxpy.core as mx
    >>> mx.logical_not(mx.array([0.0, 2.0]))
    array([True, False], dtype=bool)
    """
    s = stream_of(stream, "logical_not")
    return make(_LOGICAL_NOT, [cast_node(_operand(a, "logical_not"), _dt.bool_, s)], s)


def _bitwise_op(prim, name, doc):
    def op(a, b, /, *, stream=None):
        s = stream_of(stream, name)
        na, nb = binary_nodes(a, b, name, s)
        kind = na.dtype.kind
        if kind not in "iub":
            _refuse_bitwise(a, b, name, na.dtype)
        if kind == "b" and prim.ufunc.endswith("shift"):
            # Shifting bools gives uint8, as MLX.
            na = cast_node(na, _dt.uint8, s)
            nb = cast_node(nb, _dt.uint8, s)
        return _make2(prim, na, nb, s)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _refuse_bitwise(a, b, name, promoted):
    def dtype_name(x):
        return x.dtype.name if type(x) is _array else promoted.name
    raise RuntimeError(f"[{name}] Only allowed on integer or boolean types but got types "
                       f"{dtype_name(a)} and {dtype_name(b)}.")


bitwise_and = _bitwise_op(P.BitwiseAnd(), "bitwise_and", """Elementwise bitwise and.

>>> import mlxpy.core as mx
>>> mx.bitwise_and(mx.array([12, 10]), 6)
array([4, 2], dtype=int32)
""")
bitwise_or = _bitwise_op(P.BitwiseOr(), "bitwise_or", """Elementwise bitwise or.

>>> import mlxpy.core as mx
>>> mx.bitwise_or(mx.array([12, 10]), 1)
array([13, 11], dtype=int32)
""")
bitwise_xor = _bitwise_op(P.BitwiseXor(), "bitwise_xor", """Elementwise bitwise exclusive or.

>>> import mlxpy.core as mx
>>> mx.bitwise_xor(mx.array([12, 10]), 6)
array([10, 12], dtype=int32)
""")
left_shift = _bitwise_op(P.LeftShift(), "left_shift", """Elementwise a << b.

Shifts by the bit width or more, or by negative amounts, are undefined in MLX;
here they follow NumPy.

>>> import mlxpy.core as mx
>>> mx.left_shift(mx.array([1, 3]), 2)
array([4, 12], dtype=int32)
""")
right_shift = _bitwise_op(P.RightShift(), "right_shift", """Elementwise a >> b (arithmetic when signed).

>>> import mlxpy.core as mx
>>> mx.right_shift(mx.array([-8, 8]), 2)
array([-2, 2], dtype=int32)
""")
_INVERT = P.BitwiseInvert()


def bitwise_invert(a, /, *, stream=None):
    """Elementwise bitwise not (logical not for bool).

    >>> import mlxpy.core as mx
    >>> mx.bitwise_invert(mx.array([0, 5], dtype=mx.uint8))
    array([255, 250], dtype=uint8)
    """
    s = stream_of(stream, "bitwise_invert")
    n = _operand(a, "bitwise_invert")
    if n.dtype.kind not in "iub":
        raise ValueError("[bitwise_invert] Bitwise inverse only allowed on integer types.")
    return make(_INVERT, [n], s)


# -- unary math ------------------------------------------------------------------------------

def _unary_op(prim, name, to_float=False, real_only=False, doc=None):
    """A unary op; `to_float` promotes integer and boolean inputs to float32 first and
    `real_only` refuses complex input."""
    def op(a, /, *, stream=None):
        s = _stream_state.current if stream is None else stream_of(stream, name)
        n = a._node if type(a) is _array else _operand(a, name)
        kind = n.dtype.kind
        if to_float and kind not in "fc":
            n = cast_node(n, _dt.float32, s)
        elif real_only and kind == "c":
            raise ValueError(f"[{name}] Not supported for complex64.")
        # Built field by field (see graph.RawNode): the hot path of every math function.
        node = _RawNode()
        node.seq = _next_seq()
        node.shape = n.shape
        node.dtype = n.dtype
        node.prim = prim
        node.inputs = [n]
        node.stream = s
        node.siblings = None
        node.data = None
        node.nbytes = 0
        out = _new(_array)
        out._node = node
        return out
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _math_doc(summary, name, arg, result):
    return (f"{summary}\n\n>>> import mlxpy.core as mx\n>>> mx.{name}(mx.array({arg}))\n"
            f"array({result}, dtype=float32)\n")


square = _unary_op(P.Square(), "square", doc="""Elementwise x * x.

>>> import mlxpy.core as mx
>>> mx.square(mx.array([-3, 2]))
array([9, 4], dtype=int32)
""")
sign = _unary_op(P.Sign(), "sign", doc="""-1, 0 or 1 by sign (0 for nan); x / |x| for complex.

>>> import mlxpy.core as mx
>>> mx.sign(mx.array([-2.5, 0.0, 3.0]))
array([-1, 0, 1], dtype=float32)
""")
sqrt = _unary_op(P.Sqrt(), "sqrt", True, doc=_math_doc(
    "Elementwise square root.", "sqrt", "[4, 9]", "[2, 3]"))
rsqrt = _unary_op(P.Rsqrt(), "rsqrt", True, doc=_math_doc(
    "Elementwise 1 / sqrt(x).", "rsqrt", "[4.0, 0.25]", "[0.5, 2]"))
reciprocal = _unary_op(P.Reciprocal(), "reciprocal", True, doc=_math_doc(
    "Elementwise 1 / x.", "reciprocal", "[2, 4]", "[0.5, 0.25]"))
exp = _unary_op(P.Exp(), "exp", True, doc=_math_doc(
    "Elementwise exponential.", "exp", "[0.0]", "[1]"))
expm1 = _unary_op(P.Expm1(), "expm1", True, True, doc=_math_doc(
    "Elementwise exp(x) - 1, accurate near 0.", "expm1", "[1e-10]", "[1e-10]"))
log = _unary_op(P.Log(), "log", True, doc=_math_doc(
    "Elementwise natural logarithm.", "log", "[1.0]", "[0]"))
log1p = _unary_op(P.Log1p(), "log1p", True, doc=_math_doc(
    "Elementwise log(1 + x), accurate near 0.", "log1p", "[1e-10]", "[1e-10]"))
log2 = _unary_op(P.Log2(), "log2", True, doc=_math_doc(
    "Elementwise base-2 logarithm.", "log2", "[8]", "[3]"))
log10 = _unary_op(P.Log10(), "log10", True, doc=_math_doc(
    "Elementwise base-10 logarithm.", "log10", "[100]", "[2]"))
sin = _unary_op(P.Sin(), "sin", True, doc=_math_doc(
    "Elementwise sine.", "sin", "[0.0]", "[0]"))
cos = _unary_op(P.Cos(), "cos", True, doc=_math_doc(
    "Elementwise cosine.", "cos", "[0.0]", "[1]"))
tan = _unary_op(P.Tan(), "tan", True, doc=_math_doc(
    "Elementwise tangent.", "tan", "[0.0]", "[0]"))
sinh = _unary_op(P.Sinh(), "sinh", True, doc=_math_doc(
    "Elementwise hyperbolic sine.", "sinh", "[0.0]", "[0]"))
cosh = _unary_op(P.Cosh(), "cosh", True, doc=_math_doc(
    "Elementwise hyperbolic cosine.", "cosh", "[0.0]", "[1]"))
tanh = _unary_op(P.Tanh(), "tanh", True, doc=_math_doc(
    "Elementwise hyperbolic tangent.", "tanh", "[0.0]", "[0]"))
arcsin = _unary_op(P.ArcSin(), "arcsin", True, doc=_math_doc(
    "Elementwise inverse sine.", "arcsin", "[1.0]", "[1.5708]"))
arccos = _unary_op(P.ArcCos(), "arccos", True, doc=_math_doc(
    "Elementwise inverse cosine.", "arccos", "[1.0]", "[0]"))
arctan = _unary_op(P.ArcTan(), "arctan", True, doc=_math_doc(
    "Elementwise inverse tangent.", "arctan", "[1.0]", "[0.785398]"))
arcsinh = _unary_op(P.ArcSinh(), "arcsinh", True, doc=_math_doc(
    "Elementwise inverse hyperbolic sine.", "arcsinh", "[0.0]", "[0]"))
arccosh = _unary_op(P.ArcCosh(), "arccosh", True, doc=_math_doc(
    "Elementwise inverse hyperbolic cosine.", "arccosh", "[1.0]", "[0]"))
arctanh = _unary_op(P.ArcTanh(), "arctanh", True, doc=_math_doc(
    "Elementwise inverse hyperbolic tangent.", "arctanh", "[0.0]", "[0]"))
sigmoid = _unary_op(P.Sigmoid(), "sigmoid", True, True, doc=_math_doc(
    "Elementwise logistic sigmoid 1 / (1 + exp(-x)).", "sigmoid", "[0.0]", "[0.5]"))
erf = _unary_op(P.Erf(), "erf", True, True, doc=_math_doc(
    "Elementwise error function.", "erf", "[0.5]", "[0.5205]"))
erfinv = _unary_op(P.ErfInv(), "erfinv", True, True, doc=_math_doc(
    "Elementwise inverse of erf (nan outside [-1, 1]).", "erfinv", "[0.5]", "[0.476936]"))
asin, acos, atan = arcsin, arccos, arctan
asinh, acosh, atanh = arcsinh, arccosh, arctanh
atan2 = arctan2
pow = power
bitwise_left_shift, bitwise_right_shift = left_shift, right_shift
_ABS = P.Abs()
_NEGATIVE = P.Negative()
_CONJUGATE = P.Conjugate()


def abs(a, /, *, stream=None):
    """Elementwise absolute value; complex gives its float32 magnitude.

    >>> import mlxpy.core as mx
    >>> mx.abs(mx.array([-1.5, 2.0]))
    array([1.5, 2], dtype=float32)
    """
    s = stream_of(stream, "abs")
    n = a._node if type(a) is _array else _operand(a, "abs")
    return make(_ABS, [n], s)


def negative(a, /, *, stream=None):
    """Elementwise -x (refused for bool, as MLX).

    >>> import mlxpy.core as mx
    >>> mx.negative(mx.array([1, -2]))
    array([-1, 2], dtype=int32)
    """
    s = stream_of(stream, "negative")
    n = a._node if type(a) is _array else _operand(a, "negative")
    if n.dtype is _dt.bool_:
        raise ValueError("[negative] Not supported for bool, use logical_not instead.")
    return wrap(_Node(n.shape, n.dtype, _NEGATIVE, [n], s))


def positive(a, /, *, stream=None):
    """Elementwise +x: the values of `a` unchanged.

    >>> import mlxpy.core as mx
    >>> mx.positive(mx.array([-1, 2]))
    array([-1, 2], dtype=int32)
    """
    stream_of(stream, "positive")
    return wrap(_strict(a, "positive"))


def conjugate(a, /, *, stream=None):
    """Elementwise complex conjugate (the values themselves for other dtypes).

    >>> import mlxpy.core as mx
    >>> mx.conjugate(mx.array([1 + 2j]))
    array([1-2j], dtype=complex64)
    """
    s = stream_of(stream, "conjugate")
    n = a._node if type(a) is _array else _operand(a, "conjugate")
    return wrap(_Node(n.shape, n.dtype, _CONJUGATE, [n], s))


conj = conjugate


def _integral_passthrough(prim, name, strict, doc):
    # floor, ceil and trunc leave integer and bool arrays as they are, as MLX.
    def op(a, /, *, stream=None):
        s = stream_of(stream, name)
        n = _strict(a, name) if strict else _operand(a, name)
        kind = n.dtype.kind
        if kind == "c":
            raise ValueError(f"[{name}] Not supported for complex64.")
        if kind in "iub":
            return wrap(n)
        return make(prim, [n], s)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


floor = _integral_passthrough(P.Floor(), "floor", False, """Elementwise floor.

>>> import mlxpy.core as mx
>>> mx.floor(mx.array([-1.5, 1.5]))
array([-2, 1], dtype=float32)
""")
ceil = _integral_passthrough(P.Ceil(), "ceil", False, """Elementwise ceiling.

>>> import mlxpy.core as mx
>>> mx.ceil(mx.array([-1.5, 1.5]))
array([-1, 2], dtype=float32)
""")
trunc = _integral_passthrough(P.Trunc(), "trunc", True, """Elementwise rounding towards zero.

>>> import mlxpy.core as mx
>>> mx.trunc(mx.array([-1.5, 1.5]))
array([-1, 1], dtype=float32)
""")
_ROUND = P.Round(0)


def round(a, /, decimals=0, *, stream=None):
    """Round to `decimals` decimal places, halves to even.

    With decimals != 0 MLX scales by a float32 power of ten, rounds and scales back,
    in float32 for integer input; this does the same, so results agree bit for bit.

    >>> import mlxpy.core as mx
    >>> mx.round(mx.array([0.5, 1.5, 2.25]), 1)
    array([0.5, 1.5, 2.2], dtype=float32)
    """
    s = stream_of(stream, "round")
    n = _operand(a, "round")
    try:
        decimals = operator.index(decimals)
    except TypeError:
        raise TypeError(f"[round] decimals must be an integer, got "
                        f"{type(decimals).__name__}.") from None
    dtype = n.dtype
    if decimals == 0:
        if dtype.kind in "iub":
            return wrap(n)
        return make(_ROUND, [n], s)
    work = dtype if dtype.kind in "fc" else _dt.float32
    x = cast_node(n, work, s)
    scale = _dt.float32.np.type(10.0) ** decimals
    inverse = 1 / scale  # float32 arithmetic, as MLX
    shifted = make(_ROUND, [_scaled(x, float(scale), s)], s)._node
    return wrap(cast_node(_scaled(shifted, float(inverse), s), dtype, s))


_MULTIPLY = P.Multiply()


def _scaled(node, factor, s):
    """node * factor, the factor a constant of the node's dtype."""
    with_factor = scalar_node(factor, node.dtype, "round")
    return _Node(node.shape, node.dtype, _MULTIPLY, [node, with_factor], s)


_REAL = P.Real()
_IMAG = P.Imag()


def real(a, /, *, stream=None):
    """The real part (float32 for complex64; other dtypes unchanged).

    >>> import mlxpy.core as mx
    >>> mx.real(mx.array([1 + 2j]))
    array([1], dtype=float32)
    """
    s = stream_of(stream, "real")
    n = _operand(a, "real")
    if n.dtype is not _dt.complex64:
        return wrap(n)
    return make(_REAL, [n], s)


def imag(a, /, *, stream=None):
    """The imaginary part (float32 for complex64; zeros of the dtype otherwise).

    >>> import mlxpy.core as mx
    >>> mx.imag(mx.array([1 + 2j]))
    array([2], dtype=float32)
    """
    s = stream_of(stream, "imag")
    n = _operand(a, "imag")
    if n.dtype is not _dt.complex64:
        from .creation import zeros_like
        return zeros_like(wrap(n), stream=s)
    return make(_IMAG, [n], s)


def _angle_op(name, factor, doc):
    def op(a, /, *, stream=None):
        s = stream_of(stream, name)
        n = _operand(a, name)
        if n.dtype.kind not in "fc":
            n = cast_node(n, _dt.float32, s)
        c = scalar_node(factor, n.dtype, name)
        return _make2(_MULTIPLY, n, c, s)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


degrees = _angle_op("degrees", 180.0 / math.pi, """Radians to degrees.

>>> import mlxpy.core as mx
>>> mx.degrees(mx.array([3.141592653589793]))
array([180], dtype=float32)
""")
radians = _angle_op("radians", math.pi / 180.0, """Degrees to radians.

>>> import mlxpy.core as mx
>>> mx.radians(mx.array([180.0]))
array([3.14159], dtype=float32)
""")


# -- predicates ----------------------------------------------------------------------------

def _predicate(prim, name, integral_value, doc):
    def op(a, /, *, stream=None):
        s = stream_of(stream, name)
        n = _operand(a, name)
        if n.dtype.kind in "iub":
            from .creation import full
            return full(n.shape, integral_value, _dt.bool_, stream=s)
        return make(prim, [n], s)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


_PRED_EXAMPLE = ("\n\n>>> import mlxpy.core as mx\n>>> mx.{name}(mx.array([1.0, float('nan'), "
                 "float('inf'), -float('inf')]))\narray({result}, dtype=bool)\n")


def _pred_doc(summary, name, result):
    return summary + _PRED_EXAMPLE.format(name=name, result=result)


isnan = _predicate(P.IsNaN(), "isnan", False, _pred_doc(
    "Where elements are nan (for complex, either part).", "isnan",
    "[False, True, False, False]"))
isinf = _predicate(P.IsInf(), "isinf", False, _pred_doc(
    "Where elements are +-inf (for complex, either part).", "isinf",
    "[False, False, True, True]"))
isfinite = _predicate(P.IsFinite(), "isfinite", True, _pred_doc(
    "Where elements are neither inf nor nan.", "isfinite", "[True, False, False, False]"))
isposinf = _predicate(P.IsPosInf(), "isposinf", False, _pred_doc(
    "Where elements equal +inf.", "isposinf", "[False, False, True, False]"))
isneginf = _predicate(P.IsNegInf(), "isneginf", False, _pred_doc(
    "Where elements equal -inf.", "isneginf", "[False, False, False, True]"))


def nan_to_num(a, /, nan=0.0, posinf=None, neginf=None, *, stream=None):
    """Replace nan, +inf and -inf with finite numbers (by default 0 and the dtype's
    largest and smallest finite values). MLX supports float16, bfloat16 and float32;
    integer and bool arrays come back unchanged.

    >>> import mlxpy.core as mx
    >>> mx.nan_to_num(mx.array([float("nan"), float("inf"), 1.0]), posinf=9.0)
    array([0, 9, 1], dtype=float32)
    """
    s = stream_of(stream, "nan_to_num")
    n = _operand(a, "nan_to_num")
    nan = _real_number(nan, "nan", "nan_to_num")
    posinf = None if posinf is None else _real_number(posinf, "posinf", "nan_to_num")
    neginf = None if neginf is None else _real_number(neginf, "neginf", "nan_to_num")
    dtype = n.dtype
    if dtype.kind in "iub":
        return wrap(n)
    if posinf is None or neginf is None:
        # The defaults come from the dtype's limits, which MLX has only for these.
        if dtype is _dt.float64 or dtype is _dt.complex64:
            raise ValueError(f"[nan_to_num] Does not yet support given type: {dtype.name}.")
        info = _dt.finfo(dtype)
        posinf = info.max if posinf is None else posinf
        neginf = info.min if neginf is None else neginf
    x = wrap(n)
    out = where(isnan(x, stream=s), nan, x, stream=s)
    out = where(isposinf(x, stream=s), posinf, out, stream=s)
    return where(isneginf(x, stream=s), neginf, out, stream=s)


def _real_number(v, name, where):
    if hasattr(v, "__float__") and not isinstance(v, complex):
        return float(v)
    raise TypeError(f"[{where}] {name} must be a real number, got {type(v).__name__}.")


# -- selection and conversion --------------------------------------------------------------

_SELECT = P.Select()


def where(condition, x, y, /, *, stream=None):
    """Elements of `x` where `condition` is true, else of `y`, all broadcast together.

    >>> import mlxpy.core as mx
    >>> mx.where(mx.array([True, False]), mx.array([1, 2]), 0)
    array([1, 0], dtype=int32)
    """
    s = stream_of(stream, "where")
    nc = cast_node(_operand(condition, "where"), _dt.bool_, s)
    nx, ny = binary_nodes(x, y, "where", s)
    return make(_SELECT, [nc, nx, ny], s)


def astype(a, dtype, /, *, stream=None):
    """`a` converted to `dtype` (floats to integers truncate towards zero).

    >>> import mlxpy.core as mx
    >>> mx.astype(mx.array([1.7, -1.7]), mx.int32)
    array([1, -1], dtype=int32)
    """
    s = stream_of(stream, "astype")
    n = _strict(a, "astype")
    if not isinstance(dtype, _dt.Dtype):
        raise TypeError(f"[astype] dtype must be an mlxpy Dtype, got {type(dtype).__name__}.")
    return wrap(cast_node(n, dtype, s))


def _astype_method(self, dtype, stream=None):
    """`self` converted to `dtype`.

    >>> import mlxpy.core as mx
    >>> mx.array([1, 2]).astype(mx.float16)
    array([1, 2], dtype=float16)
    """
    return astype(self, dtype, stream=stream)


def clip(a, /, a_min, a_max, *, stream=None):
    """Limit the values of `a` to [a_min, a_max]: minimum(maximum(a, a_min), a_max).
    Either bound may be None, not both.

    >>> import mlxpy.core as mx
    >>> mx.clip(mx.array([1, 5, 9]), 2, 7)
    array([2, 5, 7], dtype=int32)
    """
    _strict(a, "clip")
    if a_min is None and a_max is None:
        raise ValueError("[clip] At most one of a_min and a_max may be None.")
    out = a
    if a_min is not None:
        out = maximum(out, a_min, stream=stream)
    if a_max is not None:
        out = minimum(out, a_max, stream=stream)
    return out


def _method(fn, name):
    def method(self, *, stream=None):
        return fn(self, stream=stream)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = fn.__doc__
    return method


def _round_method(self, decimals=0, *, stream=None):
    """`self` rounded to `decimals` decimal places, halves to even.

    >>> import mlxpy.core as mx
    >>> mx.array([1.25, 2.5]).round(1)
    array([1.2, 2.5], dtype=float32)
    """
    return round(self, decimals, stream=stream)


attach_methods({name: _method(fn, name) for name, fn in [
    ("abs", abs), ("square", square), ("sqrt", sqrt), ("rsqrt", rsqrt),
    ("reciprocal", reciprocal), ("exp", exp), ("log", log), ("log1p", log1p),
    ("log2", log2), ("log10", log10), ("sin", sin), ("cos", cos), ("conj", conjugate)]})
attach_methods({"round": _round_method, "astype": _astype_method,
                "real": property(real, doc="The real part (see `mx.real`)."),
                "imag": property(imag, doc="The imaginary part (see `mx.imag`).")})
