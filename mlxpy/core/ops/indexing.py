"""Indexing: ``x[...]``, ``x[...] = v``, ``x.at[...]``, take, put, dynamic slices.

Index keys follow NumPy's rules, as MLX's do: ints, slices, ``None``, ``...`` and
integer index arrays (mx arrays, lists, NumPy arrays), several of which broadcast
together. A basic key (no arrays) gives a view of the input.

>>> import mlxpy.core as mx
>>> x = mx.array([[0, 1, 2], [3, 4, 5]])
>>> x[1, ::-1]
array([5, 4, 3], dtype=int32)
>>> x[:, mx.array([0, 0])]
array([[0, 0],
       [3, 3]], dtype=int32)
"""
import numpy as np

from .. import dtypes as _dt
from ..array import array, wrap
from ..convert import to_node
from ..device import current_stream, _state as _stream_state
from ..graph import Node, ViewNode as _ViewNode, _next_seq
from ..primitives import indexing as P
from ..primitives.creation import Full as _Full
from ..primitives.indexing import ARRAY, indexed_shape as _indexed_shape
from .elementwise import negative, reciprocal
from ._core import (attach_methods, broadcast_shapes, cast_node, make, scalar_node,
                    stream_of, weak_dtype)

__all__ = ["take", "take_along_axis", "put_along_axis", "slice", "slice_update", "ArrayAt"]

_array = array
_Node = Node
_wrap = wrap
_current_stream = current_stream
_Slice = P.Slice
_new = object.__new__
_pyslice = slice
_FULL = _pyslice(None)
_ndarray = np.ndarray
_npinteger = np.integer


# -- parsing keys ----------------------------------------------------------------------

def _index_node(k, where):
    """The node of an index array given as an mx array, a list or a NumPy array."""
    n = k._node if type(k) is _array else to_node(k, None, where)
    kind = n.dtype.kind
    if kind == "i" or kind == "u":
        return n
    if kind == "b":
        raise ValueError(f"[{where}] Boolean indices are not supported; index with "
                         "integers (or assign through a boolean mask: x[mask] = v).")
    raise ValueError(f"[{where}] Got indices with invalid dtype {n.dtype.name}. "
                     "Indices must be integral.")


def _check_bound(v, where):
    t = type(v)
    if v is None or t is int:
        return v
    if isinstance(v, _npinteger):
        return int(v)
    raise ValueError(f"[{where}] Slice indices must be integers or None, got {t.__name__}.")


def _normalize_slice(k, d, where):
    """Slice `k` on an axis of size d, with concrete bounds (or the full slice)."""
    if k.start is None and k.stop is None and k.step is None:
        return _FULL
    start = _check_bound(k.start, where)
    stop = _check_bound(k.stop, where)
    step = _check_bound(k.step, where)
    if step == 0:
        raise ValueError(f"[{where}] Slice step cannot be zero.")
    start, stop, step = _pyslice(start, stop, step).indices(d)
    # With a negative step, indices() says "before index 0" with -1, which NumPy would
    # read as the last element: as a start that is an empty slice, as a stop None.
    if start < 0:
        return _pyslice(0, 0, 1)
    return _pyslice(start, None if stop < 0 else stop, step)


def _too_many(ndim, where):
    if ndim == 0:
        return ValueError(f"[{where}] Too many indices for array: array is 0-dimensional.")
    return ValueError(f"[{where}] Too many indices for array with {ndim} dimensions.")


