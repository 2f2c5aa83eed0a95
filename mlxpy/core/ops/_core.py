"""What every op needs: turning arguments into nodes, promotion, building nodes.

Ops validate their arguments, promote dtypes, and build nodes; they compute nothing.
"""
import numpy as np

from .. import dtypes as _dt
from ..array import array, wrap, constant_node
from ..convert import to_node, _scalar_dtype
from ..device import resolve_stream, current_stream, _state as _stream_state
from ..graph import Node

_Node = Node
_array = array
_new = object.__new__


def make(prim, inputs, stream):
    """One output node of `prim` on input nodes, wrapped in a handle."""
    shape, dtype = prim.infer(inputs)
    out = _new(_array)  # wrap(), inlined: every op that is not elementwise ends here
    out._node = _Node(shape, dtype, prim, inputs, stream)
    return out


def make_multi(prim, inputs, stream):
    """All outputs of a multi-output primitive, as a list of handles."""
    nodes = tuple(_Node(s, d, prim, inputs, stream) for s, d in prim.infer(inputs))
    for n in nodes:
        n.siblings = nodes
    return [wrap(n) for n in nodes]


def stream_of(stream, where):
    return _stream_state.current if stream is None else resolve_stream(stream, where)


def node_of(x, where):
    """The node behind an op argument: an array, a Python scalar, a list, a NumPy array."""
    if type(x) is _array:
        return x._node
    return to_node(x, None, where)


def as_array(x, where):
    return x if type(x) is _array else wrap(to_node(x, None, where))


_INT_BOUNDS = {d: (int(np.iinfo(d.np).min), int(np.iinfo(d.np).max))
               for d in _dt.ALL_DTYPES if d.kind in "iu"}
# MLX reads every Python int as an int64 first: uint64 accepts negative ints (they
# wrap) but nothing above the int64 range.
_INT_BOUNDS[_dt.uint64] = (-(2 ** 63), 2 ** 63 - 1)
_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def weak_dtype(value, dtype):
    """The dtype a Python scalar takes next to an array of `dtype` (MLX's weak typing).

    None for anything that is not a Python scalar. Subclasses count (np.float64 is a
    float), as they do in MLX.
    """
    t = type(value)
    if t is bool:
        return dtype
    if t is int:
        return _dt.int32 if dtype is _dt.bool_ else dtype
    if t is float:
        return dtype if dtype.kind in "fc" else _dt.float32
    if t is complex:
        return _dt.complex64
    if isinstance(value, int):
        return weak_dtype(int(value), dtype)
    if isinstance(value, float):
        return weak_dtype(float(value), dtype)
    if isinstance(value, complex):
        return _dt.complex64
    return None


def operand_node(x, dtype, where):
    """The node of a non-array op operand: a Python scalar, a NumPy array or scalar, or
    an object with __array__ or __dlpack__. With `dtype` (the other operand's dtype,
    as MLX does for NumPy operands) the values are converted to it."""
    if x is None:
        raise TypeError(f"[{where}] Expected an array or a scalar, got None.")
    if type(x) is int and not _INT64_MIN <= x <= _INT64_MAX:
        raise RuntimeError(f"[{where}] The Python int {x} does not fit in int64.")
    if not isinstance(x, (int, float, complex, np.ndarray, np.generic)) and (
            isinstance(x, (list, tuple, str))
            or not (hasattr(x, "__array__") or hasattr(x, "__dlpack__"))):
        raise ValueError(f"[{where}] Invalid type {type(x).__name__} received in array "
                         "initialization.")
    return to_node(x, dtype, where)


_SCALAR_CACHE = {}


def scalar_node(value, dtype, where):
    """A constant node of `dtype` holding a Python scalar, with MLX's overflow check.

    Evaluated nodes are immutable, so equal constants share one node: `x * 0.5` in a
    loop makes no new node for the 0.5. Floats equal to 0 are not cached, since 0.0
    and -0.0 compare equal.
    """
    # Keyed by the dtype's name: a str hashes in C, a Dtype through its Python __hash__.
    key = (value, dtype.name)
    try:
        return _SCALAR_CACHE[key]
    except (KeyError, TypeError):
        pass
    n = _new_scalar_node(value, dtype, where)
    if type(value) is int or type(value) is bool or (type(value) is float and value):
        if len(_SCALAR_CACHE) > 4096:
            _SCALAR_CACHE.clear()
        _SCALAR_CACHE[key] = n
    return n


def _new_scalar_node(value, dtype, where):
    if type(value) is int and not _INT64_MIN <= value <= _INT64_MAX:
        raise RuntimeError(f"[{where}] The Python int {value} does not fit in int64.")
    if type(value) is int and dtype.kind in "iu":
        lo, hi = _INT_BOUNDS[dtype]
        if not lo <= value <= hi:
            raise ValueError(f"[{where}] Converting {value} to {dtype.name} would result in overflow.")
        if value < 0 and dtype.kind == "u":
            value += 2 ** 64
    n = _Node((), dtype, None, None, current_stream())
    if dtype.kind in "fc" and abs(value) > 65504.0:
        # Past float16's range: overflow to inf is the expected result, not a warning.
        with np.errstate(over="ignore"):
            n.set_data(_scalar_data(value, dtype))
    else:
        n.set_data(_scalar_data(value, dtype))
    return n


