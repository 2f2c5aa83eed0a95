"""Products and friends: inner, outer, tensordot, kron, einsum, vecdot, trace, diff,
hadamard_transform.

All but `hadamard_transform` are compositions of public ops (transpose, reshape,
matmul, multiply, sum, diagonal, slicing), so grad and vmap come from those ops' rules.
Contractions go through `matmul`, which, as in MLX, refuses integer and bool operands;
products that contract nothing (outer, kron, an einsum outer product) multiply and keep
integer dtypes.
"""
import math as _math
import operator as _operator

import mlxpy.core as mx

from .. import dtypes as _dt
from ..array import array as _array
from ..primitives.products import Hadamard, hadamard_size_ok
from ._core import broadcast_shapes, make, stream_of

__all__ = ["inner", "outer", "tensordot", "kron", "einsum", "einsum_path", "vecdot",
           "trace", "diff", "hadamard_transform", "gather_mm", "block_masked_mm",
           "segmented_mm"]


def _check(where, *arrays):
    for x in arrays:
        if not isinstance(x, _array):
            raise TypeError(f"[{where}] Expected an mx.array, got {type(x).__name__}.")


def _int(v, where, what):
    if isinstance(v, float):
        raise TypeError(f"[{where}] {what} must be an integer, got float.")
    try:
        return _operator.index(v)
    except TypeError:
        raise TypeError(f"[{where}] {what} must be an integer, got {type(v).__name__}.") \
            from None


def _contract(a, b, a_axes, b_axes, stream):
    """tensordot on already-validated non-negative axes: transpose the contracted axes
    together, flatten to two matrices, one matmul, unflatten."""
    a_free = [i for i in range(a.ndim) if i not in a_axes]
    b_free = [i for i in range(b.ndim) if i not in b_axes]
    k = _math.prod(a.shape[i] for i in a_axes)
    m = _math.prod(a.shape[i] for i in a_free)
    n = _math.prod(b.shape[i] for i in b_free)
    am = mx.reshape(mx.transpose(a, a_free + list(a_axes), stream=stream), (m, k),
                    stream=stream)
    bm = mx.reshape(mx.transpose(b, list(b_axes) + b_free, stream=stream), (k, n),
                    stream=stream)
    out = mx.matmul(am, bm, stream=stream)
    return mx.reshape(out, tuple(a.shape[i] for i in a_free) +
                      tuple(b.shape[i] for i in b_free), stream=stream)


def tensordot(a, b, /, axes=2, *, stream=None):
    """Sum of products over `axes`: an int n (the last n axes of `a` with the first n of
    `b`) or a pair of axis lists.

    >>> import mlxpy.core as mx
    >>> a = mx.ones((2, 3))
    >>> mx.tensordot(a, mx.ones((3, 4)), axes=1)
    array([[3, 3, 3, 3],
           [3, 3, 3, 3]], dtype=float32)
    """
    _check("tensordot", a, b)
    s = stream_of(stream, "tensordot")
    if isinstance(axes, (list, tuple)):
        if len(axes) != 2 or not all(isinstance(x, (list, tuple)) for x in axes):
            raise TypeError("[tensordot] axes must be an int or a pair of sequences of ints.")
        a_axes = [_int(x, "tensordot", "axis") for x in axes[0]]
        b_axes = [_int(x, "tensordot", "axis") for x in axes[1]]
        if len(a_axes) != len(b_axes):
            raise ValueError("[tensordot] axes must have the same size.")
        for lst, x in ((a_axes, a), (b_axes, b)):
            for i, ax in enumerate(lst):
                if not -x.ndim <= ax < x.ndim:
                    raise IndexError(f"[tensordot] Invalid axis {ax} for array with "
                                     f"{x.ndim} dimensions.")
                lst[i] = ax % x.ndim
    else:
        n = _int(axes, "tensordot", "axes")
        if n < 0:
            raise ValueError("[tensordot] axis must be greater or equal to 0.")
        if n > a.ndim or n > b.ndim:
            raise ValueError("[tensordot] a and b must have the same shape on the "
                             "contracted axes.")
        a_axes = list(range(a.ndim - n, a.ndim))
        b_axes = list(range(n))
    if len(set(a_axes)) != len(a_axes) or len(set(b_axes)) != len(b_axes):
        raise ValueError("[tensordot] Received duplicate axes.")
    if any(a.shape[i] != b.shape[j] for i, j in zip(a_axes, b_axes)):
        raise ValueError("[tensordot] a and b must have the same shape on the contracted axes.")
    return _contract(a, b, a_axes, b_axes, s)


