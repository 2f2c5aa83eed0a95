"""Replaying the rules of a transform walk.

A walk (vjp, jvp, vmap) calls a rule per node of its tape, and the rules build new
nodes with public ops: validation, promotion, shape inference, handle churn. What
they build is a function of what they are shown, and of nothing else: the primitives
and their parameters, how the nodes are wired, the shapes, dtypes and streams, and
the constants they may read. So a walk's new nodes are recorded once, keyed by
exactly that, and a later walk over a graph with the same key builds the same nodes
directly from the record.

Only the rules are skipped: the user's function still runs on every call (its Python
side effects, its reads of closed-over arrays happen as in MLX), and the key comes
from the graph that run traced. What a rule is shown is kept to what the key holds:

- a one-element constant (the shared `2` of `x ** 2`, grad's seed 1) is shown as it
  is, and keyed by its value (its host copy once it moved to a GPU), since rules may read it
  (`Power` does) or simplify with it;
- every other seed (cotangent, tangent, batched input) and every other array with
  data (a batch, a weight) is shown through a fresh data-less copy, so a rule can
  only read its value by evaluating that copy, which the recording notices and
  refuses; the key holds its shape, dtype and stream, so a fresh batch of the same
  shape replays the same record;
- a node without data is keyed by shape, dtype, stream and whether it has a
  primitive.

Nodes that the rules built from constants alone are computed once, when recorded,
and replayed as constants.

Walks that cannot be keyed this way are not cached: primitives whose rules run user
code (custom functions, compiled functions), nodes evaluated inside the trace (rules
could read them), anything evaluated while recording.
"""
import weakref
from math import prod

import numpy as np

from ..array import wrap
from ..device_eval import host_value
from ..device import current_stream
from ..eval import eval_nodes
from ..graph import Node, _next_seq, trace_state
from ..primitives.base import Primitive
from ..primitives.transforms import COPY

# Primitives whose rules are pure functions of what they are shown: the closed set in
# mlxpy.core.primitives (custom_function's and compile's rules call user code). Per
# class: not pure, or whether its parameters need keying.
_PURE_MODULE = "mlxpy.core.primitives."
_NOT_PURE, _NO_PARAMS, _WITH_PARAMS = 0, 1, 2
_kinds = {}
_MAX_RECORDS = 1024
_records = {}


def _kind_of(cls):
    if not cls.__module__.startswith(_PURE_MODULE):
        kind = _NOT_PURE
    elif cls.params is Primitive.params:
        kind = _NO_PARAMS
    else:
        kind = _WITH_PARAMS
    _kinds[cls] = kind
    return kind


def cached_walk(kind, walk, input_nodes, tape, seeds, output_nodes, extra_key=()):
    """`walk(seeds, shown)`, or its record replayed. `walk` returns (result arrays or
    None, other results kept with the record); `shown` maps leaves to the copies that
    rules see instead (None: no copies). `kind` names the walk."""
    sig = _signature(kind, input_nodes, tape, seeds, output_nodes, extra_key)
    if sig is None:
        return walk(seeds, None)
    key, leaves, slot, shown, seed_positions, fixed = sig
    try:
        rec = _records.get(key)
    except TypeError:  # a primitive parameter that does not hash
        return walk(seeds, None)
    if rec is not None:
        for position, ref in rec.fixed:
            if ref is not None and ref() is not leaves[position]:
                break
        else:
            return rec.replay(leaves)
    copies = {}
    for k in shown:
        n = leaves[k]
        copies[k] = Node(n.shape, n.dtype, COPY, [n], n.stream)
    shown_seeds = [wrap(copies[k]) if k in copies else a
                   for k, a in zip(seed_positions, seeds)]
    shown_others = {leaves[k]: c for k, c in copies.items() if k not in seed_positions}
    start = _next_seq()
    results, extra = walk(shown_seeds, shown_others)
    rec = _record(leaves, slot, copies, fixed, start, results, extra)
    if rec is not None:
        if len(_records) >= _MAX_RECORDS:
            _records.clear()
        _records[key] = rec
    return results, extra