def _parse(shape, key, where, update=False):
    """Normalize `key` for an array of `shape`.

    Returns (key, index_nodes, shape, empty): the key as the primitives take
    it (see primitives/indexing.py), the index arrays' nodes in order, the shape of
    x[key], and whether an out-of-range int made the selection empty. That raises for
    reads; updates (`update=True`) accept it and change nothing, as MLX's do.
    """
    if type(key) is not tuple:
        key = (key,)
    ndim = len(shape)
    items = []
    nodes = []
    n_axes = 0
    ellipsis = -1
    for k in key:
        t = type(k)
        if t is int or t is _pyslice:
            n_axes += 1
        elif k is None:
            pass
        elif k is Ellipsis:
            if ellipsis >= 0:
                raise ValueError(f"[{where}] An index can only have a single ellipsis (...).")
            ellipsis = len(items)
        elif t is _array or t is list or t is _ndarray:
            k = _index_node(k, where)
            nodes.append(k)
            n_axes += 1
        elif isinstance(k, _npinteger):
            k = int(k)
            n_axes += 1
        else:
            raise ValueError(f"[{where}] Cannot index an array with {t.__name__}; use ints, "
                             "slices, None, ... or integer arrays.")
        items.append(k)
    if n_axes > ndim:
        raise _too_many(ndim, where)
    if ellipsis >= 0:
        items[ellipsis:ellipsis + 1] = [_FULL] * (ndim - n_axes)

    entries = []
    empty = False
    axis = 0
    for k in items:
        if k is None:
            entries.append(None)
            continue
        d = shape[axis]
        t = type(k)
        if t is _pyslice:
            entries.append(_normalize_slice(k, d, where))
        elif t is int:
            i = k + d if k < 0 else k
            if not 0 <= i < d:
                if not update:
                    raise ValueError(f"[{where}] Index {k} is out of bounds for axis {axis} "
                                     f"with size {d}.")
                empty = True
                i = 0
            entries.append(i)
        else:
            if d == 0 and not update and 0 not in k.shape:
                raise ValueError(f"[{where}] Cannot do a non-empty take from an empty axis.")
            entries.append(ARRAY)
        axis += 1
    entries = tuple(entries)
    return entries, nodes, _indexed_shape(shape, entries, [n.shape for n in nodes]), empty


# -- reading: x[key] -----------------------------------------------------------------

_ELLIPSIS = Ellipsis


def _getitem(self, key):
    """``x[key]``: ints, slices, None, ... and integer index arrays, as in NumPy.

    >>> import mlxpy.core as mx
    >>> x = mx.array([[1, 2, 3], [4, 5, 6]])
    >>> x[-1], x[:, ::2].shape, x[mx.array([1, 1]), 0]
    (array([4, 5, 6], dtype=int32), (2, 2), array([4, 4], dtype=int32))
    """
    node = self._node
    t = type(key)
    # Fast paths for x[i] and for tuples of ints and full slices such as x[:, i]: they
    # make the ints non-negative and find the result's shape, then share the tail.
    if t is int:
        shape = node.shape
        if not shape or not -shape[0] <= key < shape[0]:
            return _getitem_general(node, key)
        if key < 0:
            key += shape[0]
        out_shape = shape[1:]
    elif t is tuple:
        shape = node.shape
        if len(key) > len(shape):
            return _getitem_general(node, key)
        out = []
        axis = 0
        for k in key:
            tk = type(k)
            if tk is int:
                d = shape[axis]
                if not -d <= k < d:
                    return _getitem_general(node, key)
                if k < 0:
                    # Rare: the key is rebuilt with the int made non-negative.
                    key = key[:axis] + (k + d,) + key[axis + 1:]
            elif tk is _pyslice and k.start is None and k.stop is None and k.step is None:
                out.append(shape[axis])
            else:
                return _getitem_general(node, key)
            axis += 1
        out_shape = tuple(out) + shape[axis:] if axis < len(shape) else tuple(out)
    else:
        return _getitem_general(node, key)
    s = _stream_state.current
    data = node.data
    if data is not None and node.prim is None and node.stream is s:
        # A read of an evaluated array that is no longer part of any graph: the NumPy
        # view costs no more than describing it, allocates nothing, and can never be
        # wrong later since buffers are immutable; so it is taken now, in a ViewNode
        # built field by field (see graph.RawNode). Arrays that are still part of a graph
        # (transform tracers, unevaluated results) stay lazy.
        n = _ViewNode()
        n.seq = _next_seq()
        n.shape = out_shape
        n.dtype = node.dtype
        n.prim = None
        n.inputs = None
        n.stream = s
        n.siblings = None
        # A trailing ... keeps a 0-d result an array rather than a NumPy scalar.
        n.data = data[key] if out_shape else data[(key, _ELLIPSIS) if t is int
                                                  else key + (_ELLIPSIS,)]
        n.nbytes = 0
    else:
        prim = _new(_Slice)
        prim.key = (key,) if t is int else key
        n = _Node(out_shape, node.dtype, prim, [node], s)
    out = _new(_array)
    out._node = n
    return out