def inner(a, b, /, *, stream=None):
    """Sum of products over the last axes (a plain product if either is a scalar).

    >>> import mlxpy.core as mx
    >>> mx.inner(mx.array([1.0, 2.0]), mx.array([3.0, 4.0]))
    array(11, dtype=float32)
    """
    _check("inner", a, b)
    s = stream_of(stream, "inner")
    if a.ndim == 0 or b.ndim == 0:
        return mx.multiply(a, b, stream=s)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError("[inner] a and b must have the same last dimension.")
    return _contract(a, b, [a.ndim - 1], [b.ndim - 1], s)


def outer(a, b, /, *, stream=None):
    """The outer product of the flattened inputs.

    >>> import mlxpy.core as mx
    >>> mx.outer(mx.array([1, 2]), mx.array([1, 10, 100]))
    array([[1, 10, 100],
           [2, 20, 200]], dtype=int32)
    """
    _check("outer", a, b)
    s = stream_of(stream, "outer")
    return mx.multiply(mx.reshape(a, (-1, 1), stream=s), mx.reshape(b, (1, -1), stream=s),
                       stream=s)


def kron(a, b, *, stream=None):
    """The Kronecker product: every element of `a` times the whole of `b`.

    >>> import mlxpy.core as mx
    >>> mx.kron(mx.array([1, 2]), mx.array([1, 10]))
    array([1, 10, 2, 20], dtype=int32)
    """
    _check("kron", a, b)
    s = stream_of(stream, "kron")
    nd = max(a.ndim, b.ndim)
    ash = (1,) * (nd - a.ndim) + a.shape
    bsh = (1,) * (nd - b.ndim) + b.shape
    # Interleave: a's axis i next to b's axis i, then merge each pair.
    ai = mx.reshape(a, tuple(d for x in ash for d in (x, 1)), stream=s)
    bi = mx.reshape(b, tuple(d for x in bsh for d in (1, x)), stream=s)
    return mx.reshape(mx.multiply(ai, bi, stream=s), tuple(x * y for x, y in zip(ash, bsh)),
                      stream=s)


def vecdot(a, b, /, *, axis=-1, stream=None):
    """Sum over `axis` of conj(a) * b; the other axes broadcast.

    >>> import mlxpy.core as mx
    >>> mx.vecdot(mx.array([[1, 2], [3, 4]]), mx.array([1, 1]).reshape(1, 2))
    array([3, 7], dtype=int32)
    """
    _check("vecdot", a, b)
    s = stream_of(stream, "vecdot")
    axis = _int(axis, "vecdot", "axis")
    if a.ndim != b.ndim:
        raise ValueError("[vecdot] axis is out of bounds.")
    if not -a.ndim <= axis < a.ndim:
        raise IndexError("[vecdot] axis is out of bounds.")
    if a.shape[axis] != b.shape[axis]:
        raise ValueError("[vecdot] a and b must have the same size along axis.")
    if a.dtype is _dt.complex64:
        a = mx.conj(a, stream=s)
    return mx.sum(mx.multiply(a, b, stream=s), axis=axis, stream=s)