def _scalar_data(value, dtype):
    if dtype is _dt.bfloat16:
        return np.array(float(value.real) if type(value) is complex else value).astype(dtype.np)
    return np.array(value, dtype=dtype.np)


def cast_node(node, dtype, stream):
    if node.dtype is dtype:
        return node
    from ..primitives.elementwise import AsType
    prim = AsType(dtype)
    return _Node(node.shape, dtype, prim, [node], stream)


def binary_nodes(a, b, where, stream):
    """Nodes for the two operands of a binary op, promoted to a common dtype."""
    ta = type(a)
    tb = type(b)
    if ta is _array:
        na = a._node
        if tb is _array:
            nb = b._node
            if na.dtype is nb.dtype:
                return na, nb
        else:
            d = weak_dtype(b, na.dtype)
            if d is not None:
                return cast_node(na, d, stream), _weak_scalar_node(b, d, na.dtype, where)
            # MLX converts a NumPy operand next to an array to the array's dtype.
            return na, operand_node(b, na.dtype, where)
    elif tb is _array:
        nb = b._node
        d = weak_dtype(a, nb.dtype)
        if d is not None:
            return _weak_scalar_node(a, d, nb.dtype, where), cast_node(nb, d, stream)
        return operand_node(a, nb.dtype, where), nb
    else:
        na = operand_node(a, None, where)
        nb = operand_node(b, None, where)
    d = _dt.PROMOTION[na.dtype, nb.dtype]
    return cast_node(na, d, stream), cast_node(nb, d, stream)


def _weak_scalar_node(value, dtype, array_dtype, where):
    t = type(value)
    if t is not int and t is not float and t is not bool and t is not complex:
        value = (int if isinstance(value, int) else float if isinstance(value, float)
                 else complex)(value)
    if array_dtype is _dt.bool_ and dtype is _dt.int32 and type(value) is not bool:
        # MLX turns an int next to a bool array into int32 without an overflow check.
        value = int(value)
        if _INT64_MIN <= value <= _INT64_MAX:
            value = (value + 2 ** 31) % 2 ** 32 - 2 ** 31
    return scalar_node(value, dtype, where)


def broadcast_shapes(*shapes, where="broadcast_shapes"):
    """The shape NumPy-style broadcasting gives `shapes`; ValueError if they do not fit."""
    if len(shapes) == 2:
        a, b = shapes
        if a == b or not b:
            return a
        if not a:
            return b
    ndim = max(len(s) for s in shapes)
    out = [1] * ndim
    for s in shapes:
        off = ndim - len(s)
        for i, d in enumerate(s):
            o = out[off + i]
            if o == d or d == 1:
                continue
            if o == 1:
                out[off + i] = d
            else:
                pretty = " and ".join(_fmt_shape(x) for x in shapes)
                raise ValueError(f"[{where}] Shapes {pretty} cannot be broadcast.")
    return tuple(out)


def _fmt_shape(s):
    return "(" + ",".join(str(d) for d in s) + ")"


def normalize_axis(axis, ndim, where):
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"[{where}] axis must be an integer, got {type(axis).__name__}.")
    a = int(axis)
    if a < -ndim or a >= ndim:
        raise ValueError(f"[{where}] Invalid axis {axis} for array with {ndim} dimensions.")
    return a + ndim if a < 0 else a


def normalize_axes(axis, ndim, where):
    """A sorted tuple of distinct non-negative axes; None means all axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return (normalize_axis(axis, ndim, where),)
    axes = tuple(normalize_axis(a, ndim, where) for a in axis)
    if len(set(axes)) != len(axes):
        raise ValueError(f"[{where}] Received duplicate axes.")
    return tuple(sorted(axes))


def check_shape(shape, where):
    """A shape argument (int or sequence of non-negative ints) as a tuple."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        out = tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"[{where}] shape must be an int or a sequence of ints.") from None
    for d in out:
        if d < 0:
            raise ValueError(f"[{where}] Negative dimensions are not allowed: {out}.")
    return out


def check_dtype(dtype, where, default=None):
    if dtype is None:
        return default
    if not isinstance(dtype, _dt.Dtype):
        raise TypeError(f"[{where}] dtype must be an mlxpy Dtype, got {type(dtype).__name__}.")
    return dtype


def attach_methods(names_to_funcs):
    """Give `mx.array` method forms of ops (`x.sum()`, `x.reshape(...)`)."""
    for name, fn in names_to_funcs.items():
        setattr(_array, name, fn)
