"""Indexing primitives: basic slices (NumPy views), gathers, scatters, dynamic slices.

Keys are NumPy-style tuples that the ops have already checked against the input shape:
an int is in range and non-negative, a slice has int or None bounds (the indexing ops
pass either the full ``slice(None)`` or the concrete bounds of ``slice.indices``, with
None for the stop -1 of a negative step), ``None`` inserts an axis of size 1, and
``ARRAY`` stands for the next integer index array among the primitive's inputs. There
is no Ellipsis: trailing axes not named by the key are taken whole. Integer index
arrays follow NumPy's advanced-indexing rules (which MLX shares), including where the
broadcast index dimensions land.

Out-of-range entries of index arrays are clamped by gathers and dropped by scatters,
so evaluation never fails on them (MLX itself reads and writes out of bounds there).
"""
from .base import Primitive


class _IndexArray:
    """The placeholder for an index array inside a key."""
    __slots__ = ()

    def __repr__(self):
        return "ARRAY"

    def __reduce__(self):
        return "ARRAY"


ARRAY = _IndexArray()
_ELLIPSIS = (Ellipsis,)


def key_params(key):
    """A hashable form of a key (slices are unhashable before Python 3.12)."""
    return tuple((k.start, k.stop, k.step) if type(k) is slice else k for k in key)


def _broadcast(*shapes):
    from ..ops._core import broadcast_shapes
    return broadcast_shapes(*shapes)


def _slice_length(k, d):
    if k.start is None and k.stop is None and k.step is None:
        return d
    return len(range(*k.indices(d)))


def indexed_shape(shape, key, array_shapes=()):
    """The shape of ``x[key]`` for ``x`` of `shape`, by NumPy's indexing rules."""
    out = []
    axis = 0
    adv = []  # (position in key, position in out) of ints and arrays
    for pos, k in enumerate(key):
        if k is None:
            out.append(1)
        elif type(k) is slice:
            out.append(_slice_length(k, shape[axis]))
            axis += 1
        else:
            adv.append((pos, len(out)))
            axis += 1
    out.extend(shape[axis:])
    if array_shapes:
        index_shape = _broadcast(*array_shapes)
        # Index dimensions go where the advanced indices are when those are adjacent,
        # and first when a slice or None separates them.
        first, last = adv[0][0], adv[-1][0]
        at = adv[0][1] if last - first == len(adv) - 1 else 0
        out[at:at] = index_shape
    return tuple(out)


def array_axes(key):
    """((position in key, input axis) for each ARRAY in key), in order."""
    found = []
    axis = 0
    for pos, k in enumerate(key):
        if k is ARRAY:
            found.append((pos, axis))
        if k is not None:
            axis += 1
    return tuple(found)


def _as_index(xp, idx):
    # int32 holds every valid position (MLX shapes are int32); other dtypes are widened
    # so that adding a dimension size cannot overflow.
    if idx.dtype != xp.int32 and idx.dtype != xp.intp:
        idx = idx.astype(xp.intp)
    return idx


def clamped_index(xp, idx, n):
    """Indices into an axis of size n: negatives count from the end, the rest clamp."""
    # Clamping into [-n, n - 1] lets NumPy's own negative indexing do the wrap.
    return xp.clip(_as_index(xp, idx), -n, n - 1)


def _wrapped_index(xp, idx, n):
    idx = _as_index(xp, idx)
    if idx.dtype.kind == "i":
        idx = xp.where(idx < 0, idx + n, idx)
    return idx


def _dropping_out_of_range(xp, out, key, arrays, index_axes):
    """(target, key, region): the key with its index arrays substituted, and the array
    to update. When some index is out of range, the target is a copy of `out` with one
    spare slot at the end of each indexed axis, those indices point there, and `region`
    slices the real array back out afterwards; otherwise region is None."""
    key = list(key)
    outside = False
    wrapped = []
    for (pos, axis), idx in zip(index_axes, arrays):
        n = out.shape[axis]
        idx = _wrapped_index(xp, idx, n)
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
            outside = True
        wrapped.append(idx)
    region = None
    if outside:
        shape = list(out.shape)
        for _, axis in index_axes:
            shape[axis] += 1
        padded = xp.zeros(shape, out.dtype)
        region = tuple(slice(0, d) for d in out.shape)
        padded[region] = out
        out = padded
    for (pos, axis), idx in zip(index_axes, wrapped):
        if outside:
            n = out.shape[axis] - 1
            idx = xp.where((idx < 0) | (idx >= n), n, idx)
        key[pos] = idx
    key.append(Ellipsis)
    return out, tuple(key), region