def trace(a, /, offset=0, axis1=0, axis2=1, dtype=None, *, stream=None):
    """Sum of the diagonal `offset` of the planes spanned by `axis1` and `axis2`.

    >>> import mlxpy.core as mx
    >>> mx.trace(mx.array([[1, 2], [3, 4]]))
    array(5, dtype=int32)
    """
    _check("trace", a)
    s = stream_of(stream, "trace")
    if a.ndim < 2:
        raise ValueError("[trace] Array must have at least two dimensions, but got "
                         f"{a.ndim} dimensions.")
    axes = []
    for name, ax in (("axis1", axis1), ("axis2", axis2)):
        ax = _int(ax, "trace", name)
        if not -a.ndim <= ax < a.ndim:
            raise IndexError(f"[trace] Invalid {name} {ax} for array with {a.ndim} "
                             "dimensions.")
        axes.append(ax % a.ndim)
    if axes[0] == axes[1]:
        raise ValueError("[trace] axis1 and axis2 cannot be the same axis")
    if dtype is not None:
        if not isinstance(dtype, _dt.Dtype):
            raise TypeError(f"[trace] dtype must be a Dtype, got {type(dtype).__name__}.")
        a = mx.astype(a, dtype, stream=s)
    d = mx.diagonal(a, _int(offset, "trace", "offset"), axes[0], axes[1], stream=s)
    return mx.sum(d, axis=-1, stream=s)


def diff(a, /, n=1, axis=-1, *, stream=None):
    """The `n`-th forward difference along `axis` (bool arrays: not-equal).

    >>> import mlxpy.core as mx
    >>> mx.diff(mx.array([1, 4, 9, 16]))
    array([3, 5, 7], dtype=int32)
    """
    _check("diff", a)
    s = stream_of(stream, "diff")
    n = _int(n, "diff", "n")
    axis = _int(axis, "diff", "axis")
    if n < 0:
        raise ValueError("[diff] Order `n` must be non-negative.")
    if not -a.ndim <= axis < a.ndim:
        raise IndexError("[diff] Axis is out of bounds for the array.")
    axis %= a.ndim
    head = [slice(None)] * a.ndim
    tail = [slice(None)] * a.ndim
    head[axis] = slice(1, None)
    tail[axis] = slice(None, -1)
    head, tail = tuple(head), tuple(tail)
    size = a.shape[axis]
    for _ in range(min(n, size)):
        a = mx.subtract(a[head], a[tail], stream=s)
    return a


# -- einsum -----------------------------------------------------------------------------

_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _parse_terms(text, where):
    """A term's labels: letters, with "..." kept as the single marker '.'."""
    if text.count("...") > 1 or text.replace("...", "").count("."):
        raise ValueError(f"[{where}] Invalid ellipsis in subscripts '{text}'.")
    out = text.replace("...", ".")
    for c in out:
        if c != "." and c not in _LETTERS:
            raise ValueError(f"[{where}] Invalid character '{c}' in subscripts.")
    return out


def _parse(subscripts, shapes, where):
    """Input label lists and the output label list, with ellipsis dimensions named by
    ints (right-aligned across operands) and letters as themselves."""
    if not isinstance(subscripts, str):
        raise TypeError(f"[{where}] subscripts must be a string.")
    text = subscripts.replace(" ", "")
    if "->" in text:
        lhs, rhs = text.split("->", 1)
        if "->" in rhs:
            raise ValueError(f"[{where}] Subscripts may contain '->' only once.")
    else:
        lhs, rhs = text, None
    terms = [_parse_terms(t, where) for t in lhs.split(",")]
    if len(terms) != len(shapes):
        raise ValueError(f"[{where}] Number of operands, {len(shapes)}, does not match "
                         f"number of input subscripts, {len(terms)}")
    labels = []
    n_ell = 0
    for term, shape in zip(terms, shapes):
        letters = len(term) - ("." in term)
        if len(shape) < letters or ("." not in term and len(shape) != letters):
            raise ValueError(f"[{where}] Subscripts '{term.replace('.', '...')}' do not "
                             f"match an operand with {len(shape)} dimensions.")
        k = len(shape) - letters
        n_ell = max(n_ell, k) if "." in term else n_ell
        row = []
        for c in term:
            if c == ".":
                # Ellipsis dims are named by their distance from the right, so that
                # operands with fewer of them broadcast against the others.
                row.extend(range(k - 1, -1, -1))
            else:
                row.append(c)
        labels.append(row)
    ell = list(range(n_ell - 1, -1, -1))
    if rhs is None:
        counts = {}
        for row in labels:
            for c in row:
                if isinstance(c, str):
                    counts[c] = counts.get(c, 0) + 1
        out = ell + sorted(c for c, k in counts.items() if k == 1)
    else:
        rhs = _parse_terms(rhs, where)
        out = []
        for c in rhs:
            if c == ".":
                out.extend(ell)
            else:
                if c in out:
                    raise ValueError(f"[{where}] Repeat indices not allowed in output.")
                if not any(c in row for row in labels):
                    raise ValueError(f"[{where}] Output subscript '{c}' does not appear in "
                                     "the input subscripts.")
                out.append(c)
    return labels, out


