"""Automatic vectorization as a graph walk.

`vmap` traces the function once on placeholders shaped like one slice of each mapped
input, sorts the traced graph, and replays it: every node that depends on a mapped
input is rebuilt by its primitive's `vmap` rule on the batched inputs (or, for a
graph of a shape seen before, by the record of what the rules built: rule_cache.py).

>>> import mlxpy.core as mx
>>> mx.vmap(lambda x, y: x + y, in_axes=(0, 1))(mx.ones((3, 2)), mx.ones((2, 3))).shape
(3, 2)
"""
import warnings

from ..array import array, wrap
from ..graph import Node, trace_state
from ..primitives.base import TransformError
from .tree import flatten_arrays, replace_arrays
from .autodiff import dependents
from .rule_cache import cached_walk
from ..ops.shape import moveaxis, broadcast_to, expand_dims

_fallback_warned = set()


def _shape_str(shape):
    return "(" + ",".join(str(d) for d in shape) + ")"


def _broadcast_prefix(axes, tree, where):
    """Flat list of axes, one per array leaf of `tree`, from a prefix tree `axes`."""
    out = []

    def rec(ax, t):
        if isinstance(t, array):
            if ax is not None and (not isinstance(ax, int) or isinstance(ax, bool)):
                raise ValueError(f"[{where}] axis must be int or None.")
            out.append(ax)
            return
        if isinstance(ax, (list, tuple, dict)) or ax is None or isinstance(ax, int):
            pass
        else:
            raise ValueError(f"[{where}] axis must be int or None.")
        if isinstance(t, (list, tuple)):
            if isinstance(ax, (list, tuple)):
                if len(ax) != len(t):
                    raise ValueError(f"[{where}] The axes tree is not a valid prefix of the "
                                     f"arguments: {len(ax)} axes for {len(t)} items.")
                for a, x in zip(ax, t):
                    rec(a, x)
            elif isinstance(ax, dict):
                raise ValueError(f"[{where}] The axes tree is not a valid prefix of the arguments.")
            else:
                for x in t:
                    rec(ax, x)
        elif isinstance(t, dict):
            if isinstance(ax, dict):
                if set(ax) != set(t):
                    raise ValueError(f"[{where}] The axes tree is not a valid prefix of the "
                                     "arguments: dict keys differ.")
                for k, x in t.items():
                    rec(ax[k], x)
            elif isinstance(ax, (list, tuple)):
                raise ValueError(f"[{where}] The axes tree is not a valid prefix of the arguments.")
            else:
                for x in t.values():
                    rec(ax, x)
        else:
            raise ValueError(f"[{where}] The arguments should contain only arrays, but got "
                             f"{type(t).__name__}.")
    rec(axes, tree)
    return out


def _plain_axes(in_axes, args):
    """The axes of `args` when every argument is an array and `in_axes` is an int or a
    flat sequence of ints and Nones (the common case, with nothing to validate), else
    None."""
    for x in args:
        if type(x) is not array:
            return None
    if type(in_axes) is int:
        return [in_axes] * len(args)
    if type(in_axes) in (tuple, list) and len(in_axes) == len(args):
        for a in in_axes:
            if a is not None and type(a) is not int:
                return None
        return in_axes
    return None


def _normalize_in_axis(ax, x):
    if ax is None:
        return None
    nd = x.ndim
    a = ax + nd if ax < 0 else ax
    if a < 0 or a >= nd:
        raise IndexError(f"[vmap] Invalid vectorization axis {ax} for array with shape "
                         f"{_shape_str(x.shape)}.")
    return a


def _placeholder(shape, dtype, stream):
    return Node(shape, dtype, None, (), stream)


class placeholders:
    """Context: tracing on data-less placeholders, where evaluation is an error."""

    def __init__(self, reason):
        self.reason = reason

    def __enter__(self):
        trace_state.placeholder_depth += 1
        self.saved = trace_state.placeholder_reason
        trace_state.placeholder_reason = self.reason
        trace_state.depth += 1

    def __exit__(self, *exc):
        trace_state.placeholder_depth -= 1
        trace_state.placeholder_reason = self.saved
        trace_state.depth -= 1


def vmap_replay(input_nodes, batched_inputs, in_axes, output_nodes, size):
    """Rebuild `output_nodes` with `input_nodes` replaced by batched arrays.

    Returns a list of (array, axis-or-None) for the outputs.
    """
    tape, _ = dependents(input_nodes, output_nodes)

    def walk(batched, shown):
        env = _vmap_walk(tape, input_nodes, batched, in_axes, size, shown)
        hits = [env.get(o) for o in output_nodes]
        return ([None if h is None else h[0] for h in hits],
                [None if h is None else h[1] for h in hits])
    arrays, axes = cached_walk("vmap", walk, input_nodes, tape, batched_inputs, output_nodes,
                               (tuple(in_axes), size))
    return [(wrap(o), None) if a is None else (a, ax)
            for o, a, ax in zip(output_nodes, arrays, axes)]


