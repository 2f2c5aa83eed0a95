"""The rest of `mlx.core`'s ops: strided and bit views, search, unique, rolls, grids,
window functions, 1-D convolution, and small aliases.

Most are compositions of public ops, so they inherit every transform rule; only
`as_strided`, `view` and `searchsorted` build primitives of their own
(primitives/extra.py).
"""
import contextlib
import math
import operator

import numpy as np

import mlxpy.core as mx

from .. import dtypes as _dt
from ..array import array as _array, wrap
from ..graph import Node
from ..primitives import extra as P
from ._core import attach_methods, node_of, scalar_node, stream_of
from .reduction import cumsum as cumulative_sum, cumprod as cumulative_prod

__all__ = [
    "as_strided", "view", "searchsorted", "unique", "asarray", "contiguous",
    "count_nonzero", "cumulative_sum", "cumulative_prod", "minmax", "roll", "unstack",
    "meshgrid", "matrix_transpose", "permute_dims", "hanning", "hamming", "blackman",
    "bartlett", "convolve",
]


def _node(a, where):
    if isinstance(a, _array):
        return a._node
    raise TypeError(f"[{where}] Expected an mx.array, got {type(a).__name__}.")


def _int(v, where, what):
    if isinstance(v, bool) or not hasattr(v, "__index__"):
        raise TypeError(f"[{where}] {what} must be an integer, got {type(v).__name__}.")
    return operator.index(v)


def _ints(seq, where, what):
    if hasattr(seq, "__index__") or not hasattr(seq, "__iter__"):
        raise TypeError(f"[{where}] {what} must be a sequence of integers.")
    return tuple(_int(v, where, what) for v in seq)


def _on(stream, where):
    """Run a composite op's body on `stream` (its sub-ops take the default stream)."""
    if stream is None:
        return contextlib.nullcontext()
    return mx.stream(stream_of(stream, where))


def _axis(axis, ndim, where):
    a = _int(axis, where, "axis")
    if not -ndim <= a < ndim:
        raise IndexError(f"[{where}] Invalid axis {axis} for array with {ndim} dimensions.")
    return a % ndim


# -- primitives of their own -----------------------------------------------------------

def as_strided(a, /, shape=None, strides=None, offset=0, *, stream=None):
    """A strided view of `a` read as if row-contiguous: element ``i`` of the result is
    ``a.flatten()[offset + sum(i[k] * strides[k])]`` (strides in elements).

    Unlike MLX, positions outside `a` raise a ValueError instead of reading stray memory.

    >>> import mlxpy.core as mx
    >>> mx.as_strided(mx.arange(5), (3, 3), (1, 1))
    array([[0, 1, 2],
           [1, 2, 3],
           [2, 3, 4]], dtype=int32)
    """
    s = stream_of(stream, "as_strided")
    n = _node(a, "as_strided")
    shape = n.shape if shape is None else _ints(shape, "as_strided", "shape")
    if any(d < 0 for d in shape):
        raise ValueError(f"[as_strided] Negative dimensions are not allowed: {shape}.")
    if strides is None:
        strides, step = [], 1
        for d in reversed(shape):
            strides.append(step)
            step *= d
        strides = tuple(reversed(strides))
    else:
        strides = _ints(strides, "as_strided", "strides")
    if len(strides) != len(shape):
        raise ValueError(f"[as_strided] Got {len(strides)} strides for a shape of "
                         f"{len(shape)} dimensions.")
    offset = _int(offset, "as_strided", "offset")
    size = P._size(n.shape)
    if P._size(shape):
        low = offset + sum((d - 1) * st for d, st in zip(shape, strides) if st < 0)
        high = offset + sum((d - 1) * st for d, st in zip(shape, strides) if st > 0)
        if low < 0 or high >= size:
            raise ValueError(f"[as_strided] The shape {tuple(shape)}, strides "
                             f"{tuple(strides)} and offset {offset} read positions "
                             f"[{low}, {high}], outside an array of {size} elements.")
    prim = P.AsStrided(shape, strides, offset)
    return wrap(Node(prim.shape, n.dtype, prim, [n], s))