class Slice(Primitive):
    """``x[key]`` for a basic key (ints, slices, None): a view of the input.

    `bounds(shape)` gives the equivalent per-axis (starts, stops, steps); ints and
    None then only drop or insert axes of size 1.
    """
    __slots__ = ("key",)

    def __init__(self, key):
        # Only stores the key: the getitem hot path makes instances without this call.
        self.key = key

    def params(self):
        return (key_params(self.key),)

    def infer(self, inputs):
        x = inputs[0]
        return indexed_shape(x.shape, self.key), x.dtype

    def eval(self, xp, inputs):
        # A trailing Ellipsis makes NumPy return a 0-d view rather than a scalar.
        return inputs[0][self.key + _ELLIPSIS]

    def bounds(self, shape):
        starts, stops, steps = [], [], []
        axis = 0
        for k in self.key:
            if k is None:
                continue
            if type(k) is slice:
                start, stop, step = k.indices(shape[axis])
            else:
                start, stop, step = k, k + 1, 1
            starts.append(start)
            stops.append(stop)
            steps.append(step)
            axis += 1
        for d in shape[axis:]:
            starts.append(0)
            stops.append(d)
            steps.append(1)
        return tuple(starts), tuple(stops), tuple(steps)


class Gather(Primitive):
    """``x[key]`` where the key holds integer index arrays (inputs: x, then the arrays)."""
    __slots__ = ("key", "_arrays")

    def __init__(self, key):
        self.key = key
        self._arrays = array_axes(key)

    def params(self):
        return (key_params(self.key),)

    def infer(self, inputs):
        x = inputs[0]
        return indexed_shape(x.shape, self.key, [i.shape for i in inputs[1:]]), x.dtype

    def eval(self, xp, inputs):
        x = inputs[0]
        key = list(self.key)
        for (pos, axis), idx in zip(self._arrays, inputs[1:]):
            key[pos] = clamped_index(xp, idx, x.shape[axis])
        key.append(Ellipsis)
        return x[tuple(key)]


class Take(Primitive):
    """``take(x, indices, axis)``: along `axis`, or over the flattened input if None."""
    __slots__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def params(self):
        return (self.axis,)

    def infer(self, inputs):
        x, idx = inputs
        if self.axis is None:
            return idx.shape, x.dtype
        s = x.shape
        return s[:self.axis] + idx.shape + s[self.axis + 1:], x.dtype

    def eval(self, xp, inputs):
        x, idx = inputs
        axis = self.axis
        n = x.size if axis is None else x.shape[axis]
        return xp.asarray(xp.take(x, clamped_index(xp, idx, n), axis=axis))


def _along_shape(x_shape, idx_shape, axis):
    """Broadcast shape of x and indices over every axis but `axis` (which keeps idx's)."""
    xs = list(x_shape)
    xs[axis] = 1
    ids = list(idx_shape)
    ids[axis] = 1
    out = list(_broadcast(tuple(xs), tuple(ids)))
    out[axis] = idx_shape[axis]
    return tuple(out)


class TakeAlongAxis(Primitive):
    """``take_along_axis(x, indices, axis)``; x and indices broadcast off `axis`."""
    __slots__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def params(self):
        return (self.axis,)

    def infer(self, inputs):
        x, idx = inputs
        return _along_shape(x.shape, idx.shape, self.axis), x.dtype

    def eval(self, xp, inputs):
        x, idx = inputs
        axis = self.axis
        out = _along_shape(x.shape, idx.shape, axis)
        xb = list(out)
        xb[axis] = x.shape[axis]
        x = xp.broadcast_to(x, tuple(xb))
        idx = xp.broadcast_to(clamped_index(xp, idx, x.shape[axis]), out)
        return xp.take_along_axis(x, idx, axis)


class PutAlongAxis(Primitive):
    """``put_along_axis(x, indices, values, axis)`` (inputs x, indices, values; axis None
    works on the flattened x). Indices and values broadcast together, then against x
    off `axis`; a repeated index keeps the last value; out-of-range ones are dropped."""
    __slots__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def params(self):
        return (self.axis,)

    def infer(self, inputs):
        x = inputs[0]
        return x.shape, x.dtype

    def eval(self, xp, inputs):
        x, idx, values = inputs
        out = x.copy()
        target = out.reshape(-1) if self.axis is None else out
        axis = 0 if self.axis is None else self.axis
        full = _along_shape(target.shape, _broadcast(idx.shape, values.shape), axis)
        idx = xp.broadcast_to(idx, full)
        values = xp.broadcast_to(values, full)
        # Spell the index out in full: a broadcast arange on every axis but `axis`.
        key = []
        for a, d in enumerate(full):
            if a == axis:
                key.append(ARRAY)
            else:
                shape = [1] * len(full)
                shape[a] = d
                key.append(xp.arange(d).reshape(shape))
        target, np_key, region = _dropping_out_of_range(xp, target, key, [idx], ((axis, axis),))
        target[np_key] = values
        if region is None:
            return out  # target was out, or a flat view of it
        return xp.ascontiguousarray(target[region]).reshape(x.shape)


_UPDATE_MODES = ("set", "add", "multiply", "maximum", "minimum")


