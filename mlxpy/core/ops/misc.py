"""Comparisons of whole arrays (isclose, allclose, array_equal) and graph helpers
(stop_gradient, depends)."""
from .. import dtypes as _dt
from ..array import array, wrap
from ..primitives import elementwise as E
from ..primitives.misc import Depends
from ._core import binary_nodes, make, make_multi, scalar_node, stream_of
from . import elementwise as ew

__all__ = ["isclose", "allclose", "array_equal", "stop_gradient", "depends"]

_array = array


def isclose(a, b, /, rtol=1e-05, atol=1e-08, *, equal_nan=False, stream=None):
    """Where |a - b| <= atol + rtol * |b|, with broadcasting. Infinities are close when
    they have the same sign; nans only with `equal_nan`.

    >>> import mlxpy.core as mx
    >>> mx.isclose(mx.array([1.0, 1.1, float("inf")]), mx.array([1.0 + 1e-7, 1.0, float("inf")]))
    array([True, False, True], dtype=bool)
    """
    s = stream_of(stream, "isclose")
    a = wrap(ew._strict(a, "isclose"))
    b = wrap(ew._strict(b, "isclose"))
    rtol = ew._real_number(rtol, "rtol", "isclose")
    atol = ew._real_number(atol, "atol", "isclose")
    na, nb = binary_nodes(a, b, "isclose", s)
    a, b = wrap(na), wrap(nb)
    # The tolerances are float32 arrays, not weak scalars (as MLX): half-precision
    # inputs are compared in float32, where 1e-8 does not round to zero.
    rtol = wrap(scalar_node(rtol, _dt.float32, "isclose"))
    atol = wrap(scalar_node(atol, _dt.float32, "isclose"))
    close = ew.less_equal(ew.abs(ew.subtract(a, b, stream=s), stream=s),
                          ew.add(atol, ew.multiply(rtol, ew.abs(b, stream=s), stream=s),
                                 stream=s), stream=s)
    if na.dtype.kind not in "fc":
        return close
    # Infinities: close exactly when equal (same sign); a finite value is never close
    # to an infinite one, whatever the tolerances.
    a_inf = ew.isinf(a, stream=s)
    b_inf = ew.isinf(b, stream=s)
    out = ew.where(ew.logical_or(a_inf, b_inf, stream=s), ew.equal(a, b, stream=s), close,
                   stream=s)
    if equal_nan:
        both_nan = ew.logical_and(ew.isnan(a, stream=s), ew.isnan(b, stream=s), stream=s)
        out = ew.logical_or(out, both_nan, stream=s)
    return out


def allclose(a, b, /, rtol=1e-05, atol=1e-08, *, equal_nan=False, stream=None):
    """Whether all elements of `a` and `b` are close (see `isclose`), as a 0-d bool array.

    >>> import mlxpy.core as mx
    >>> mx.allclose(mx.array([1.0, 2.0]), mx.array([1.0, 2.0 + 1e-6]))
    array(True, dtype=bool)
    """
    from .reduction import all as all_
    close = isclose(a, b, rtol, atol, equal_nan=equal_nan, stream=stream)
    return all_(close, stream=stream)


def array_equal(a, b, /, *, equal_nan=False, stream=None):
    """Whether `a` and `b` have the same shape and equal values (dtypes may differ),
    as a 0-d bool array; with `equal_nan` nans compare equal.

    >>> import mlxpy.core as mx
    >>> mx.array_equal(mx.array([1, 2]), mx.array([1.0, 2.0]))
    array(True, dtype=bool)
    """
    from .reduction import all as all_
    s = stream_of(stream, "array_equal")
    na, nb = binary_nodes(a, b, "array_equal", s)
    if na.shape != nb.shape:
        from .creation import full
        return full((), False, _dt.bool_, stream=s)
    return all_(make(E.Equal(bool(equal_nan)), [na, nb], s), stream=s)


_STOP_GRADIENT = E.StopGradient()


def stop_gradient(a, /, *, stream=None):
    """The values of `a`, with no gradient flowing back through them.

    >>> import mlxpy.core as mx
    >>> mx.stop_gradient(mx.array([1.0, 2.0]))
    array([1, 2], dtype=float32)
    """
    s = stream_of(stream, "stop_gradient")
    return make(_STOP_GRADIENT, [ew._strict(a, "stop_gradient")], s)


def depends(inputs, dependencies):
    """`inputs` unchanged, but evaluated only after `dependencies`.

    Both may be an array or a sequence of arrays; a single input array gives a single
    array back, a sequence gives a list.

    >>> import mlxpy.core as mx
    >>> x = mx.array([1, 2])
    >>> mx.depends(x, mx.array(3.0))
    array([1, 2], dtype=int32)
    """
    single = isinstance(inputs, _array)
    ins = [inputs] if single else _sequence(inputs)
    deps = [dependencies] if isinstance(dependencies, _array) else _sequence(dependencies)
    for x in ins + deps:
        if not isinstance(x, _array):
            raise RuntimeError(f"[depends] Expected mlxpy arrays, got {type(x).__name__}.")
    if not ins:
        raise ValueError("[depends] Needs at least one input array.")
    if not deps:
        return ins[0] if single else list(ins)
    s = ins[0]._node.stream
    outs = make_multi(Depends(len(ins)), [x._node for x in ins + deps], s)
    return outs[0] if single else outs


def _sequence(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    raise RuntimeError(f"[depends] Expected an array or a sequence of arrays, got "
                       f"{type(x).__name__}.")