def view(a, dtype, stream=None):
    """The bits of `a` read as `dtype`. With a different item size the last axis
    grows or shrinks to keep the byte count (0-d arrays need equal sizes).

    >>> import mlxpy.core as mx
    >>> mx.view(mx.array([1.0, -2.0]), mx.uint32)
    array([1065353216, 3221225472], dtype=uint32)
    """
    s = stream_of(stream, "view")
    if not isinstance(dtype, _dt.Dtype):
        raise TypeError(f"[view] dtype must be an mlxpy Dtype, got {type(dtype).__name__}.")
    n = a._node if isinstance(a, _array) else node_of(a, "view")
    if n.dtype is dtype:
        return wrap(n)
    shape = P.view_shape(n.shape, n.dtype, dtype)
    return wrap(Node(shape, dtype, P.View(dtype), [n], s))


def searchsorted(sorted_sequence, values, /, side="left", *, stream=None):
    """Indices (uint32) that keep the 1-D `sorted_sequence` sorted when each of `values`
    is inserted: the count of elements below the value ('left') or at most it ('right').

    >>> import mlxpy.core as mx
    >>> mx.searchsorted(mx.array([1, 2, 2, 4]), mx.array([0, 2, 3, 5]), side="right")
    array([0, 3, 3, 4], dtype=uint32)
    """
    s = stream_of(stream, "searchsorted")
    seq = _node(sorted_sequence, "searchsorted")
    vals = _node(values, "searchsorted")
    if side not in ("left", "right"):
        raise ValueError(f"[searchsorted] Invalid side '{side}'. Expected 'left' or 'right'.")
    if len(seq.shape) != 1:
        raise ValueError(f"[searchsorted] The sorted sequence must be 1-D but has "
                         f"{len(seq.shape)} dimensions.")
    d = _dt.promote_types(seq.dtype, vals.dtype)
    seq_a = wrap(seq).astype(d, stream=s)
    vals_a = wrap(vals).astype(d, stream=s)
    prim = P.SearchSorted(side)
    return wrap(Node(vals.shape, _dt.uint32, prim, [seq_a._node, vals_a._node], s))


# -- unique ------------------------------------------------------------------------------

def _fill_node(fill_value, dtype, where):
    if isinstance(fill_value, _array):
        if fill_value.size != 1:
            shape = ",".join(str(d) for d in fill_value.shape)
            raise ValueError(f"[{where}] Fill value must have one element, but got shape "
                             f"({shape}).")
        return mx.reshape(fill_value, ()).astype(dtype)
    if isinstance(fill_value, (bool, int, float, complex, np.number, np.bool_)):
        v = fill_value.item() if isinstance(fill_value, (np.number, np.bool_)) else fill_value
        if dtype.kind in "iu" and isinstance(v, float):
            v = int(v) if math.isfinite(v) else v
        return wrap(scalar_node(v, dtype, where))
    raise TypeError(f"[{where}] fill_value must be a scalar or an mx.array, got "
                    f"{type(fill_value).__name__}.")