class Scatter(Primitive):
    """``x[key] = values`` (mode "set") or ``x[key] = op(x[key], values)`` for mode in
    add / multiply / maximum / minimum, where a position named several times by the
    index arrays takes every update ("set": the last one). Inputs: x, values (already
    of x's dtype and broadcastable to ``x[key]``), then the index arrays."""
    __slots__ = ("key", "mode", "_arrays", "_np_key")

    def __init__(self, key, mode):
        if mode not in _UPDATE_MODES:
            raise ValueError(f"[scatter] Unknown mode {mode!r}.")
        self.key = key
        self.mode = mode
        self._arrays = array_axes(key)
        self._np_key = key + (Ellipsis,)

    def params(self):
        return (key_params(self.key), self.mode)

    def infer(self, inputs):
        x = inputs[0]
        return x.shape, x.dtype

    def eval(self, xp, inputs):
        x, values = inputs[0], inputs[1]
        out = x.copy()
        if not self._arrays:
            # A basic key names each position once: update the view in place.
            if self.mode == "set":
                out[self._np_key] = values
            else:
                view = out[self._np_key]
                getattr(xp, self.mode)(view, values, out=view)
            return out
        target, key, region = _dropping_out_of_range(xp, out, self.key, inputs[2:],
                                                     self._arrays)
        if self.mode == "set":
            target[key] = values
        else:
            xp.scatter_apply(self.mode, target, key, values)
        if region is not None:
            return xp.ascontiguousarray(target[region])
        return target


class SliceUpdate(Primitive):
    """``x[key] = values`` for a basic key (inputs: x, values broadcastable to x[key])."""
    __slots__ = ("key", "_np_key")

    def __init__(self, key):
        self.key = key
        self._np_key = key + (Ellipsis,)

    def params(self):
        return (key_params(self.key),)

    def infer(self, inputs):
        x = inputs[0]
        return x.shape, x.dtype

    def eval(self, xp, inputs):
        out = inputs[0].copy()
        out[self._np_key] = inputs[1]
        return out


class MaskedScatter(Primitive):
    """``x[mask] = values`` with a boolean mask over x's leading axes (inputs: x, mask,
    values). With `fill`, every selected position gets `values` (broadcast to the
    trailing axes); otherwise the selected positions take ``values[0], values[1], ...``
    in row-major order, each broadcast to the trailing axes."""
    __slots__ = ("fill",)

    def __init__(self, fill):
        self.fill = fill

    def params(self):
        return (self.fill,)

    def infer(self, inputs):
        x = inputs[0]
        return x.shape, x.dtype

    def eval(self, xp, inputs):
        x, mask, values = inputs
        out = x.copy()
        if self.fill:
            out[mask] = values
            return out
        count = int(xp.count_nonzero(mask))
        if values.shape[0] < count:
            raise RuntimeError(f"[masked_scatter] The mask selects {count} positions but "
                               f"only {values.shape[0]} values were given.")
        out[mask] = values[:count]
        return out


def _starts(start, axes, shape, sizes):
    """Concrete start positions, clamped so the window of `sizes` fits inside `shape`."""
    given = start.tolist()
    if not isinstance(given, list):
        given = [given]
    begin = [0] * len(shape)
    for a, s in zip(axes, given):
        begin[a] = min(max(int(s), 0), shape[a] - sizes[a])
    return tuple(slice(b, b + n) for b, n in zip(begin, sizes))


class DynamicSlice(Primitive):
    """``slice(x, start, axes, sizes)``: a window of shape `sizes` whose start along each
    of `axes` is read from the `start` input (other axes start at 0). Starts are clamped
    so that the window fits; the result is a view."""
    __slots__ = ("axes", "sizes")

    def __init__(self, axes, sizes):
        self.axes = axes
        self.sizes = sizes

    def params(self):
        return (self.axes, self.sizes)

    def infer(self, inputs):
        return self.sizes, inputs[0].dtype

    def eval(self, xp, inputs):
        x, start = inputs
        return x[_starts(start, self.axes, x.shape, self.sizes) + (Ellipsis,)]


class DynamicSliceUpdate(Primitive):
    """``slice_update(x, update, start, axes)``: x with the window at `start` (along
    `axes`, 0 elsewhere) replaced by `update`, whose shape padded on the left with 1s
    is the window's. Starts are clamped so that the window fits."""
    __slots__ = ("axes",)

    def __init__(self, axes):
        self.axes = axes

    def params(self):
        return (self.axes,)

    def infer(self, inputs):
        x = inputs[0]
        return x.shape, x.dtype

    def eval(self, xp, inputs):
        x, update, start = inputs
        sizes = (1,) * (x.ndim - update.ndim) + update.shape
        out = x.copy()
        out[_starts(start, self.axes, x.shape, sizes) + (Ellipsis,)] = update.reshape(sizes)
        return out