def _getitem_general(node, key):
    entries, nodes, shape, _ = _parse(node.shape, key, "getitem")
    if nodes:
        prim = P.Gather(entries)
        inputs = [node]
        inputs.extend(nodes)
    else:
        prim = _Slice(entries)
        inputs = [node]
    return _wrap(_Node(shape, node.dtype, prim, inputs, _current_stream()))


# -- values of updates -----------------------------------------------------------------

def _scalar_value(value, dtype, where):
    if type(value) is int or type(value) is bool:
        return scalar_node(value, dtype, where)  # checks that ints fit the dtype
    if type(value) is complex and dtype is _dt.bool_:
        return scalar_node(value != 0, dtype, where)  # as astype: any nonzero part
    return to_node(value, dtype, where)  # floats truncate into ints, complex keeps real


def _value_node(value, dtype, where, stream, cast=True):
    """The node of an update value, cast to the updated array's dtype (with
    `cast=False`, arrays keep their dtype and Python scalars take their weak one)."""
    t = type(value)
    if t is _array:
        return cast_node(value._node, dtype, stream) if cast else value._node
    if t is int or t is float or t is bool or t is complex:
        return _scalar_value(value, dtype if cast else weak_dtype(value, dtype), where)
    if isinstance(value, (_ndarray, np.generic)):
        n = to_node(value, None, where)
        return cast_node(n, dtype, stream) if cast else n
    if value is None:
        raise TypeError(f"[{where}] The value must be an array or a scalar, not None.")
    raise ValueError(f"[{where}] Invalid type {t.__name__} received in array initialization.")


def _fit(v, target, where, stream):
    """`v` made broadcastable to `target`: leading axes of size 1 beyond target's rank
    are dropped, as NumPy and MLX allow."""
    vs = v.shape
    if vs == target:
        return v
    extra = len(vs) - len(target)
    if extra > 0:
        if any(d != 1 for d in vs[:extra]):
            raise _no_broadcast(vs, target, where)
        v = _Node(vs[extra:], v.dtype, _Slice((0,) * extra), [v], stream)
    if not _broadcasts_to(v.shape, target):
        raise _no_broadcast(vs, target, where)
    return v


def _broadcasts_to(shape, target):
    try:
        return broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _no_broadcast(vs, target, where):
    return ValueError(f"[{where}] Cannot broadcast a value of shape {tuple(vs)} into the "
                      f"indexed shape {tuple(target)}.")


# -- writing: x[key] = value ---------------------------------------------------------

def _mask_node(key):
    """The node of `key` if it is a boolean mask (a Python bool included), else None."""
    t = type(key)
    if t is bool:
        return scalar_node(key, _dt.bool_, "setitem")
    if t is _array:
        n = key._node
    elif t is list or t is _ndarray:
        n = to_node(key, None, "setitem")
    else:
        return None
    return n if n.dtype is _dt.bool_ else None


