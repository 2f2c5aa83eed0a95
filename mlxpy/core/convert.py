"""Turning Python values into nodes: what `mx.array(val, dtype=None)` accepts.

Without `dtype`, MLX infers: bool -> bool, int -> int32 (int64 outside the int32 range),
float -> float32, complex -> complex64; a nested list takes the widest kind among its
scalars, promoted with the dtypes of any arrays in it; NumPy data keeps its dtype except
float64 -> float32 and complex128 -> complex64. With `dtype`, values are converted the
way MLX converts them (C casts, so out-of-range floats and ints wrap as on the CPU).

>>> import mlxpy.core as mx
>>> mx.array([[1, 2], [3, 4.5]])
array([[1, 2],
       [3, 4.5]], dtype=float32)
>>> mx.array([True, 2])
array([1, 2], dtype=int32)
"""
from itertools import chain

import numpy as np

from . import dtypes as _dt
from .array import array, constant_node, wrap

_INT32_MIN, _INT32_MAX = -(2 ** 31), 2 ** 31 - 1
_INT64_MIN, _INT64_MAX = -(2 ** 63), 2 ** 63 - 1

# Leaf kinds of a nested list, in widening order.
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3
_KIND_OF_TYPE = {bool: _BOOL, int: _INT, float: _FLOAT, complex: _COMPLEX}
_SEQUENCE_TYPES = frozenset((list, tuple))
_KIND_DTYPE = {_BOOL: _dt.bool_, _FLOAT: _dt.float32, _COMPLEX: _dt.complex64}

# MLX reads the Python ints of an integer list as one C type chosen by the target dtype
# and refuses values that do not fit it (then casts, wrapping, to the target).
_LIST_INT_READER = {_dt.uint64: ("uint64", 0, 2 ** 64 - 1),
                    _dt.uint32: ("uint32", 0, 2 ** 32 - 1),
                    _dt.int64: ("int64", _INT64_MIN, _INT64_MAX)}
for _d in (_dt.bool_, _dt.uint8, _dt.uint16, _dt.int8, _dt.int16, _dt.int32):
    _LIST_INT_READER[_d] = ("int32", _INT32_MIN, _INT32_MAX)

# A NumPy dtype's default mlxpy dtype, as MLX reads NumPy data.
_FROM_NUMPY = {d.np: d for d in _dt.ALL_DTYPES}
_FROM_NUMPY[np.dtype(np.float64)] = _dt.float32
_FROM_NUMPY[np.dtype(np.complex128)] = _dt.complex64

_HALF_FLOATS = (_dt.float16, _dt.bfloat16)
_NP_FLOAT32 = np.dtype(np.float32)
_NP_FLOAT64 = np.dtype(np.float64)
_NP_COMPLEX64 = np.dtype(np.complex64)
_NP_INT32 = np.dtype(np.int32)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _scalar_dtype(v):
    """The dtype `mx.array(v)` gives a Python scalar, or None for anything else."""
    if isinstance(v, bool):
        return _dt.bool_
    if isinstance(v, int):
        return _dt.int32 if _INT32_MIN <= v <= _INT32_MAX else _dt.int64
    if isinstance(v, float):
        return _dt.float32
    if isinstance(v, complex):
        return _dt.complex64
    return None


def _check_int64(v, where):
    if not _INT64_MIN <= v <= _INT64_MAX:
        # MLX raises RuntimeError (std::bad_cast) here; keep its type, say what is wrong.
        raise RuntimeError(f"[{where}] Python integer {v} is out of the int64 range "
                           "and cannot be converted to an array.")


def cast_host(h, d):
    """NumPy data `h` converted to mlxpy dtype `d` the way MLX converts.

    MLX narrows complex to complex64 first and reads complex -> bool from the real part
    only; float64 reaches float16/bfloat16 through float32. Float -> int is a C cast,
    which is what NumPy does on the same machine.
    """
    src = h.dtype
    target = d.np
    if src == target:
        return h
    # Overflow to inf and NaN -> int are expected results here, not warnings.
    with np.errstate(invalid="ignore", over="ignore"):
        if src.kind == "c":
            if src != _NP_COMPLEX64:
                h = h.astype(_NP_COMPLEX64)
                if d.kind == "c":
                    return h
            if d.kind == "b":
                return h.real != 0
            h = h.real
            if h.dtype == target:
                return h
        elif src == _NP_FLOAT64 and d in _HALF_FLOATS:
            h = h.astype(_NP_FLOAT32)
        return h.astype(target)