def unique(a, /, size, return_index=False, return_inverse=False, return_counts=False,
           fill_value=None, *, stream=None):
    """The `size` smallest distinct elements of the flattened `a`, sorted, padded with
    `fill_value` (default: the smallest element). Optionally also: the first index of
    each (uint32), the indices into the result that rebuild `a` (uint32, shape of `a`),
    and the count of each (int32, 0 in the padding). NaNs are all distinct.

    >>> import mlxpy.core as mx
    >>> mx.unique(mx.array([2, 1, 2, 3, 1]), 4, return_counts=True, fill_value=0)
    (array([1, 2, 3, 0], dtype=int32), array([2, 2, 1, 0], dtype=int32))
    """
    n = _node(a, "unique")
    size = _int(size, "unique", "size")
    if size < 0:
        raise ValueError(f"[unique] Received negative size {size}.")
    total = P._size(n.shape)
    if total == 0 and size > 0 and fill_value is None:
        raise ValueError("[unique] A fill value is required for an empty input with a "
                         "non-zero size.")
    with _on(stream, "unique"):
        x = wrap(n)
        fill = None if fill_value is None else _fill_node(fill_value, n.dtype, "unique")
        flat = mx.reshape(x, (total,))
        order = mx.argsort(flat) if total else mx.zeros((0,), dtype=mx.uint32)
        ordered = mx.take(flat, order)
        if total:
            first = mx.concatenate([mx.array([True]),
                                    mx.not_equal(ordered[1:], ordered[:-1])])
        else:
            first = mx.zeros((0,), dtype=mx.bool_)
        group = mx.cumsum(first.astype(mx.int32)) - 1          # sorted position -> group
        num = mx.sum(first.astype(mx.int32))
        # Stable: the first positions of the groups come first, in order.
        starts = mx.argsort(mx.logical_not(first)) if total else mx.zeros((0,), mx.uint32)
        all_starts = starts.astype(mx.int32)
        keep = min(size, total)

        def fit(t):
            """`t` (one entry per sorted element) cut or zero-padded to `size`."""
            t = t[:keep]
            if size > keep:
                t = mx.concatenate([t, mx.zeros((size - keep,), dtype=t.dtype)])
            return t

        starts = fit(all_starts)
        valid = mx.less(mx.arange(size), num)
        values = mx.take(ordered, starts) if total else mx.zeros((size,), dtype=n.dtype)
        if fill is None:
            fill = values[0] if size else mx.zeros((), dtype=n.dtype)
        values = mx.where(valid, values, fill)
        outputs = [values]
        if return_index:
            index = mx.take(order, starts) if total else mx.zeros((size,), dtype=mx.uint32)
            first_index = index[0] if size else mx.zeros((), mx.uint32)
            outputs.append(mx.where(valid, index, first_index).astype(mx.uint32))
        if return_inverse:
            clamped = mx.minimum(group, max(size - 1, 0)) if total else group
            # group[rank of each element]: the inverse permutation of `order`.
            if total:
                rank = mx.argsort(order)
                inverse = mx.take(mx.maximum(clamped, 0), rank)
            else:
                inverse = mx.zeros((0,), dtype=mx.int32)
            outputs.append(mx.reshape(inverse, n.shape).astype(mx.uint32))
        if return_counts:
            ends = mx.concatenate([all_starts[1:], mx.array([total], dtype=mx.int32)])
            ends = fit(mx.where(mx.less(mx.arange(total) + 1, num), ends, total))
            counts = mx.where(valid, ends - starts, 0).astype(mx.int32)
            outputs.append(counts)
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


# -- conversions and aliases ---------------------------------------------------------------

def asarray(a, dtype=None, *, copy=None):
    """`a` as an mx.array (a new handle; an existing array of `dtype` is not copied).

    >>> import mlxpy.core as mx
    >>> mx.asarray([1, 2], mx.float32)
    array([1, 2], dtype=float32)
    """
    if dtype is not None and not isinstance(dtype, _dt.Dtype):
        raise TypeError(f"[asarray] dtype must be an mlxpy Dtype, got {type(dtype).__name__}.")
    if isinstance(a, _array):
        out = wrap(a._node)
        return out if dtype is None or dtype is a.dtype else out.astype(dtype)
    if copy is False:
        raise ValueError("[asarray] Cannot import a CPU array without a copy (copy=False).")
    return _array(a, dtype)


def contiguous(a, /, allow_col_major=False, *, stream=None):
    """`a` in row-contiguous memory. mlxpy arrays always are, so this is `a`'s values.

    >>> import mlxpy.core as mx
    >>> mx.contiguous(mx.arange(4).reshape(2, 2).T)
    array([[0, 2],
           [1, 3]], dtype=int32)
    """
    stream_of(stream, "contiguous")
    return wrap(_node(a, "contiguous"))


def count_nonzero(a, /, *, axis=None, keepdims=False, stream=None):
    """The number of nonzero (NaN counts) elements over `axis`, as int32.

    >>> import mlxpy.core as mx
    >>> mx.count_nonzero(mx.array([[1, 0, 2], [0, 0, 3]]), axis=1)
    array([2, 1], dtype=int32)
    """
    n = _node(a, "count_nonzero")
    with _on(stream, "count_nonzero"):
        return mx.sum(mx.not_equal(wrap(n), 0), axis=axis, keepdims=keepdims)


def minmax(a, /, axis=None, keepdims=False, *, stream=None):
    """The minimum and the maximum over `axis`, as a pair.

    >>> import mlxpy.core as mx
    >>> mx.minmax(mx.array([3, 1, 2]))
    (array(1, dtype=int32), array(3, dtype=int32))
    """
    _node(a, "minmax")
    return (mx.min(a, axis=axis, keepdims=keepdims, stream=stream),
            mx.max(a, axis=axis, keepdims=keepdims, stream=stream))