def _label_sizes(labels, shapes, where):
    sizes = {}
    for i, (row, shape) in enumerate(zip(labels, shapes)):
        for c, d in zip(row, shape):
            have = sizes.get(c, 1)
            if have == d or d == 1:
                continue
            if have != 1:
                shown = "(" + ",".join(str(x) for x in shape) + ")"
                raise ValueError(f"[{where}] Cannot broadcast dimension {row.index(c)} of "
                                 f"input {i} with shape {shown} to size {have}.")
            sizes[c] = d
        for c in row:
            sizes.setdefault(c, 1)
    return sizes


def _take_diagonals(x, row, stream):
    """`x` with each label repeated within one operand reduced to its diagonal."""
    while True:
        seen = {}
        for i, c in enumerate(row):
            if c in seen:
                j = seen[c]
                x = mx.diagonal(x, 0, j, i, stream=stream)
                row = [r for k, r in enumerate(row) if k not in (i, j)] + [c]
                break
            seen[c] = i
        else:
            return x, row


def _sum_labels(x, row, keep, stream):
    axes = [i for i, c in enumerate(row) if c not in keep]
    if not axes:
        return x, row
    return mx.sum(x, axis=axes, stream=stream), [c for c in row if c in keep]


def _pair(a, ra, b, rb, keep, sizes, stream):
    """Two operands combined into one, summing the labels that `keep` no longer needs."""
    batch = [c for c in ra if c in rb and c in keep]
    summed = [c for c in ra if c in rb and c not in keep]
    a_only = [c for c in ra if c not in rb]
    b_only = [c for c in rb if c not in ra]

    def arrange(x, row, order):
        return mx.transpose(x, [row.index(c) for c in order], stream=stream)

    if summed:
        # A contracted label of size 1 on one side broadcasts against the other.
        def full(x, row):
            shape = tuple(sizes[c] if c in summed else d for c, d in zip(row, x.shape))
            return mx.broadcast_to(x, shape, stream=stream) if shape != x.shape else x
        a, b = full(a, ra), full(b, rb)
        a = arrange(a, ra, batch + a_only + summed)
        b = arrange(b, rb, batch + summed + b_only)
        nb = len(batch)
        k = _math.prod(sizes[c] for c in summed)
        a_free = a.shape[nb:nb + len(a_only)]
        b_free = b.shape[nb + len(summed):]
        a = mx.reshape(a, a.shape[:nb] + (_math.prod(a_free), k), stream=stream)
        b = mx.reshape(b, b.shape[:nb] + (k, _math.prod(b_free)), stream=stream)
        out = mx.matmul(a, b, stream=stream)
        shape = out.shape[:nb] + a_free + b_free
        return mx.reshape(out, shape, stream=stream), batch + a_only + b_only
    a = arrange(a, ra, batch + a_only)
    b = arrange(b, rb, batch + b_only)
    nb = len(batch)
    a = mx.reshape(a, a.shape + (1,) * len(b_only), stream=stream)
    b = mx.reshape(b, b.shape[:nb] + (1,) * len(a_only) + b.shape[nb:], stream=stream)
    return mx.multiply(a, b, stream=stream), batch + a_only + b_only