# -- scalars ---------------------------------------------------------------------------

def _scalar_host(v, dtype, where):
    """(0-d NumPy data, dtype) for a Python scalar (bool, int, float, complex or subclass)."""
    if isinstance(v, bool):
        h = np.array(v)
        d = _dt.bool_
    elif isinstance(v, int):
        _check_int64(v, where)
        h = np.array(v, dtype=np.int64)
        d = _dt.int32 if _INT32_MIN <= v <= _INT32_MAX else _dt.int64
    elif isinstance(v, float):
        h = np.array(v, dtype=np.float64)
        d = _dt.float32
    else:
        h = np.array(v, dtype=np.complex64)
        d = _dt.complex64
    d = dtype or d
    return cast_host(h, d), d


# -- nested lists ----------------------------------------------------------------------

def _non_uniform(where):
    return ValueError(f"[{where}] Initialization encountered non-uniform length.")


def _extra_dimension(where):
    return ValueError(f"[{where}] Initialization encountered extra dimension.")


def _invalid_type(x, where):
    return ValueError(f"[{where}] Invalid type {type(x).__name__} received in array initialization.")


def _leaf_kind(x, where):
    k = _KIND_OF_TYPE.get(type(x))
    if k is not None:
        return k
    # Subclasses (np.float64 is a float, IntEnum members are ints); bool before int.
    for t in (bool, int, float, complex):
        if isinstance(x, t):
            return _KIND_OF_TYPE[t]
    raise _invalid_type(x, where)


class _ListInfo:
    """What validating a nested list finds: its shape, its scalar leaves, its arrays."""
    __slots__ = ("shape", "kind", "int_min", "int_max", "array_dtypes")

    def __init__(self, shape):
        self.shape = shape
        self.kind = -1          # widest scalar kind seen, -1 for none
        self.int_min = 0
        self.int_max = 0
        self.array_dtypes = None


def _inspect_list(val, where):
    """Validate a nested list as MLX does and summarize it.

    The shape comes from the chain of first elements; every other element must agree.
    A list where a scalar should be is an "extra dimension", anything else that does not
    fit is a "non-uniform length". Levels are checked whole with C-speed set/map calls,
    falling back to a per-element walk only for levels that mix kinds.
    """
    shape = []
    x = val
    while True:
        if isinstance(x, (list, tuple)):
            shape.append(len(x))
            if not x:
                break
            x = x[0]
        elif isinstance(x, array):
            shape.extend(x.shape)
            break
        else:
            break
    ndim = len(shape)
    info = _ListInfo(tuple(shape))
    level = [val]
    depth = 0
    ints = []
    while level:
        children = list(chain.from_iterable(level))
        depth += 1
        if not children:
            break
        types = set(map(type, children))
        if types <= _SEQUENCE_TYPES:
            if depth == ndim:
                raise _extra_dimension(where)
            if len(set(map(len, children))) != 1 or len(children[0]) != shape[depth]:
                raise _non_uniform(where)
            level = children
            continue
        if depth == ndim and len(types) <= 4 and all(t in _KIND_OF_TYPE for t in types):
            # The common case: a level of plain Python scalars.
            info.kind = max(info.kind, max(_KIND_OF_TYPE[t] for t in types))
            if int in types:
                ints.append(children if types <= {int, bool} else
                            [c for c in children if type(c) is int])
            break
        level = []
        for c in children:
            if isinstance(c, (list, tuple)):
                if depth == ndim:
                    raise _extra_dimension(where)
                if len(c) != shape[depth]:
                    raise _non_uniform(where)
                level.append(c)
            elif isinstance(c, array):
                if c.shape != info.shape[depth:]:
                    raise _non_uniform(where)
                if info.array_dtypes is None:
                    info.array_dtypes = set()
                info.array_dtypes.add(c.dtype)
            else:
                k = _leaf_kind(c, where)
                if depth != ndim:
                    raise _non_uniform(where)
                if k > info.kind:
                    info.kind = k
                if k == _INT and not isinstance(c, bool):
                    ints.append((int(c),))
    if ints:
        info.int_min = min(min(group) for group in ints if group)
        info.int_max = max(max(group) for group in ints if group)
        for v in (info.int_min, info.int_max):
            _check_int64(v, where)
    return info