def matrix_transpose(a, /, *, stream=None):
    """`a` with its last two axes swapped.

    >>> import mlxpy.core as mx
    >>> mx.matrix_transpose(mx.zeros((2, 3, 4))).shape
    (2, 4, 3)
    """
    n = _node(a, "matrix_transpose")
    if len(n.shape) < 2:
        raise ValueError("[matrix_transpose] Input array must have at least 2 dimensions.")
    return mx.swapaxes(a, -1, -2, stream=stream)


def permute_dims(a, /, axes=None, *, stream=None):
    """The same as `transpose`.

    >>> import mlxpy.core as mx
    >>> mx.permute_dims(mx.zeros((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """
    return mx.transpose(a, axes, stream=stream)


# -- rearranging ------------------------------------------------------------------------------

def _roll_axis(x, shift, axis):
    n = x.shape[axis]
    if n == 0:
        return x
    shift %= n
    if shift == 0:
        return x
    head = (slice(None),) * axis
    return mx.concatenate([x[head + (slice(n - shift, None),)], x[head + (slice(0, n - shift),)]],
                          axis=axis)


def roll(a, shift, axis=None, /, *, stream=None):
    """Shift elements along `axis` (the flattened array if None), wrapping around.
    `shift` and `axis` may be tuples, broadcast against each other.

    >>> import mlxpy.core as mx
    >>> mx.roll(mx.arange(5), 2)
    array([3, 4, 0, 1, 2], dtype=int32)
    """
    n = _node(a, "roll")
    shifts = (_int(shift, "roll", "shift"),) if hasattr(shift, "__index__") else \
        _ints(shift, "roll", "shift")
    with _on(stream, "roll"):
        x = wrap(n)
        if axis is None:
            return mx.reshape(_roll_axis(mx.reshape(x, (x.size,)), sum(shifts), 0), n.shape)
        axes = (axis,) if hasattr(axis, "__index__") else _ints(axis, "roll", "axis")
        axes = tuple(_axis(ax, len(n.shape), "roll") for ax in axes)
        if len(shifts) == 1:
            shifts = shifts * len(axes)
        elif len(axes) == 1:
            axes = axes * len(shifts)
        if len(shifts) != len(axes):
            raise ValueError(f"[roll] Got {len(shifts)} shifts for {len(axes)} axes.")
        total = {}
        for sh, ax in zip(shifts, axes):
            total[ax] = total.get(ax, 0) + sh
        for ax, sh in total.items():
            x = _roll_axis(x, sh, ax)
        return x


def unstack(x, /, *, axis=0, stream=None):
    """The slices of `x` along `axis`, as a tuple.

    >>> import mlxpy.core as mx
    >>> mx.unstack(mx.array([[1, 2], [3, 4]]), axis=1)
    (array([1, 3], dtype=int32), array([2, 4], dtype=int32))
    """
    n = _node(x, "unstack")
    ndim = len(n.shape)
    ax = _int(axis, "unstack", "axis")
    if not -ndim <= ax < ndim:
        raise IndexError(f"[unstack] Axis {axis} is out of bounds for array with {ndim} "
                         "dimensions.")
    ax %= ndim
    count = n.shape[ax]
    if count == 0:
        return ()
    with _on(stream, "unstack"):
        parts = mx.split(wrap(n), count, axis=ax) if count > 1 else [wrap(n)]
        return tuple(mx.squeeze(p, ax) for p in parts)