def _signature(kind, input_nodes, tape, seeds, output_nodes, extra_key):
    """(key, leaves, slot, shown, seed positions, fixed), or None if the walk
    cannot be cached.

    Leaves are the nodes a record refers to by position: inputs, seeds, then each tape
    node and each input of one met for the first time. `slot` maps every leaf that
    rules see as it is to its position; `shown` lists the positions of leaves shown
    through copies; `fixed` holds (position, weak reference or None) for the
    one-element constants: a constant keyed by identity has a weak reference (the key
    holds its id, and a record is only used while that id is still its)."""
    stream = current_stream()
    # Under placeholders (vmap, compile tracing) some ops keep shape-deriving nodes
    # that they otherwise skip.
    key = [kind, stream, trace_state.placeholder_depth > 0]
    append = key.append
    leaves = []
    slot = {}
    shown = []
    fixed = []
    # Dtypes are never freed, so their ids name them (and hash in C).
    for n in input_nodes:
        if n.data is not None:
            return None
        slot[n] = len(leaves)
        leaves.append(n)
        key += (n.shape, id(n.dtype), None if n.stream is stream else n.stream)
    seed_positions = []
    for a in seeds:
        if a is None:
            seed_positions.append(None)
            append(None)
            continue
        n = a._node
        position = len(leaves)
        seed_positions.append(position)
        leaves.append(n)
        if n.data is not None and n.prim is None and prod(n.shape) == 1:
            # A scalar seed (grad's 1) is shown as it is: rules may simplify with it.
            slot[n] = position
            append(_constant_key(n, position, fixed))
        else:
            shown.append(position)
            key += (n.shape, id(n.dtype), None if n.stream is stream else n.stream)
    get = slot.get
    kinds = _kinds
    for n in tape:
        prim = n.prim
        cls = prim.__class__
        pure = kinds.get(cls)
        if pure is None:
            pure = _kind_of(cls)
        if not pure or n.data is not None:
            return None
        append(cls)
        if pure == _WITH_PARAMS:
            append(prim.params())
        if n.stream is not stream:
            append(n.stream)
        inputs = n.inputs
        append(len(inputs))
        for i in inputs:
            r = get(i)
            if r is not None:
                append(r)
                continue
            # First met: one tuple describes it (refs to leaves met before are ints).
            position = len(leaves)
            slot[i] = position
            leaves.append(i)
            s = None if i.stream is stream else i.stream
            if i.data is None:
                append((i.prim is None, i.shape, id(i.dtype), s))
            elif i.prim is None and prod(i.shape) == 1:
                append(_constant_key(i, position, fixed))
            else:
                shown.append(position)
                append((i.shape, id(i.dtype), s))
        group = n.siblings
        if group is None:
            append(-1)
            slot[n] = len(leaves)
            leaves.append(n)
        elif n in slot:
            append(-2)
        else:
            append((len(group), group.index(n)))
            for o in group:
                slot[o] = len(leaves)
                leaves.append(o)
    for n in output_nodes:
        append(get(n, -1))
    key += extra_key
    return tuple(key), leaves, slot, shown, seed_positions, fixed


def _constant_key(n, position, fixed):
    """The key of a one-element constant, which rules may read: its value where the
    host has it, else its identity (checked through a weak reference)."""
    data = n.data
    if not isinstance(data, (np.ndarray, np.generic)):
        data = host_value(n)  # a constant that moved to the GPU, read on the host
    if data is not None:
        fixed.append((position, None))
        return (id(n.dtype), n.shape, data.tobytes())
    fixed.append((position, weakref.ref(n)))
    return (id(n),)