def _scalar_kind_dtype(info):
    if info.kind == _INT:
        fits = _INT32_MIN <= info.int_min and info.int_max <= _INT32_MAX
        return _dt.int32 if fits else _dt.int64
    return _KIND_DTYPE.get(info.kind)


def _list_host(val, info, d, where):
    """NumPy data of dtype `d` for a validated list of Python scalars only."""
    kind = info.kind
    if kind == _INT and d.kind in "iub":
        name, lo, hi = _LIST_INT_READER[d]
        for v in (info.int_min, info.int_max):
            if not lo <= v <= hi:
                # MLX raises RuntimeError (std::bad_cast) here.
                raise RuntimeError(
                    f"[{where}] Integer {v} does not fit {name}, the type MLX reads the "
                    f"integers of a list as when dtype={d.name}; pass a NumPy array or a "
                    "wider dtype instead.")
        return cast_host(np.array(val, dtype=np.int64), d)
    if kind == _BOOL:
        h = np.array(val, dtype=np.bool_)
    elif kind == _COMPLEX:
        h = np.array(val, dtype=np.complex128)
    else:
        # Floats, or no leaves at all (an empty list is float32), or ints read as
        # doubles for a floating target.
        h = np.array(val, dtype=np.float64)
    return cast_host(h, d)


def _lazy_list(val, d, dtype_given, where):
    """A graph node stacking the arrays (and scalars) of a nested list, cast to `d`.

    Lists holding arrays are built with ops, not eagerly, so that `mx.array([x, 2 * x])`
    stays differentiable and works on placeholders under vmap and compile.
    """
    from .ops._core import cast_node
    from .ops.shape import stack
    from .device import current_stream
    stream = current_stream()

    def build(x):
        if isinstance(x, array):
            return wrap(cast_node(x._node, d, stream))
        if isinstance(x, (list, tuple)):
            if not any(isinstance(c, (array, list, tuple)) for c in x):
                return wrap(cast_node(to_node(x, d if dtype_given else None, where), d, stream))
            return stack([build(c) for c in x])
        return wrap(cast_node(to_node(x, d if dtype_given else None, where), d, stream))

    return build(val)._node


def _flat_list_node(val):
    """The node for a flat list of one plain scalar type with no dtype given, or None."""
    types = set(map(type, val))
    if len(types) != 1:
        return None
    t = types.pop()
    if t is float:
        with np.errstate(over="ignore"):
            return constant_node(np.array(val, dtype=_NP_FLOAT32), _dt.float32)
    if t is int:
        lo, hi = min(val), max(val)
        if _INT32_MIN <= lo and hi <= _INT32_MAX:
            return constant_node(np.array(val, dtype=_NP_INT32), _dt.int32)
        return None
    if t is bool:
        return constant_node(np.array(val, dtype=np.bool_), _dt.bool_)
    return None


def _list_node(val, dtype, where):
    if dtype is None and val:
        n = _flat_list_node(val)
        if n is not None:
            return n
    info = _inspect_list(val, where)
    d = _scalar_kind_dtype(info)
    if info.array_dtypes is not None:
        for ad in info.array_dtypes:
            d = ad if d is None else _dt.PROMOTION[d, ad]
        return _lazy_list(val, dtype or d, dtype is not None, where)
    d = dtype or d or _dt.float32
    return constant_node(_contiguous(_list_host(val, info, d, where)), d)


# -- NumPy and other foreign data ------------------------------------------------------

def _numpy_host(h, dtype, where):
    """(private C-ordered NumPy data, dtype) for NumPy data `h`."""
    src = h.dtype
    d = _FROM_NUMPY.get(src)
    if d is None:
        if src.kind in "biufc" and not src.isnative:
            return _numpy_host(h.astype(src.newbyteorder("=")), dtype, where)
        # MLX raises RuntimeError (std::bad_cast) for these.
        raise RuntimeError(f"[{where}] Cannot convert NumPy data of dtype {src} to an array; "
                           "supported are bool, (u)int8-64, float16/32/64, bfloat16 and "
                           "complex64/128.")
    d = dtype or d
    out = cast_host(h, d)
    if out is h or (out.base is not None and np.shares_memory(out, h)):
        # The caller keeps its array and may write to it; our buffers never change.
        return np.array(out, order="C"), d
    return _contiguous(out), d