def _setitem(self, key, value):
    """``x[key] = value``: rebinds `x` to an updated array (earlier results keep the old
    one). The value is cast to x's dtype and broadcast to ``x[key]``; `key` may also be
    a boolean mask over x's leading axes.

    >>> import mlxpy.core as mx
    >>> x = mx.zeros((2, 3), dtype=mx.int32)
    >>> x[:, 1] = 7
    >>> x[mx.array([True, False])] = mx.array([1, 2, 3])
    >>> x
    array([[1, 2, 3],
           [0, 7, 0]], dtype=int32)
    """
    node = self._node
    s = _current_stream()
    if key is Ellipsis or key is None:
        # MLX replaces the whole array by the value broadcast to its shape, in the
        # value's dtype (a Python scalar's weak one): x[...] = 0.5 makes an int array
        # float32.
        v = _fit(_value_node(value, node.dtype, "setitem", s, cast=False), node.shape,
                 "setitem", s)
        self._node = _Node(node.shape, v.dtype, _Full(node.shape), [v], s)
        return
    mask = _mask_node(key)
    if mask is not None:
        self._node = _masked_scatter(node, mask, value, s)
        return
    entries, nodes, shape, empty = _parse(node.shape, key, "setitem", update=True)
    v = _fit(_value_node(value, node.dtype, "setitem", s), shape, "setitem", s)
    if empty:
        return
    if nodes:
        prim = P.Scatter(entries, "set")
        inputs = [node, v]
        inputs.extend(nodes)
    else:
        prim = P.SliceUpdate(entries)
        inputs = [node, v]
    self._node = _Node(node.shape, node.dtype, prim, inputs, s)


def _masked_scatter(node, mask, value, s):
    where = "masked_scatter"
    shape = node.shape
    k = len(mask.shape)
    if shape[:k] != mask.shape:
        raise ValueError(f"[{where}] The boolean mask should have the same shape as the "
                         f"leading axes of the indexed array, but the mask has shape "
                         f"{mask.shape} and the array has shape {shape}.")
    trailing = shape[k:]
    v = _value_node(value, node.dtype, where, s)
    vs = v.shape
    if len(vs) <= len(trailing):
        # One value (broadcast over the trailing axes) for every selected position.
        fill = True
        ok = _broadcasts_to(vs, trailing)
    elif len(vs) == len(trailing) + 1:
        # A sequence of values, consumed in order by the selected positions.
        fill = False
        ok = _broadcasts_to(vs[1:], trailing)
    else:
        ok = False
    if not ok:
        raise ValueError(f"[{where}] The value's shape {vs} must be broadcastable with the "
                         f"last {len(trailing)} dimensions of the array {shape}.")
    return _Node(shape, node.dtype, P.MaskedScatter(fill), [node, mask, v], s)


# -- x.at[key].add(value) and friends ---------------------------------------------------

_NO_KEY = object()


class ArrayAt:
    """Updates of ``x.at[key]`` that return a new array; unlike ``x[key] += v``, a
    position named several times by `key` takes every update.

    >>> import mlxpy.core as mx
    >>> a = mx.array([0, 0])
    >>> a.at[mx.array([0, 1, 0, 1])].add(1)
    array([2, 2], dtype=int32)
    """
    __slots__ = ("_array", "_key")

    def __init__(self, a, key=_NO_KEY):
        self._array = a
        self._key = key

    def __getitem__(self, key):
        return ArrayAt(self._array, key)

    def _update(self, value, mode, where):
        if self._key is _NO_KEY:
            raise ValueError("[at] Must give indices to array.at (e.g. `x.at[0].add(4)`).")
        node = self._array._node
        s = _current_stream()
        if _mask_node(self._key) is not None:
            raise ValueError(f"[{where}] Boolean masks are not supported by array.at.")
        entries, nodes, shape, empty = _parse(node.shape, self._key, where, update=True)
        v = _value_node(value, node.dtype, where, s)
        if mode == "subtract":
            v = negative(_wrap(v), stream=s)._node
            mode = "add"
        elif mode == "divide":
            # MLX multiplies by the reciprocal taken in the array's dtype (so an integer
            # array divided by anything but 1 or -1 gets 0).
            v = cast_node(reciprocal(_wrap(v), stream=s)._node, node.dtype, s)
            mode = "multiply"
        v = _fit(v, shape, where, s)
        if empty:
            return _wrap(node)
        inputs = [node, v]
        inputs.extend(nodes)
        return _wrap(_Node(node.shape, node.dtype, P.Scatter(entries, mode), inputs, s))

    def add(self, value):
        """``x[key] + value`` at the indexed positions, repeats accumulating."""
        return self._update(value, "add", "at.add")

    def subtract(self, value):
        """``x[key] - value`` at the indexed positions, repeats accumulating."""
        return self._update(value, "subtract", "at.subtract")

    def multiply(self, value):
        """``x[key] * value`` at the indexed positions, repeats accumulating."""
        return self._update(value, "multiply", "at.multiply")

    def divide(self, value):
        """``x[key] / value`` at the indexed positions, repeats accumulating."""
        return self._update(value, "divide", "at.divide")

    def maximum(self, value):
        """``maximum(x[key], value)`` at the indexed positions, over every repeat."""
        return self._update(value, "maximum", "at.maximum")

    def minimum(self, value):
        """``minimum(x[key], value)`` at the indexed positions, over every repeat."""
        return self._update(value, "minimum", "at.minimum")