def meshgrid(*arrays, sparse=False, indexing="xy", stream=None):
    """Coordinate grids from 1-D arrays (others are flattened): 'xy' (Cartesian) or
    'ij' (matrix) indexing; `sparse` leaves each broadcastable instead of full.

    >>> import mlxpy.core as mx
    >>> [g.shape for g in mx.meshgrid(mx.arange(2), mx.arange(3))]
    [(3, 2), (3, 2)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError("[meshgrid] Invalid indexing value. Valid values are 'xy' and 'ij'.")
    nodes = [_node(a, "meshgrid") for a in arrays]
    k = len(nodes)
    if k == 0:
        return ()
    with _on(stream, "meshgrid"):
        flats = [mx.reshape(wrap(nd), (P._size(nd.shape),)) for nd in nodes]
        lengths = [f.size for f in flats]
        out = []
        for i, f in enumerate(flats):
            pos = i
            if indexing == "xy" and k > 1 and i < 2:
                pos = 1 - i
            shape = [1] * k
            shape[pos] = lengths[i]
            out.append(mx.reshape(f, shape))
        if indexing == "xy" and k > 1:
            full = [lengths[1], lengths[0]] + lengths[2:]
        else:
            full = lengths
        if not sparse:
            out = [mx.broadcast_to(g, full) for g in out]
        return tuple(out)


# -- window functions -------------------------------------------------------------------------

def _window(M, where, terms, stream):
    M = _int(M, where, "M")
    with _on(stream, where):
        if M <= 0:
            return mx.zeros((0,), dtype=mx.float32)
        if M == 1:
            return mx.ones((1,), dtype=mx.float32)
        return terms(mx.arange(M, dtype=mx.float32), M - 1)


def hanning(M, *, stream=None):
    """The Hann window of `M` points, 0.5 - 0.5 cos(2 pi n / (M - 1)), in float32.

    >>> import mlxpy.core as mx
    >>> mx.hanning(3)
    array([0, 1, 0], dtype=float32)
    """
    return _window(M, "hanning", lambda n, m: 0.5 - 0.5 * mx.cos(2 * math.pi * n / m), stream)


def hamming(M, *, stream=None):
    """The Hamming window of `M` points, 0.54 - 0.46 cos(2 pi n / (M - 1)), in float32.

    >>> import mlxpy.core as mx
    >>> mx.hamming(3)
    array([0.08, 1, 0.08], dtype=float32)
    """
    return _window(M, "hamming", lambda n, m: 0.54 - 0.46 * mx.cos(2 * math.pi * n / m), stream)


def blackman(M, *, stream=None):
    """The Blackman window of `M` points, in float32.

    >>> import mlxpy.core as mx
    >>> mx.blackman(3)
    array([-1.49012e-08, 1, -1.49012e-08], dtype=float32)
    """
    return _window(M, "blackman", lambda n, m: 0.42 - 0.5 * mx.cos(2 * math.pi * n / m)
                   + 0.08 * mx.cos(4 * math.pi * n / m), stream)


def bartlett(M, *, stream=None):
    """The Bartlett (triangular) window of `M` points, in float32.

    >>> import mlxpy.core as mx
    >>> mx.bartlett(5)
    array([0, 0.5, 1, 0.5, 0], dtype=float32)
    """
    return _window(M, "bartlett", lambda n, m: 1 - mx.abs(2 * n / m - 1), stream)


# -- convolution --------------------------------------------------------------------------------

def convolve(a, v, /, mode="full", *, stream=None):
    """The discrete convolution of two 1-D arrays ('full', 'same' or 'valid'); the
    longer one is the signal, and the other is flipped as the kernel.

    >>> import mlxpy.core as mx
    >>> mx.convolve(mx.array([1.0, 2.0, 3.0]), mx.array([0.0, 1.0, 0.5]))
    array([0, 1, 2.5, 4, 1.5], dtype=float32)
    """
    na = _node(a, "convolve")
    nv = _node(v, "convolve")
    if len(na.shape) != 1 or len(nv.shape) != 1:
        raise ValueError("[convolve] Inputs must be 1D.")
    if na.shape[0] == 0 or nv.shape[0] == 0:
        raise ValueError("[convolve] Inputs cannot be empty.")
    if mode not in ("full", "same", "valid"):
        raise ValueError("[convolve] Invalid mode.")
    if nv.shape[0] > na.shape[0]:
        na, nv = nv, na
    if na.dtype.kind not in "fc":
        raise ValueError(f"[conv] Invalid input array with type {na.dtype.name}. Convolution "
                         "currently only supports floating point types")
    d = _dt.promote_types(na.dtype, nv.dtype)
    n, m = na.shape[0], nv.shape[0]
    with _on(stream, "convolve"):
        x = wrap(na).astype(d)
        kernel = wrap(nv).astype(d)[::-1]
        padded = mx.pad(x, (m - 1, m - 1))
        # Each output is a window of the padded signal against the flipped kernel.
        windows = mx.as_strided(padded, (n + m - 1, m), (1, 1))
        full = mx.sum(windows * kernel, axis=-1)
        if mode == "full":
            return full
        if mode == "same":
            start = (m - 1) // 2
            return full[start:start + n]
        return full[m - 1:n]


attach_methods({"view": lambda self, dtype, *, stream=None: view(self, dtype, stream)})
