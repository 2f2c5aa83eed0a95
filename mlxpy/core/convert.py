"""Turning Python values (scalars, nested lists, NumPy arrays, DLPack objects) into nodes."""
import numpy as np

from . import dtypes as _dt
from .device import current_stream
from .graph import Node

_INT32_MIN, _INT32_MAX = -(2 ** 31), 2 ** 31 - 1


def _scalar_dtype(v):
    if isinstance(v, bool):
        return _dt.bool_
    if isinstance(v, int):
        return _dt.int32 if _INT32_MIN <= v <= _INT32_MAX else _dt.int64
    if isinstance(v, float):
        return _dt.float32
    if isinstance(v, complex):
        return _dt.complex64
    return None


def _numpy_dtype_to_mx(np_dtype):
    """MLX's reading of a NumPy dtype: float64 narrows to float32 unless asked for."""
    if np_dtype == np.float64:
        return _dt.float32
    if np_dtype.kind == "c":
        return _dt.complex64
    if np_dtype.kind in "OSUV" or np_dtype.kind == "M" or np_dtype.kind == "m":
        raise ValueError(f"[array] Cannot make an array from NumPy dtype {np_dtype}.")
    return _dt.from_numpy(np_dtype)


def _nested_info(val, where):
    """Shape and inferred dtype of a nested list/tuple; raises on ragged input."""
    from .array import array
    shape = []
    level = [val]
    while True:
        kinds = {type(x) in (list, tuple) for x in level}
        if kinds == {True}:
            lengths = {len(x) for x in level}
            if len(lengths) != 1:
                raise ValueError(f"[{where}] Initialization encountered non-uniform length.")
            shape.append(lengths.pop())
            level = [y for x in level for y in x]
            if not level:
                return tuple(shape), _dt.float32, level
            continue
        if kinds == {True, False}:
            raise ValueError(f"[{where}] Initialization encountered non-uniform length.")
        break
    # Leaves: scalars or arrays (which must agree in shape).
    dtype = None
    inner = None
    for x in level:
        if isinstance(x, array):
            d = x.dtype
            if inner is None:
                inner = x.shape
            elif inner != x.shape:
                raise ValueError(f"[{where}] Initialization encountered non-uniform length.")
        else:
            d = _scalar_dtype(x)
            if d is None:
                if isinstance(x, np.generic):
                    d = _numpy_dtype_to_mx(x.dtype)
                else:
                    raise ValueError(
                        f"[{where}] Invalid type {type(x).__name__} received in array initialization.")
            if inner is not None:
                raise ValueError(f"[{where}] Initialization encountered non-uniform length.")
        dtype = d if dtype is None else _list_promote(dtype, d)
    if inner is not None:
        shape.extend(inner)
    return tuple(shape), dtype, level


def _list_promote(a, b):
    # Python int + bool in a list gives int32, int + float gives float32, as in MLX.
    return _dt.promote_types(a, b)


def to_numpy(val, dtype, where):
    """(NumPy data, mlxpy dtype) for any value `mx.array` accepts."""
    from .array import array
    if isinstance(val, array):
        d = dtype or val.dtype
        h = val._host()
        return (h if d is val.dtype else _cast(h, d)), d
    if type(val) in (list, tuple):
        shape, inferred, leaves = _nested_info(val, where)
        d = dtype or inferred
        if leaves and isinstance(leaves[0], array):
            h = np.stack([_cast(x._host(), d) for x in leaves]).reshape(shape)
            return h, d
        if d.kind in "iub" and inferred.kind in "iub":
            h = np.array(val, dtype=np.int64 if inferred is not _dt.bool_ else np.bool_)
            return _cast(h, d), d
        h = np.array(val, dtype=np.complex128 if inferred is _dt.complex64 else np.float64)
        return _cast(h.reshape(shape), d), d
    d = _scalar_dtype(val)
    if d is not None:
        d = dtype or d
        return _cast(np.array(val), d), d
    if isinstance(val, (np.ndarray, np.generic)):
        d = dtype or _numpy_dtype_to_mx(val.dtype)
        return _cast(np.array(val), d), d
    if hasattr(val, "__dlpack__"):
        h = np.from_dlpack(val)
        d = dtype or _numpy_dtype_to_mx(h.dtype)
        return _cast(np.array(h), d), d
    if hasattr(val, "__array__"):
        h = np.asarray(val)
        d = dtype or _numpy_dtype_to_mx(h.dtype)
        return _cast(np.array(h), d), d
    raise ValueError(f"[{where}] Invalid type {type(val).__name__} received in array initialization.")


def _cast(h, d):
    if h.dtype == d.np:
        return h
    if d.kind in "iu" and h.dtype.kind == "f":
        # C-style truncation with wrap-around, which NumPy leaves undefined for
        # out-of-range floats: go through int64 first.
        return h.astype(np.int64).astype(d.np)
    return h.astype(d.np)


def to_node(val, dtype, where):
    if dtype is not None and not isinstance(dtype, _dt.Dtype):
        raise TypeError(f"[{where}] dtype must be an mlxpy Dtype, got {type(dtype).__name__}.")
    h, d = to_numpy(val, dtype, where)
    n = Node(h.shape, d, None, None, current_stream())
    n.set_data(np.ascontiguousarray(h) if h.ndim else h)
    return n