def _vmap_walk(tape, input_nodes, batched_inputs, in_axes, size, shown):
    env = {n: (b, ax) for n, b, ax in zip(input_nodes, batched_inputs, in_axes)}
    get = env.get
    done = set()
    for n in tape:
        group = n.siblings
        if group is not None:
            # The first node, not the tuple (one may be made afresh), names the group.
            if group[0] in done:
                continue
            done.add(group[0])
        args = []
        axes = []
        for i in n.inputs:
            hit = get(i)
            if hit is None:
                args.append(wrap(shown[i] if shown and i in shown else i))
                axes.append(None)
            else:
                args.append(hit[0])
                axes.append(hit[1])
        try:
            results, out_axes = n.prim.vmap(args, axes)
        except TransformError:
            results, out_axes = _loop_fallback(n, args, axes, size)
        if group is None:
            env[n] = (results[0], out_axes[0])
        else:
            for o, r, a in zip(group, results, out_axes):
                env[o] = (r, a)
    return env


def _loop_fallback(node, args, axes, size):
    """Apply the primitive to each slice along the mapped axes and stack the results."""
    from ..ops._core import make, make_multi
    from ..ops.indexing import take
    from ..ops.shape import stack
    prim = node.prim
    name = prim.name
    if name not in _fallback_warned:
        _fallback_warned.add(name)
        warnings.warn(f"[vmap] {name} has no batching rule; running it in a Python loop over "
                      "the mapped axis.", RuntimeWarning, stacklevel=3)
    per_slice = []
    for b in range(size):
        nodes = [(take(x, b, axis=ax) if ax is not None else x)._node for x, ax in zip(args, axes)]
        if prim.num_outputs > 1 or node.siblings is not None:
            per_slice.append(make_multi(prim, nodes, node.stream))
        else:
            per_slice.append([make(prim, nodes, node.stream)])
    n_out = len(per_slice[0])
    return [stack([s[k] for s in per_slice]) for k in range(n_out)], [0] * n_out


def vmap(fun, in_axes=0, out_axes=0):
    """Vectorize `fun` over the axes `in_axes` of its arguments.

    `in_axes` and `out_axes` are ints, None, or prefix trees of the arguments and
    outputs. An output that does not depend on a mapped input is broadcast along the
    mapped axis, unless its out axis is None (an mlxpy extension).

    >>> import mlxpy.core as mx
    >>> mx.vmap(lambda x: x * 2)(mx.array([[1, 2], [3, 4]]))
    array([[2, 4],
           [6, 8]], dtype=int32)
    """
    def vmapped(*args, **kwargs):
        axes = _plain_axes(in_axes, args)
        if axes is not None:
            flat_in = args
        else:
            flat_in = flatten_arrays(args)
            axes = _broadcast_prefix(in_axes, tuple(args), "vmap")
        axes = [_normalize_in_axis(a, x) for a, x in zip(axes, flat_in)]
        if all(a is None for a in axes):
            raise ValueError("[vmap] At least one of in_axes must be non-None.")
        size = None
        for x, a in zip(flat_in, axes):
            if a is None:
                continue
            if size is None:
                size = x.shape[a]
            elif x.shape[a] != size:
                raise ValueError(f"[vmap] Inconsistent axis sizes: {size} and {x.shape[a]}.")
        holders = []
        for x, a in zip(flat_in, axes):
            if a is None:
                holders.append(x)
            else:
                n = x._node
                holders.append(wrap(_placeholder(n.shape[:a] + n.shape[a + 1:], n.dtype, n.stream)))
        with placeholders("vmap"):
            out = fun(*(holders if flat_in is args else replace_arrays(tuple(args), holders)),
                      **kwargs)
        flat_out = flatten_arrays(out, strict=True, where="vmap")
        mapped = [(h._node, x, a) for h, x, a in zip(holders, flat_in, axes) if a is not None]
        results = vmap_replay([m[0] for m in mapped], [m[1] for m in mapped],
                              [m[2] for m in mapped], [o._node for o in flat_out], size)
        if type(out_axes) is int and type(out) is array:
            o_axes = [out_axes]
        else:
            o_axes = _broadcast_prefix(out_axes, out, "vmap")
        final = []
        for (r, ax), oa in zip(results, o_axes):
            if oa is None:
                if ax is not None:
                    raise ValueError("[vmap] out_axes is None for an output that depends on a "
                                     "mapped input.")
                final.append(r)
                continue
            nd = r.ndim + (1 if ax is None else 0)
            target = oa + nd if oa < 0 else oa
            if target < 0 or target >= nd:
                raise IndexError(f"[vmap] Invalid output vectorization axis {oa} for array "
                                 f"with shape {_shape_str(r.shape)}.")
            if ax is None:
                r = broadcast_to(expand_dims(r, target), r.shape[:target] + (size,) + r.shape[target:])
            elif ax != target:
                r = moveaxis(r, ax, target)
            final.append(r)
        if isinstance(out, array):
            return final[0]
        return replace_arrays(out, final)

    return vmapped