def einsum(subscripts, *operands, stream=None):
    """Einstein summation over the labelled axes of `operands`.

    Lowered to diagonals, sums, transposes, reshapes and matmuls, so it differentiates
    and vmaps like those ops.

    >>> import mlxpy.core as mx
    >>> a = mx.array([[1.0, 2.0], [3.0, 4.0]])
    >>> mx.einsum("ij,jk->ik", a, a)
    array([[7, 10],
           [15, 22]], dtype=float32)
    >>> mx.einsum("ii", a)
    array(5, dtype=float32)
    """
    _check("einsum", *operands)
    s = stream_of(stream, "einsum")
    shapes = [x.shape for x in operands]
    labels, out = _parse(subscripts, shapes, "einsum")
    sizes = _label_sizes(labels, shapes, "einsum")
    terms = []
    for x, row in zip(operands, labels):
        x, row = _take_diagonals(x, row, s)
        terms.append((x, row))
    # Each operand first sums the labels nothing else needs.
    reduced = []
    for i, (x, row) in enumerate(terms):
        others = set(out)
        for j, (_, r) in enumerate(terms):
            if j != i:
                others.update(r)
        reduced.append(_sum_labels(x, row, others, s))
    x, row = reduced[0]
    for i in range(1, len(reduced)):
        y, ry = reduced[i]
        keep = set(out)
        for _, r in reduced[i + 1:]:
            keep.update(r)
        x, row = _pair(x, row, y, ry, keep, sizes, s)
    x, row = _sum_labels(x, row, set(out), s)
    x = mx.transpose(x, [row.index(c) for c in out], stream=s) if row != out else x
    # Output labels that broadcast (size 1 here, larger in another operand).
    target = tuple(sizes[c] for c in out)
    if x.shape != target:
        x = mx.broadcast_to(x, target, stream=s)
    return x


def einsum_path(subscripts, *operands):
    """The greedy pairwise contraction order for `einsum`, and a summary as MLX prints.

    >>> import mlxpy.core as mx
    >>> mx.einsum_path("ij,jk,kl->il", mx.ones((2, 3)), mx.ones((3, 4)), mx.ones((4, 5)))[0]
    [(1, 2), (0, 1)]
    """
    _check("einsum_path", *operands)
    shapes = [x.shape for x in operands]
    labels, out = _parse(subscripts, shapes, "einsum_path")
    sizes = _label_sizes(labels, shapes, "einsum_path")
    terms = [set(row) for row in labels]
    every = set().union(*terms)
    naive = _flops(every, sizes, len(terms), bool(every - set(out)))
    if len(terms) == 1:
        path, optimized, widest = [(0,)], naive, len(every)
    else:
        path, optimized, widest = [], 0, 0
        while len(terms) > 1:
            best = None
            for i in range(len(terms)):
                for j in range(i + 1, len(terms)):
                    rest = set(out).union(*(t for k, t in enumerate(terms) if k not in (i, j)))
                    kept = (terms[i] | terms[j]) & rest
                    # Greedy: the pair whose result shrinks the operands the most.
                    cost = _volume(kept, sizes) - _volume(terms[i], sizes) - \
                        _volume(terms[j], sizes)
                    if best is None or cost < best[0]:
                        best = (cost, i, j, kept)
            _, i, j, kept = best
            joined = terms[i] | terms[j]
            optimized += _flops(joined, sizes, 2, bool(joined - kept))
            widest = max(widest, len(joined))
            path.append((i, j))
            terms = [t for k, t in enumerate(terms) if k not in (i, j)] + [kept]
    report = (f"  Complete contraction:  {subscripts}\n"
              f"         Naive scaling:  {len(every)}\n"
              f"     Optimized scaling:  {widest}\n"
              f"      Naive FLOP count:  {naive}\n"
              f"  Optimized FLOP count:  {optimized}\n")
    return path, report


def _volume(labels, sizes):
    return _math.prod(sizes[c] for c in labels)


def _flops(labels, sizes, terms, summed):
    """Multiply-adds of one contraction, counted as numpy's einsum_path counts them."""
    return _volume(labels, sizes) * (max(1, terms - 1) + summed)


# -- hadamard ---------------------------------------------------------------------------

def hadamard_transform(a, scale=None, stream=None):
    """The Walsh-Hadamard transform along the last axis, times `scale` (default
    1/sqrt(n)). The last axis must be m * 2^k with m in (1, 12, 20, 28).

    >>> import mlxpy.core as mx
    >>> mx.hadamard_transform(mx.array([1.0, 2.0, 3.0, 4.0]))
    array([5, -1, -2, 0], dtype=float32)
    """
    _check("hadamard_transform", a)
    s = stream_of(stream, "hadamard_transform")
    if a.dtype is _dt.float64:
        raise ValueError("[hadamard] Unsupported type.")
    n = a.shape[-1] if a.ndim else 1
    if not hadamard_size_ok(n):
        raise ValueError("[hadamard] Only supports n = m*2^k where m in (1, 12, 20, 28).")
    if n == 1 and scale is None:
        return a  # MLX: a one-point transform with the default scale is the input as is
    if a.dtype not in (_dt.float16, _dt.bfloat16, _dt.float32):
        a = mx.astype(a, _dt.float32, stream=s)
    scale = 1.0 / _math.sqrt(n) if scale is None else float(scale)
    return make(Hadamard(scale), [a._node], s)


