"""Eager graphs that repeat, run as programs on the GPU.

A training loop builds the same graph at every step: the same primitives, wired the
same way, over arrays of the same shapes. Evaluated node by node on the GPU, each step
pays Python and CuPy host time per node (an MLP step: about 100 nodes, 3 ms of host
time for 2.7 ms of GPU work). So an evaluation on the GPU is keyed by its structure,
and from the second time a key is met its graph runs as a program: elementwise steps
fused, steps planned once, replayed through CUDA graphs (backend/cuda_graphs.py) like
a compiled function's.

The key holds everything the program depends on:
- per pending node: its primitive and parameters, dtype, shape, where each input comes
  from (another pending node, or a leaf), and whether anything outside this graph can
  still read it (its reference count, as in device_eval's eager fusion): those nodes
  are the program's outputs and get their data; the others are never seen again;
- per leaf (an input with data): shape and dtype, and for a one-element constant (the
  0.01 of `w - 0.01 * g`; its host copy if it moved to the GPU) its value, which the
  program holds as a constant.

What runs is what evaluating the nodes one by one would run: the same primitives on
the same data, giving the same bits. The passes are the exact ones (no-op removal,
common subexpressions, elementwise fusion, which keeps every rounding: see cuda_fusion's
`--fmad=false`); compile's algebraic rewrites and its fusion of a reduction into the
region before it (which sums in another order) are left out. Graphs with anything else (a compiled or custom
function, a placeholder, several streams, the CPU) run node by node.
`MLXPY_EAGER_PROGRAMS=0` turns this off.
"""
import os
import sys

import numpy as np

from .device_eval import host_value
from .dtypes import bfloat16 as _bfloat16

ENABLED = os.environ.get("MLXPY_EAGER_PROGRAMS", "1") not in ("0", "")
# Graphs with fewer pending nodes run node by node (eager fusion still applies); so do
# larger ones (a long unrolled loop: its key would cost more than it saves and keep
# every primitive of it alive).
MIN_NODES = 8
MAX_NODES = 4096
MAX_PROGRAMS = 256
_PURE_MODULE = "mlxpy.core.primitives."
_getrefcount = sys.getrefcount
_programs = {}  # key -> int (times seen) | _Entry | False (cannot run as a program)
_pure = {}      # primitive class -> whether it may be part of a program


class _Entry:
    """A program for one key: which leaves are its inputs, which nodes its outputs."""
    __slots__ = ("program", "input_leaves", "output_nodes")


def _is_pure(cls):
    ok = _pure.get(cls)
    if ok is None:
        ok = _pure[cls] = cls.__module__.startswith(_PURE_MODULE) and \
            not getattr(cls, "compiled_only", False)
    return ok


def _signature(order, gpu):
    """(key, leaves, external) for the pending nodes `order`, or None when the graph
    cannot run as a program. `external[k]`: order[k] must get its data."""
    stream = order[0].stream
    if stream.device.type is not gpu:
        return None
    # Nothing below holds a pending node (ids and positions only; siblings, which are
    # all outputs anyway, aside), so their reference counts stay for the last pass.
    index = {}
    uses = [0] * len(order)
    leaves = []
    leaf_index = {}
    key = [stream]
    append = key.append
    siblings = []
    k = 0
    for node in order:
        prim = node.prim
        if prim is None or node.data is not None or node.stream is not stream or \
                not _is_pure(prim.__class__) or node.dtype is _bfloat16:
            return None  # (bfloat16 data stays on the host: node by node handles it)
        refs = []
        for i in node.inputs:
            if i.data is None:
                r = index.get(id(i))
                if r is None:
                    return None  # an input outside this graph with no data
                uses[r] += 1
            else:
                r = leaf_index.get(id(i))
                if r is None:
                    if i.dtype is _bfloat16:
                        return None
                    r = leaf_index[id(i)] = -1 - len(leaves)
                    leaves.append(i)
                    append(_leaf_key(i))
            refs.append(r)
        index[id(node)] = k
        sib = None
        if node.siblings is not None:
            sib = node.siblings.index(node)
            siblings.extend(node.siblings)
        append((prim, id(node.dtype), node.shape, tuple(refs), sib))
        k += 1
    for s in siblings:
        if id(s) not in index:
            return None  # an output of the same step that this graph does not compute
    # Readable from outside: more references than the schedule's list, the loop
    # variable, getrefcount's argument and one per use inside this graph.
    external = []
    k = 0
    for node in order:
        external.append(_getrefcount(node) > 3 + uses[k] or node.siblings is not None)
        k += 1
    append(tuple(external))
    return tuple(key), leaves, external