class Record:
    """The nodes a walk built, as steps over the leaves, the constants and earlier
    steps; the positions of its results; what else it returned."""

    __slots__ = ("steps", "constants", "results", "fixed", "extra")

    def replay(self, leaves):
        """The walk's results, rebuilt on this call's leaves."""
        nodes = leaves + self.constants
        append = nodes.append
        for prim, shape, dtype, stream, refs, group in self.steps:
            inputs = list(map(nodes.__getitem__, refs))
            if group is None:
                append(Node(shape, dtype, prim, inputs, stream))
            else:
                outs = tuple(Node(s, d, prim, inputs, stream) for s, d in group)
                for o in outs:
                    o.siblings = outs
                nodes.extend(outs)
        return [None if r is None else wrap(nodes[r]) for r in self.results], self.extra


def _record(leaves, slot, copies, fixed, start, results, extra):
    """The Record of what a walk built after sequence number `start`, or None if it
    evaluated anything or reached a node the key does not describe. `copies` maps
    leaf positions to the copies rules saw."""
    position = dict(slot)
    for k, c in copies.items():
        if c.data is not None:
            return None
        position[c] = k
    for k, n in enumerate(leaves):
        # Data on a leaf with a primitive that rules saw as it is (they see data-less
        # leaves and constants so): a rule evaluated it.
        if n.data is not None and n.prim is not None and k not in copies:
            return None
    built = []
    constants = []
    seen = set()
    stack = [a._node for a in results if a is not None]
    while stack:
        n = stack.pop()
        if n in seen or n in position:
            continue
        seen.add(n)
        if n.data is not None:
            if n.prim is not None:
                return None
            constants.append(n)
        elif n.seq > start:
            built.append(n)
            if n.siblings is not None:
                stack.extend(n.siblings)
            stack.extend(n.inputs)
        else:
            return None
    built.sort(key=_seq_of)
    built, folded = _fold_constants(built, constants, {leaves[k] for k, _ in fixed}, results)
    count = len(leaves)
    for c in constants:
        position[c] = count
        count += 1
    for n, c in folded:
        position[n] = count
        count += 1
        constants.append(c)
    steps = []
    for n in built:
        group = n.siblings
        if group is not None and n in position:
            continue
        refs = tuple(position[i] for i in n.inputs)
        if group is None:
            position[n] = count
            count += 1
            steps.append((n.prim, n.shape, n.dtype, n.stream, refs, None))
        else:
            for o in group:
                position[o] = count
                count += 1
            steps.append((n.prim, None, None, n.stream, refs,
                          tuple((o.shape, o.dtype) for o in group)))
    rec = Record()
    rec.steps = steps
    rec.constants = constants
    rec.results = [None if a is None else position[a._node] for a in results]
    rec.fixed = fixed
    rec.extra = extra
    return rec


# Constant subgraphs up to this many elements are computed once, when recorded.
_FOLD_LIMIT = 1024


def _fold_constants(built, constants, fixed, results):
    """Split `built` (in creation order) into the nodes still to build on replay, and
    (node, constant) pairs for the nodes they need that are computed now: a node whose
    inputs are all constants (the record's, one-element constants keyed by value or
    identity, or nodes folded before it) has the same value on every replay."""
    constant = set(constants)
    constant.update(fixed)
    foldable = []
    for n in built:
        if (n.siblings is None and n.inputs and prod(n.shape) <= _FOLD_LIMIT
                and all(i in constant for i in n.inputs)):
            constant.add(n)
            foldable.append(n)
    if not foldable:
        return built, []
    keep = [n for n in built if n not in constant]
    needed = {a._node for a in results if a is not None}
    for n in keep:
        needed.update(n.inputs)
    frontier = [n for n in foldable if n in needed]
    try:
        eval_nodes(frontier)
    except Exception:  # noqa: BLE001 - left for the real evaluation to report
        return built, []
    folded = []
    for n in frontier:
        c = Node(n.shape, n.dtype, None, None, n.stream)
        c.set_data(n.data)
        folded.append((n, c))
    return keep, folded


def _seq_of(n):
    return n.seq