# -- masked, gathered and segmented matmuls ------------------------------------------------
# Each is composed of take / where / multiply / matmul, so grad and vmap come from those
# ops' rules (MLX has no vjp for segmented_mm; here every operand is differentiable).

def _integral(x, where, what):
    _check(where, x)
    if not (_dt.issubdtype(x.dtype, _dt.integer)):
        raise ValueError(f"[{where}] Got {what} with invalid dtype. {what.capitalize()} "
                         "must be integral.")


def gather_mm(a, b, /, lhs_indices=None, rhs_indices=None, *, sorted_indices=False,
              stream=None):
    """Matmul of matrices picked from the batches of `a` and `b`: `lhs_indices` and
    `rhs_indices` are flat indices into the batch dimensions (all but the last two); the
    result's batch shape is the two index arrays broadcast together.

    >>> import mlxpy.core as mx
    >>> a = mx.stack([mx.eye(2), 2 * mx.eye(2)])
    >>> mx.gather_mm(a, mx.ones((2, 1)), mx.array([1, 0, 1]))[:, :, 0]
    array([[2, 2],
           [1, 1],
           [2, 2]], dtype=float32)
    """
    _check("gather_mm", a, b)
    s = stream_of(stream, "gather_mm")
    for idx in (lhs_indices, rhs_indices):
        if idx is not None:
            _integral(idx, "gather_mm", "indices")
    squeeze = []
    if a.ndim == 1:
        a, squeeze = mx.reshape(a, (1,) + a.shape, stream=s), squeeze + [-2]
    if b.ndim == 1:
        b, squeeze = mx.reshape(b, b.shape + (1,), stream=s), squeeze + [-1]
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"[gather_mm] Last dimension of first input with shape {a.shape} "
                         "must match second to last dimension of second input with shape "
                         f"{b.shape}.")

    def picked(x, idx):
        batch = x.shape[:-2]
        if idx is None:
            idx = mx.reshape(mx.arange(_math.prod(batch), stream=s), batch, stream=s)
        flat = mx.reshape(x, (-1,) + x.shape[-2:], stream=s)
        return idx, flat

    li, af = picked(a, lhs_indices)
    ri, bf = picked(b, rhs_indices)
    batch = broadcast_shapes(li.shape, ri.shape)
    li = mx.broadcast_to(li, batch, stream=s)
    ri = mx.broadcast_to(ri, batch, stream=s)
    out = mx.matmul(mx.take(af, li, axis=0, stream=s), mx.take(bf, ri, axis=0, stream=s),
                    stream=s)
    return mx.squeeze(out, squeeze, stream=s) if squeeze else out