def _at(self):
    """Indexed updates that return new arrays: ``x.at[idx].add(y)`` and friends."""
    return ArrayAt(self)


# -- take / put ---------------------------------------------------------------------------

def _need_array(x, name, where):
    if type(x) is not _array:
        raise TypeError(f"[{where}] {name} must be an array, got {type(x).__name__}.")
    return x._node


def _axis_or_none(axis, ndim, where, message):
    if axis is None:
        return None
    if type(axis) is not int and not isinstance(axis, _npinteger):
        raise TypeError(f"[{where}] axis must be an int or None, got {type(axis).__name__}.")
    a = int(axis)
    if not -ndim <= a < ndim:
        raise IndexError(f"[{where}] " + message.format(axis=axis, ndim=ndim))
    return a + ndim if a < 0 else a


def take(a, /, indices, axis=None, *, stream=None):
    """Elements of `a` at `indices` along `axis` (over the flattened `a` if None).

    `indices` is an int or an integer array; with an int the axis is dropped.

    >>> import mlxpy.core as mx
    >>> a = mx.array([[1, 2], [3, 4]])
    >>> mx.take(a, mx.array([1, 0]), axis=1)
    array([[2, 1],
           [4, 3]], dtype=int32)
    >>> mx.take(a, 3)
    array(4, dtype=int32)
    """
    s = stream_of(stream, "take")
    x = _need_array(a, "a", "take")
    axis = _axis_or_none(axis, len(x.shape), "take",
                         "Received invalid axis {axis} for array with {ndim} dimensions.")
    n = _prod(x.shape) if axis is None else x.shape[axis]
    ti = type(indices)
    if ti is int or ti is bool:
        i = int(indices)
        if not -n <= i < n:
            raise ValueError(f"[take] Index {i} is out of bounds for an axis of size {n}.")
        i = i + n if i < 0 else i
        if axis is not None:
            return make(_Slice((_FULL,) * axis + (i,)), [x], s)  # a view
        idx = scalar_node(i, _dt.int32, "take")
    elif ti is _array:
        idx = indices._node
        kind = idx.dtype.kind
        if kind == "b":
            raise ValueError("[take] Boolean indices are not supported.")
        if kind not in "iu":
            raise ValueError(f"[take] Got indices with invalid dtype {idx.dtype.name}. "
                             "Indices must be integral.")
        if n == 0 and 0 not in idx.shape:
            raise ValueError("[take] Cannot do a non-empty take from an empty axis.")
    else:
        raise TypeError(f"[take] indices must be an int or an array, got {ti.__name__}.")
    return make(P.Take(axis), [x, idx], s)


def _prod(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _integer_indices(indices, where):
    idx = _need_array(indices, "indices", where)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"[{where}] Got indices with invalid dtype {idx.dtype.name}. "
                         "Indices must be integral.")
    return idx


