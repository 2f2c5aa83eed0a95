"""Array construction: zeros, ones, full, arange, linspace, eye and friends."""
import math

from .. import dtypes as _dt
from ..array import wrap
from ..primitives import creation as P
from ._core import (check_dtype, check_shape, make, node_of, scalar_node, stream_of, cast_node,
                    as_array)


def full(shape, vals, dtype=None, *, stream=None):
    """An array of `shape` filled with `vals` (a scalar or an array broadcastable to it).

    >>> import mlxpy.core as mx
    >>> mx.full((2,), 7)
    array([7, 7], dtype=int32)
    """
    s = stream_of(stream, "full")
    shape = check_shape(shape, "full")
    dtype = check_dtype(dtype, "full")
    v = node_of(vals, "full")
    if dtype is not None:
        v = cast_node(v, dtype, s)
    from ._core import broadcast_shapes
    if broadcast_shapes(v.shape, shape, where="full") != shape:
        raise ValueError(f"[full] Cannot broadcast value of shape {v.shape} to {shape}.")
    return make(P.Full(shape), [v], s)


def zeros(shape, dtype=_dt.float32, *, stream=None):
    """An array of zeros.

    >>> import mlxpy.core as mx
    >>> mx.zeros((2, 2), dtype=mx.int32)
    array([[0, 0],
           [0, 0]], dtype=int32)
    """
    dtype = check_dtype(dtype, "zeros", _dt.float32)
    return full(shape, _scalar(0, dtype), stream=stream)


def ones(shape, dtype=_dt.float32, *, stream=None):
    """An array of ones."""
    dtype = check_dtype(dtype, "ones", _dt.float32)
    return full(shape, _scalar(1, dtype), stream=stream)


def _scalar(value, dtype):
    return wrap(scalar_node(value, dtype, "full"))


def zeros_like(a, /, *, stream=None):
    a = as_array(a, "zeros_like")
    return zeros(a.shape, a.dtype, stream=stream)


def ones_like(a, /, *, stream=None):
    a = as_array(a, "ones_like")
    return ones(a.shape, a.dtype, stream=stream)


def full_like(a, /, vals, dtype=None, *, stream=None):
    a = as_array(a, "full_like")
    return full(a.shape, vals, dtype or a.dtype, stream=stream)


def _is_int(v):
    return isinstance(v, int)


def arange(*args, dtype=None, stream=None, **kwargs):
    """Evenly spaced values in [start, stop) with `step`.

    Call as ``arange(stop)``, ``arange(start, stop)`` or ``arange(start, stop, step)``.

    >>> import mlxpy.core as mx
    >>> mx.arange(3)
    array([0, 1, 2], dtype=int32)
    """
    names = ("start", "stop", "step")
    given = dict(zip(names if len(args) > 1 else ("stop",), args))
    if len(args) > 3:
        raise TypeError("[arange] Takes at most 3 positional arguments (start, stop, step).")
    for k, v in kwargs.items():
        if k not in names:
            raise TypeError(f"[arange] Unexpected keyword argument '{k}'.")
        given[k] = v
    if "stop" not in given:
        if "start" in given and len(given) == 1:
            given = {"stop": given["start"]}
        else:
            raise TypeError("[arange] stop is required.")
    start = given.get("start", 0)
    stop = given["stop"]
    step = given.get("step", 1)
    for v in (start, stop, step):
        if not isinstance(v, (int, float)):
            raise TypeError("[arange] start, stop and step must be Python ints or floats.")
    dtype = check_dtype(dtype, "arange")
    if dtype is None:
        dtype = _dt.int32 if all(_is_int(v) for v in (start, stop, step)) else _dt.float32
    if dtype is _dt.bool_:
        raise ValueError("[arange] Cannot compute length of arange for bool dtype.")
    if step == 0:
        raise ValueError("[arange] Cannot compute length of arange with a step of 0.")
    if any(isinstance(v, float) and not math.isfinite(v) for v in (start, stop, step)):
        raise ValueError("[arange] Cannot compute length of arange with non-finite values.")
    num = max(0, math.ceil((stop - start) / step))
    return make(P.Arange(start, step, num, dtype), [], stream_of(stream, "arange"))


def linspace(start, stop, num=50, dtype=_dt.float32, *, stream=None):
    """`num` evenly spaced values from `start` to `stop` inclusive."""
    dtype = check_dtype(dtype, "linspace", _dt.float32)
    if num < 0:
        raise ValueError(f"[linspace] number of samples, {num}, must be non-negative.")
    from .elementwise import add, multiply
    if num == 1:
        return full((1,), start, dtype, stream=stream)
    step = (stop - start) / (num - 1) if num > 1 else 0.0
    ramp = arange(0, num, dtype=_dt.float32, stream=stream)
    return add(multiply(ramp, step, stream=stream), start, stream=stream).astype(dtype, stream=stream)


def eye(n, m=None, k=0, dtype=_dt.float32, *, stream=None):
    """A 2-D array with ones on the k-th diagonal."""
    dtype = check_dtype(dtype, "eye", _dt.float32)
    m = n if m is None else m
    if n < 0 or m < 0:
        raise ValueError("[eye] n and m must be non-negative.")
    return make(P.Eye(int(n), int(m), int(k), dtype), [], stream_of(stream, "eye"))


def identity(n, dtype=_dt.float32, *, stream=None):
    return eye(n, n, 0, dtype, stream=stream)