def _contiguous(h):
    # ascontiguousarray would turn 0-d data into shape (1,).
    return h if h.flags.c_contiguous else np.array(h, order="C")


class _DLPackOnly:
    """Gives NumPy the __dlpack_device__ that a bare __dlpack__ producer may lack."""

    def __init__(self, obj):
        self._obj = obj

    def __dlpack__(self, **kwargs):
        try:
            return self._obj.__dlpack__(**kwargs)
        except TypeError:
            return self._obj.__dlpack__()

    def __dlpack_device__(self):
        return (1, 0)


def _from_dlpack_host(val, where):
    if not hasattr(val, "__dlpack_device__"):
        val = _DLPackOnly(val)
    try:
        return np.from_dlpack(val)
    except (BufferError, TypeError, RuntimeError) as e:
        raise TypeError(f"[{where}] Cannot import {type(val).__name__} through DLPack: {e}") from None


def _foreign_host(val, where):
    """NumPy data for DLPack producers, buffer-protocol objects and `__array__` objects."""
    t = type(val)
    if hasattr(t, "__dlpack__"):
        return _from_dlpack_host(val, where)
    try:
        view = memoryview(val)
    except TypeError:
        view = None
    if view is not None:
        return np.asarray(view)
    if hasattr(t, "__array__"):
        return np.asarray(val)
    raise _invalid_type(val, where)


# -- entry points ----------------------------------------------------------------------

def to_node(val, dtype, where):
    """The node `mx.array(val, dtype)` holds (sharing `val`'s node when it is an array)."""
    if dtype is not None and type(dtype) is not _dt.Dtype:
        raise TypeError(f"[{where}] dtype must be an mlxpy Dtype such as mx.float32, "
                        f"got {type(dtype).__name__}.")
    if isinstance(val, array):
        n = val._node
        if dtype is None or dtype is n.dtype:
            return n
        from .ops._core import cast_node
        from .device import current_stream
        return cast_node(n, dtype, current_stream())
    t = type(val)
    if dtype is None:
        # The common scalars, without the general path's casts.
        if t is float:
            if -_FLOAT32_MAX <= val <= _FLOAT32_MAX:
                return constant_node(np.array(val, dtype=_NP_FLOAT32), _dt.float32)
        elif t is int:
            if _INT32_MIN <= val <= _INT32_MAX:
                return constant_node(np.array(val, dtype=_NP_INT32), _dt.int32)
        elif t is bool:
            return constant_node(np.array(val), _dt.bool_)
    if t in _KIND_OF_TYPE or isinstance(val, (bool, int, float, complex)):
        h, d = _scalar_host(val, dtype, where)
        return constant_node(h, d)
    if t is list or t is tuple or isinstance(val, (list, tuple)):
        return _list_node(val, dtype, where)
    if isinstance(val, (np.ndarray, np.generic)):
        h, d = _numpy_host(np.asarray(val), dtype, where)
        return constant_node(h, d)
    if val is None:
        raise TypeError(f"[{where}] Cannot make an array from None.")
    h, d = _numpy_host(_foreign_host(val, where), dtype, where)
    return constant_node(h, d)


def from_dlpack(x, /, *, copy=None):
    """An array from any object with ``__dlpack__`` (a NumPy array, a tensor of another
    library, an mlxpy array). The data is always copied: mlxpy's buffers never change
    after they are made, which a shared foreign buffer could not promise.

    >>> import mlxpy.core as mx
    >>> import numpy as np
    >>> mx.from_dlpack(np.arange(3, dtype=np.float32))
    array([0, 1, 2], dtype=float32)
    """
    if copy is not None and type(copy) is not bool:
        raise TypeError(f"[from_dlpack] copy must be a bool or None, got {type(copy).__name__}.")
    if not hasattr(type(x), "__dlpack__"):
        raise TypeError(f"[from_dlpack] Expected an object with __dlpack__, got {type(x).__name__}.")
    if copy is False:
        raise ValueError("[from_dlpack] Cannot import a CPU array without a copy; "
                         "use copy=None or copy=True.")
    if isinstance(x, array):
        return wrap(x._node)
    h, d = _numpy_host(_from_dlpack_host(x, "from_dlpack"), None, "from_dlpack")
    return wrap(constant_node(h, d))