def take_along_axis(a, /, indices, axis=-1, *, stream=None):
    """Values of `a` at `indices` along `axis`; `indices` broadcasts with `a` on the
    other axes. With ``axis=None``, `a` is flattened and `indices` must be 1-D.

    >>> import mlxpy.core as mx
    >>> a = mx.array([[10, 20, 30], [40, 50, 60]])
    >>> mx.take_along_axis(a, mx.array([[2], [0]]), axis=1)
    array([[30],
           [40]], dtype=int32)
    """
    where = "take_along_axis"
    s = stream_of(stream, where)
    x = _need_array(a, "a", where)
    idx = _integer_indices(indices, where)
    ndim = 1 if axis is None else len(x.shape)
    axis = _axis_or_none(axis, ndim, where,
                         "Axis {axis} is out of bounds for array with {ndim} dimensions.")
    if len(idx.shape) != ndim:
        raise ValueError(f"[{where}] Indices of dimension {len(idx.shape)} does not match "
                         f"array of dimension {ndim}.")
    return make(P.Take(None) if axis is None else P.TakeAlongAxis(axis), [x, idx], s)


def put_along_axis(a, /, indices, values, axis=None, *, stream=None):
    """A copy of `a` with `values` written at `indices` along `axis` (flattened if None).

    `indices` and `values` broadcast together, then with `a` off `axis`; a position
    named twice keeps the last value.

    >>> import mlxpy.core as mx
    >>> a = mx.zeros((2, 3), dtype=mx.int32)
    >>> mx.put_along_axis(a, mx.array([[2], [0]]), mx.array(7), axis=1)
    array([[0, 0, 7],
           [7, 0, 0]], dtype=int32)
    """
    where = "put_along_axis"
    s = stream_of(stream, where)
    x = _need_array(a, "a", where)
    idx = _integer_indices(indices, where)
    v = cast_node(_need_array(values, "values", where), x.dtype, s)
    shape = (_prod(x.shape),) if axis is None else x.shape
    ndim = len(shape)
    axis = _axis_or_none(axis, ndim, where,
                         "Axis {axis} is out of bounds for array with {ndim} dimensions.")
    if len(idx.shape) != ndim:
        raise ValueError(f"[{where}] Indices of dimension {len(idx.shape)} does not match "
                         f"array of dimension {ndim}.")
    if len(v.shape) > ndim:
        # Leading axes of size 1 beyond the array's rank carry nothing.
        extra = len(v.shape) - ndim
        if any(d != 1 for d in v.shape[:extra]):
            raise ValueError(f"[{where}] Values of shape {v.shape} have more dimensions than "
                             f"the array of shape {shape}.")
        v = _Node(v.shape[extra:], v.dtype, _Slice((0,) * extra), [v], s)
    both = broadcast_shapes(idx.shape, v.shape, where=where)
    k = axis or 0
    rest = shape[:k] + shape[k + 1:]
    if broadcast_shapes(both[:k] + both[k + 1:], rest, where=where) != rest:
        raise ValueError(f"[{where}] Indices and values of shape {both} do not fit an array "
                         f"of shape {shape} off axis {k}.")
    return _wrap(_Node(x.shape, x.dtype, P.PutAlongAxis(axis), [x, idx, v], s))


# -- dynamic slices -----------------------------------------------------------------------

def _start_node(start_indices, n_axes, where):
    start = _need_array(start_indices, "start_indices", where)
    if start.dtype.kind not in "iu":
        raise ValueError(f"[{where}] Start indices must be integers, got type "
                         f"{start.dtype.name}.")
    if len(start.shape) > 1:
        raise ValueError(f"[{where}] The array of starting indices must be zero or one "
                         f"dimensional but has dimension {len(start.shape)}.")
    count = start.shape[0] if start.shape else 1
    if count != n_axes:
        raise ValueError(f"[{where}] Number of starting indices {count} does not match "
                         f"number of axes {n_axes}.")
    return start