def _blocks(mask, batch, rows, cols, bs, where, s):
    """A block mask broadcast to (*batch, tiles, tiles), grown to (*batch, rows, cols)."""
    _check(where, mask)
    shape = tuple(batch) + (-(-rows // bs), -(-cols // bs))
    if broadcast_shapes(mask.shape, shape, where=where) != shape:
        raise ValueError(f"[{where}] Cannot broadcast a mask of shape {mask.shape} to the "
                         f"block shape {shape}.")
    mask = mx.broadcast_to(mask, shape, stream=s)
    mask = mx.repeat(mx.repeat(mask, bs, axis=-2, stream=s), bs, axis=-1, stream=s)
    return mask[..., :rows, :cols]


def _masked(x, mask):
    # A False block is skipped (so NaN or inf there does not leak), a number scales it.
    if mask.dtype is _dt.bool_:
        return mx.where(mask, x, mx.zeros((), dtype=x.dtype))
    return mx.multiply(x, mask.astype(x.dtype))


def block_masked_mm(a, b, /, block_size=64, mask_out=None, mask_lhs=None, mask_rhs=None,
                    *, stream=None):
    """Matmul with `block_size` x `block_size` tiles of `a`, `b` and the result masked:
    a mask holds one entry per tile (bool: keep or drop, number: scale).

    >>> import mlxpy.core as mx
    >>> out = mx.block_masked_mm(mx.ones((64, 32)), mx.ones((32, 64)), 32,
    ...                          mask_out=mx.array([[True, False], [False, True]]))
    >>> out[::32, ::32]
    array([[32, 0],
           [0, 32]], dtype=float32)
    """
    _check("block_masked_mm", a, b)
    s = stream_of(stream, "block_masked_mm")
    bs = _int(block_size, "block_masked_mm", "block_size")
    masks = (mask_out, mask_lhs, mask_rhs)
    # As in MLX, the block size matters (and is checked) only when there is a mask.
    if any(x is not None for x in masks) and bs not in (32, 64):
        raise ValueError(f"[block_masked_mm] Only block_sizes 32, 64 are supported. Got "
                         f"block size {bs}.")
    squeeze = []
    if a.ndim == 1:
        a, squeeze = mx.reshape(a, (1,) + a.shape, stream=s), squeeze + [-2]
    if b.ndim == 1:
        b, squeeze = mx.reshape(b, b.shape + (1,), stream=s), squeeze + [-1]
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"[block_masked_mm] Last dimension of first input with shape "
                         f"{a.shape} must match second to last dimension of second input "
                         f"with shape {b.shape}.")
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    where = "block_masked_mm"
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2], where=where)
    if mask_lhs is not None:
        a = _masked(a, _blocks(mask_lhs, batch, m, k, bs, where, s))
    if mask_rhs is not None:
        b = _masked(b, _blocks(mask_rhs, batch, k, n, bs, where, s))
    out = mx.matmul(a, b, stream=s)
    if mask_out is not None:
        out = _masked(out, _blocks(mask_out, batch, m, n, bs, where, s))
    return mx.squeeze(out, squeeze, stream=s) if squeeze else out


def segmented_mm(a, b, /, segments, *, stream=None):
    """One matmul per segment [start, end) of the inner dimension: `a` (M, K), `b` (K, N)
    and `segments` (..., 2) give (..., M, N).

    >>> import mlxpy.core as mx
    >>> a, b = mx.ones((1, 4)), mx.ones((4, 1))
    >>> mx.segmented_mm(a, b, mx.array([[0, 1], [1, 4]]))[:, 0, 0]
    array([1, 3], dtype=float32)
    """
    _check("segmented_mm", a, b)
    s = stream_of(stream, "segmented_mm")
    _integral(segments, "segmented_mm", "segments")
    if segments.ndim < 1 or segments.shape[-1] != 2:
        shown = "(" + ",".join(str(d) for d in segments.shape) + ")"
        raise ValueError(f"[segmented_mm] The segments should have shape (..., 2) but "
                         f"{shown} was provided.")
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError("[segmented_mm] Batched matmul not supported")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"[segmented_mm] Last dimension of first input with shape {a.shape} "
                         "must match second to last dimension of second input with shape "
                         f"{b.shape}.")
    dtype = _dt.promote_types(a.dtype, b.dtype)
    if not _dt.issubdtype(dtype, _dt.floating):
        raise ValueError(f"[segmented_mm] Only real floating point types are supported but "
                         f"{a.dtype} and {b.dtype} were provided which results in {dtype}, "
                         "which is not a real floating point type.")
    k = a.shape[1]
    lead = segments.shape[:-1]
    pos = mx.arange(k, stream=s)
    start = mx.expand_dims(segments[..., 0], -1, stream=s)
    end = mx.expand_dims(segments[..., 1], -1, stream=s)
    inside = mx.logical_and(pos >= start, pos < end, stream=s)       # (..., K)
    inside = mx.reshape(inside, lead + (1, k), stream=s)
    picked = mx.where(inside, a.astype(dtype), mx.zeros((), dtype=dtype), stream=s)
    return mx.matmul(picked, b.astype(dtype), stream=s)