def _host_scalar(node):
    """The host value of a one-element constant leaf (its host copy once it moved to the
    GPU, as the rule cache keys it), or None: such a leaf is keyed by value and becomes
    a constant of the program; every other leaf is an input."""
    d = node.data
    if type(d) is np.ndarray:
        return d if d.size == 1 else None
    return host_value(node)


def _leaf_key(node):
    d = _host_scalar(node)
    if d is not None:
        return (node.shape, id(node.dtype), d.tobytes())
    return (node.shape, id(node.dtype))


def run(order, gpu, use_stream, device_data, run_program):
    """Evaluate `order` as a program if its key has been met before; False if the
    caller should evaluate it node by node (then nothing here has changed any node)."""
    if not MIN_NODES <= len(order) <= MAX_NODES:
        return False
    sig = _signature(order, gpu)
    if sig is None:
        return False
    key, leaves, external = sig
    try:
        state = _programs.get(key, 0)
    except TypeError:  # a primitive parameter that does not hash
        return False
    if state.__class__ is int:
        if state == 0:
            if len(_programs) >= MAX_PROGRAMS:
                _programs.clear()
            _programs[key] = 1
            return False
        state = _programs[key] = _build(order, leaves, external)
    if state is False:
        return False
    use_stream(order[0].stream)
    try:
        inputs = [device_data(leaves[k]) for k in state.input_leaves]
        outs = run_program(state.program, inputs)
    except Exception:  # noqa: BLE001 - node by node gives the error its usual form
        _debug("running")
        _programs[key] = False
        return False
    for k, data in zip(state.output_nodes, outs):
        order[k].set_data(data)
    for k in range(len(order)):
        node = order[k]
        order[k] = None
        node.prim = None
        node.inputs = None
        node.siblings = None
    return True


def _build(order, leaves, external):
    """The _Entry of this graph's program, or False."""
    from .transforms import compiler as C
    try:
        values = []
        consts = {}
        input_leaves = []
        slot = {}
        scalars = [_host_scalar(leaf) for leaf in leaves]
        for k, leaf in enumerate(leaves):
            if scalars[k] is None:
                slot[id(leaf)] = len(values)
                values.append(C.Value(leaf.shape, leaf.dtype))
                input_leaves.append(k)
        n_inputs = len(values)
        for leaf, value in zip(leaves, scalars):
            if value is not None:
                slot[id(leaf)] = len(values)
                values.append(C.Value(leaf.shape, leaf.dtype))
                consts[slot[id(leaf)]] = value
        instrs = []
        for node in order:
            if id(node) in slot:
                continue  # a sibling of a node met before
            outs = node.siblings if node.siblings is not None else (node,)
            out_slots = []
            for o in outs:
                slot[id(o)] = len(values)
                values.append(C.Value(o.shape, o.dtype))
                out_slots.append(slot[id(o)])
            instrs.append(C.Instr(node.prim, [slot[id(i)] for i in node.inputs], out_slots))
        output_nodes = [k for k, e in enumerate(external) if e]
        prog = C.Program(n_inputs, values, consts, instrs,
                         [slot[id(order[k])] for k in output_nodes])
        for p in (C.remove_noops, C.cse, C.fuse, C.prune):
            prog = p(prog)
        C.plan(prog)
        prog.exact = True
    except Exception:  # noqa: BLE001 - a graph the passes do not take runs node by node
        _debug("building")
        return False
    entry = _Entry()
    entry.program = prog
    entry.input_leaves = input_leaves
    entry.output_nodes = output_nodes
    return entry


def _debug(what):
    if os.environ.get("MLXPY_DEBUG_GRAPHS"):
        import traceback
        print(f"eager program failed while {what}:", file=sys.stderr)
        traceback.print_exc()


def clear():
    _programs.clear()
