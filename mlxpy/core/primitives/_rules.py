"""Helpers that transform rules share: undoing broadcasting, aligning batch axes,
re-applying a primitive to new inputs. Written with public ops, like the rules."""
import mlxpy.core as mx

from ..device import current_stream


def apply(prim, inputs, stream=None):
    """Build `prim` on the handles `inputs` (same parameters, new inputs)."""
    # ops._core imports the primitives, so it is looked up on the package at call time.
    make, make_multi = mx.ops._core.make, mx.ops._core.make_multi
    nodes = [x._node for x in inputs]
    s = stream or (nodes[0].stream if nodes else current_stream())
    if prim.num_outputs > 1:
        return make_multi(prim, nodes, s)
    return make(prim, nodes, s)


def unbroadcast(g, shape):
    """Sum `g` down to `shape`: the adjoint of broadcasting an array of `shape` to g's."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = list(range(lead))
    for i, d in enumerate(shape):
        if d == 1 and g.shape[lead + i] != 1:
            axes.append(lead + i)
    if axes:
        g = mx.sum(g, axis=axes, keepdims=True)
    return mx.reshape(g, shape)


def to_front(x, ax):
    """`x` with its batch axis `ax` moved to the front (None: unbatched, unchanged)."""
    if ax is None or ax == 0:
        return x
    return mx.moveaxis(x, ax, 0)


def align_batched(inputs, axes):
    """Inputs of an elementwise primitive with batch axes first and ranks aligned.

    Batched inputs get their batch axis at 0, then singleton axes so that their
    per-example dimensions line up with the highest per-example rank; unbatched
    inputs are left alone (NumPy broadcasting aligns them from the right).
    """
    rank = max(x.ndim - (0 if a is None else 1) for x, a in zip(inputs, axes))
    out = []
    for x, a in zip(inputs, axes):
        if a is None:
            out.append(x)
            continue
        x = to_front(x, a)
        missing = rank - (x.ndim - 1)
        if missing:
            x = mx.reshape(x, (x.shape[0],) + (1,) * missing + x.shape[1:])
        out.append(x)
    return out


def vmap_elementwise(prim, inputs, axes):
    """The batching rule of every elementwise primitive: align, then re-apply."""
    if sum(a is not None for a in axes) == 1 and all(
            a is not None or x.ndim == 0 for x, a in zip(inputs, axes)):
        # One batched input and scalar others: the batch axis can stay where it is.
        return [apply(prim, inputs)], [next(a for a in axes if a is not None)]
    return [apply(prim, align_batched(inputs, axes))], [0]