def _slice_axes(axes, ndim, where):
    if isinstance(axes, (int, _npinteger)) or not hasattr(axes, "__iter__"):
        raise TypeError(f"[{where}] axes must be a sequence of ints.")
    out = []
    for a in axes:
        if type(a) is not int and not isinstance(a, _npinteger):
            raise TypeError(f"[{where}] axes must be a sequence of ints.")
        a = int(a)
        if not -ndim <= a < ndim:
            raise IndexError(f"[{where}] Invalid axis {a} for array with dimension {ndim}.")
        out.append(a + ndim if a < 0 else a)
    if len(set(out)) != len(out):
        raise ValueError(f"[{where}] Repeat axes not allowed.")
    return tuple(out)


def slice(a, start_indices, axes, slice_size, *, stream=None):
    """The window of shape `slice_size` of `a` starting at `start_indices` along `axes`
    (at 0 along the others). The start is an array, so it may be computed: starts that
    would put the window outside `a` are clamped so that it fits.

    >>> import mlxpy.core as mx
    >>> a = mx.array([[1, 2, 3], [4, 5, 6]])
    >>> mx.slice(a, mx.array(1), axes=(1,), slice_size=(2, 2))
    array([[2, 3],
           [5, 6]], dtype=int32)
    """
    where = "slice"
    s = stream_of(stream, where)
    x = _need_array(a, "a", where)
    shape = x.shape
    axes = _slice_axes(axes, len(shape), where)
    start = _start_node(start_indices, len(axes), where)
    try:
        sizes = tuple(int(d) for d in slice_size)
    except TypeError:
        raise TypeError(f"[{where}] slice_size must be a sequence of ints.") from None
    if len(sizes) != len(shape):
        raise ValueError(f"[{where}] Invalid slice size for array with {len(shape)} "
                         "dimensions.")
    if any(not 0 <= n <= d for n, d in zip(sizes, shape)):
        raise ValueError(f"[{where}] Invalid slice size {sizes} for array with shape "
                         f"{shape}.")
    return _wrap(_Node(sizes, x.dtype, P.DynamicSlice(axes, sizes), [x, start], s))


def slice_update(a, update, start_indices, axes, *, stream=None):
    """A copy of `a` with the window at `start_indices` (along `axes`) replaced by
    `update`; the window has update's shape, and on the leading axes that update lacks,
    size 1 along `axes` and the whole axis elsewhere (update broadcasts there). Starts
    that would put the window outside `a` are clamped so that it fits.

    >>> import mlxpy.core as mx
    >>> a = mx.zeros((3, 3), dtype=mx.int32)
    >>> mx.slice_update(a, mx.ones((1, 2), dtype=mx.int32), mx.array([1, 1]), axes=(0, 1))
    array([[0, 0, 0],
           [0, 1, 1],
           [0, 0, 0]], dtype=int32)
    """
    where = "slice_update"
    s = stream_of(stream, where)
    x = _need_array(a, "a", where)
    u = cast_node(_need_array(update, "update", where), x.dtype, s)
    shape = x.shape
    axes = _slice_axes(axes, len(shape), where)
    start = _start_node(start_indices, len(axes), where)
    if len(u.shape) > len(shape):
        raise ValueError(f"[{where}] The update of shape {u.shape} has more dimensions than "
                         f"the array of shape {shape}.")
    sizes = (1,) * (len(shape) - len(u.shape)) + u.shape
    if any(n > d for n, d in zip(sizes, shape)):
        raise ValueError(f"[{where}] The update of shape {u.shape} does not fit in an array "
                         f"of shape {shape}.")
    return _wrap(_Node(shape, x.dtype, P.DynamicSliceUpdate(axes), [x, u, start], s))


attach_methods({
    "__getitem__": _getitem,
    "__setitem__": _setitem,
    "at": property(_at),
})
