"""`mx.compile`: trace once, simplify, fuse, and replay a flat program.

The chain of passes, each a function of a `Program` that can be tested alone:

    trace -> fold_constants -> remove_noops -> rewrite_algebra -> cse -> fuse -> prune

A compiled call builds one `Compiled` node whose evaluation runs the program, so
results stay lazy like every other op. Called on transform tracers (inside grad,
vmap or another compile) a compiled function runs `fun` itself, so every transform
sees the ordinary graph.

>>> import mlxpy.core as mx
>>> f = mx.compile(lambda x, y: mx.exp(x) * y + 1)
>>> f(mx.array([0.0, 1.0]), mx.array(2.0))
array([3, 6.43656], dtype=float32)
"""
import os
import sys
import weakref
import numpy as np

from .. import dtypes as _dt
from ..array import array, wrap
from ..device import current_stream
from ..eval import eval_nodes
from ..graph import Node, graph_sort, trace_state
from ..primitives.base import Primitive
from .tree import flatten_arrays, replace_arrays
from .vmap import placeholders

_state = {"enabled": os.environ.get("MLX_DISABLE_COMPILE", "").lower() not in
          ("1", "true", "yes", "on")}
_LOG = os.environ.get("MLXPY_LOG_COMPILES", "").lower() in ("1", "true", "yes", "on")


def disable_compile():
    """Make every compiled function run its Python function directly."""
    _state["enabled"] = False


def enable_compile():
    """Undo `disable_compile` (the MLX_DISABLE_COMPILE variable is read at import)."""
    _state["enabled"] = True


def set_compile_logging(flag):
    """Log every trace of a compiled function, with the reason for the cache miss."""
    global _LOG
    _LOG = bool(flag)


# -- the program -----------------------------------------------------------------------

class Instr:
    """One step: `prim` applied to value slots `ins`, writing value slots `outs`."""
    __slots__ = ("prim", "ins", "outs")

    def __init__(self, prim, ins, outs):
        self.prim = prim
        self.ins = ins
        self.outs = outs

    def __repr__(self):
        return f"{self.outs} = {self.prim!r}{self.ins}"


class Value:
    """Static facts about a slot: shape and dtype (as a node would have them)."""
    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = shape
        self.dtype = dtype


class Program:
    """A flat program over numbered value slots.

    Slots 0..n_inputs-1 are the inputs; `consts` maps further slots to data; `instrs`
    run in order; `outputs` are the slots returned.
    """

    def __init__(self, n_inputs, values, consts, instrs, outputs):
        self.n_inputs = n_inputs
        self.values = values
        self.consts = consts
        self.instrs = instrs
        self.outputs = outputs
        self.plan = None
        self.gpu_graphs = None  # CUDA graphs of this program (backend/cuda_graphs.py)
        # Exact: the bits of evaluating its steps one by one (eager_programs.py), so no
        # reduction is fused into the region before it (that sums in another order).
        self.exact = False

    def __repr__(self):
        lines = [f"inputs: {list(range(self.n_inputs))}",
                 f"consts: {sorted(self.consts)}"]
        lines += [f"  {i!r}" for i in self.instrs]
        lines.append(f"outputs: {self.outputs}")
        return "\n".join(lines)


def trace_program(fun_on_arrays, example_inputs):
    """Run `fun_on_arrays(list_of_placeholders) -> list of arrays` and record a Program.

    Work that does not depend on an input is evaluated now and becomes a constant.
    """
    holders = [Node(x.shape, x.dtype, None, (), x._node.stream) for x in example_inputs]
    with placeholders("compile"):
        outs = fun_on_arrays([wrap(h) for h in holders])
    out_nodes = [o._node for o in outs]
    stop = {id(h) for h in holders}
    order = graph_sort(out_nodes, stop)
    slot = {id(h): k for k, h in enumerate(holders)}
    values = [Value(h.shape, h.dtype) for h in holders]
    depends = set(stop)
    constant_nodes = []
    for n in order:
        if id(n) in depends:
            continue
        if n.inputs and any(id(i) in depends for i in n.inputs):
            depends.add(id(n))
        else:
            constant_nodes.append(n)
    # Constants: evaluate what is lazy (outside the placeholder context, so closures'
    # lazy arrays compute), then give each a slot.
    eval_nodes([n for n in constant_nodes if n.data is None and n.prim is not None])
    consts = {}
    instrs = []
    for n in order:
        key = id(n)
        if key in slot:
            continue
        if key not in depends:
            if n.data is None:
                continue  # an unused sibling of a constant multi-output node
            slot[key] = len(values)
            values.append(Value(n.shape, n.dtype))
            consts[slot[key]] = _on_host(n.data)
            continue
        outs_nodes = n.siblings if n.siblings is not None else (n,)
        if id(outs_nodes[0]) in slot and key in slot:
            continue
        out_slots = []
        for o in outs_nodes:
            slot[id(o)] = len(values)
            values.append(Value(o.shape, o.dtype))
            out_slots.append(slot[id(o)])
        instrs.append(Instr(n.prim, [slot[id(i)] for i in n.inputs], out_slots))
    outputs = []
    for o in out_nodes:
        if id(o) not in slot:
            if o.data is None:
                eval_nodes([o])
            slot[id(o)] = len(values)
            values.append(Value(o.shape, o.dtype))
            consts[slot[id(o)]] = _on_host(o.data)
        outputs.append(slot[id(o)])
    return Program(len(holders), values, consts, instrs, outputs)


def _on_host(data):
    """A program's constants are kept as NumPy data; a GPU replay moves them once."""
    return data if isinstance(data, (np.ndarray, np.generic)) else data.get()


# -- passes -----------------------------------------------------------------------------

def _rename(prog, mapping):
    def r(s):
        while s in mapping:
            s = mapping[s]
        return s
    for ins in prog.instrs:
        ins.ins = [r(s) for s in ins.ins]
    prog.outputs = [r(s) for s in prog.outputs]


def fold_constants(prog):
    """Merge constant slots holding equal scalars (the 2.0 of `x * 2.0` made twice)."""
    seen = {}
    mapping = {}
    for s, data in list(prog.consts.items()):
        if getattr(data, "size", 2) != 1:
            continue
        try:
            key = (data.dtype.str, tuple(data.shape), data.tobytes())
        except AttributeError:
            continue
        if key in seen:
            mapping[s] = seen[key]
        else:
            seen[key] = s
    _rename(prog, mapping)
    return prog


def remove_noops(prog):
    """Drop identity steps (copies, casts to the same dtype)."""
    from ..primitives.transforms import Copy
    mapping = {}
    kept = []
    for ins in prog.instrs:
        p = ins.prim
        if isinstance(p, Copy) or (getattr(p, "dtype", None) is not None and type(p).__name__ == "AsType"
                                   and prog.values[ins.ins[0]].dtype is p.dtype):
            mapping[ins.outs[0]] = ins.ins[0]
            continue
        kept.append(ins)
    prog.instrs = kept
    _rename(prog, mapping)
    return prog


def rewrite_algebra(prog):
    """Cheaper equal forms: x ** k for a small constant integer k becomes multiplications
    (NumPy's float power is ~100x a multiply); x ** 0.5 becomes sqrt."""
    from ..primitives import elementwise as E
    out = []
    mul = E.Multiply()
    for ins in prog.instrs:
        if type(ins.prim) is E.Power and ins.ins[1] in prog.consts:
            exp = prog.consts[ins.ins[1]]
            base = ins.ins[0]
            bv = prog.values[base]
            if getattr(exp, "size", 0) == 1 and bv.dtype.kind == "f" and \
                    prog.values[ins.outs[0]].shape == bv.shape:
                e = float(exp.reshape(()))
                if e in (2.0, 3.0, 4.0):
                    sq = len(prog.values)
                    prog.values.append(Value(bv.shape, bv.dtype))
                    out.append(Instr(mul, [base, base], [sq]))
                    if e == 2.0:
                        prog.values.pop()
                        out[-1].outs = ins.outs
                    elif e == 3.0:
                        out.append(Instr(mul, [sq, base], ins.outs))
                    else:
                        out.append(Instr(mul, [sq, sq], ins.outs))
                    continue
                if e == 0.5:
                    out.append(Instr(E.Sqrt(), [base], ins.outs))
                    continue
        out.append(ins)
    prog.instrs = out
    return prog


def cse(prog):
    """Common subexpressions: equal primitives on equal inputs compute once."""
    seen = {}
    mapping = {}
    kept = []
    for ins in prog.instrs:
        ins.ins = [mapping.get(s, s) for s in ins.ins]
        try:
            key = (ins.prim, tuple(ins.ins))
            hash(key)
        except TypeError:
            kept.append(ins)
            continue
        if getattr(ins.prim, "random", False):
            kept.append(ins)
            continue
        prev = seen.get(key)
        if prev is not None:
            for a, b in zip(ins.outs, prev.outs):
                mapping[a] = b
            continue
        seen[key] = ins
        kept.append(ins)
    prog.instrs = kept
    prog.outputs = [mapping.get(s, s) for s in prog.outputs]
    return prog


def prune(prog):
    """Remove steps whose outputs nothing uses."""
    live = set(prog.outputs)
    kept = []
    for ins in reversed(prog.instrs):
        if any(o in live for o in ins.outs):
            kept.append(ins)
            live.update(ins.ins)
    kept.reverse()
    prog.instrs = kept
    prog.consts = {s: d for s, d in prog.consts.items() if s in live}
    return prog


def fuse(prog):
    """Fuse elementwise regions (see fusion.py); identity until fusion is available."""
    try:
        from .fusion import fuse_elementwise
    except ImportError:
        return prog
    return fuse_elementwise(prog)


PASSES = [fold_constants, remove_noops, rewrite_algebra, cse, fuse, prune]


def plan(prog):
    """Precompute, per step, the slots whose last use it is (freed right after)."""
    last = {}
    for k, ins in enumerate(prog.instrs):
        for s in ins.ins:
            last[s] = k
    keep = set(prog.outputs) | set(prog.consts) | set(range(prog.n_inputs))
    frees = [[] for _ in prog.instrs]
    for s, k in last.items():
        if s not in keep:
            frees[k].append(s)
    prog.plan = [(ins.prim, ins.ins, ins.outs, frees[k]) for k, ins in enumerate(prog.instrs)]
    return prog


def run_program(prog, xp, inputs):
    if xp.name != "numpy":
        return _run_on_gpu()(prog, inputs)
    regs = dict(prog.consts)
    for k, x in enumerate(inputs):
        regs[k] = x
    for prim, ins, outs, frees in prog.plan:
        store(regs, outs, prim.eval(xp, [regs[s] for s in ins]), frees)
    return [regs[s] for s in prog.outputs]


def store(regs, outs, out, frees):
    """A step's result `out` (one array, or one per slot) into its slots `outs`, then
    the slots whose last use the step was freed."""
    if len(outs) == 1:
        regs[outs[0]] = out
    else:
        for s, o in zip(outs, out):
            regs[s] = o
    for s in frees:
        del regs[s]


class Compiled(Primitive):
    """A compiled program as one primitive of many outputs."""
    compiled_only = True
    gpu_fallback = False  # each step decides for itself (device_eval.run_program_on_gpu)
    __slots__ = ("program", "shapeless")

    def __init__(self, program, shapeless):
        self.program = program
        self.shapeless = shapeless

    @property
    def num_outputs(self):
        return len(self.program.outputs)

    def params(self):
        return (id(self.program),)

    def infer(self, inputs):
        prog = self.program
        if not self.shapeless or all(i.shape == prog.values[k].shape
                                     for k, i in enumerate(inputs)):
            return [(prog.values[s].shape, prog.values[s].dtype) for s in prog.outputs]
        return infer_shapeless(prog, inputs)

    def eval(self, xp, inputs):
        return run_program(self.program, xp, inputs)


def infer_shapeless(prog, inputs):
    """Output shapes for new input shapes, re-running every step's shape rule."""
    vals = {}
    for k, i in enumerate(inputs):
        vals[k] = Value(i.shape, i.dtype)
    for s in prog.consts:
        vals[s] = prog.values[s]
    traced = prog.values
    for ins in prog.instrs:
        args = [vals[s] for s in ins.ins]
        p = ins.prim
        if not getattr(p, "shapeless_replay", True) and any(
                a.shape != traced[s].shape for a, s in zip(args, ins.ins)):
            raise ValueError(
                f"[compile] This function cannot be replayed with shapeless=True for these "
                f"input shapes: its {p.name} fixed an output shape from the traced input shape "
                f"{traced[ins.ins[0]].shape}. Compile it with shapeless=False.")
        res = p.infer(args)
        if isinstance(res, tuple) and len(res) == 2 and isinstance(res[1], _dt.Dtype):
            res = [res]
        for s, (shape, dtype) in zip(ins.outs, res):
            vals[s] = Value(shape, dtype)
    return [(vals[s].shape, vals[s].dtype) for s in prog.outputs]


# -- the user-facing wrapper --------------------------------------------------------------

_CONSTANT_TYPES = (int, float, bool, str, type(None))
_NO_KWARGS = (dict, ())


def _signature(tree, arrays, shapeless):
    """(hashable structure and constants, list of array leaves) of an argument tree."""
    t = type(tree)
    if t is array:
        arrays.append(tree)
        n = tree._node
        return (len(n.shape), n.dtype) if shapeless else (n.shape, n.dtype)
    if t is list or t is tuple:
        return (t, tuple(_signature(x, arrays, shapeless) for x in tree))
    if t is dict:
        return (dict, tuple((k, _signature(v, arrays, shapeless)) for k, v in tree.items()))
    if isinstance(tree, array):
        arrays.append(tree)
        return _signature(wrap(tree._node), [], shapeless)
    if isinstance(tree, (list, tuple)):
        return (tuple, tuple(_signature(x, arrays, shapeless) for x in tree))
    if isinstance(tree, dict):
        return (dict, tuple((k, _signature(v, arrays, shapeless)) for k, v in tree.items()))
    if t in _CONSTANT_TYPES:
        return (t, tree)
    raise ValueError("[compile] Function arguments must be trees of arrays or constants "
                     f"(floats, ints, strings, or None), but received type {t.__name__}.")


def _set_in_place(tree, arrays):
    """Write `arrays` into the array leaves of a captured state tree, in place."""
    it = iter(arrays)

    def rec(t):
        if isinstance(t, list):
            for k, x in enumerate(t):
                if isinstance(x, array):
                    t[k] = next(it)
                else:
                    rec(x)
        elif isinstance(t, dict):
            for k, x in list(t.items()):
                if isinstance(x, array):
                    t[k] = next(it)
                else:
                    rec(x)
        elif isinstance(t, tuple):
            for x in t:
                if isinstance(x, array):
                    raise ValueError("[compile] Captured state must be held in lists or dicts "
                                     "so that it can be updated; found an array in a tuple.")
                rec(x)
    rec(tree)


def _run_on_gpu():
    global _run_on_gpu
    from ..device_eval import run_program_on_gpu
    _run_on_gpu = lambda: run_program_on_gpu  # noqa: E731
    return run_program_on_gpu


def _make_multi():
    # Imported on first use (ops import this module); an import statement in the call
    # path would cost a microsecond per call.
    global _make_multi
    from ..ops._core import make_multi
    _make_multi = lambda: make_multi  # noqa: E731
    return make_multi


def _array_slots(tree):
    """(container, key, array) for every array leaf held in a list or dict of `tree`."""
    slots = []

    def rec(t):
        if isinstance(t, (list, dict)):
            for k, x in (enumerate(t) if isinstance(t, list) else list(t.items())):
                if isinstance(x, array):
                    slots.append((t, k, x))
                else:
                    rec(x)
        elif isinstance(t, tuple):
            for x in t:
                rec(x)
    rec(tree)
    return slots


class CompiledFunction:
    """What `mx.compile` returns: calls `fun` through a per-signature cache of programs."""

    def __init__(self, fun, inputs=None, outputs=None, shapeless=False):
        self.fun = fun
        self.inputs = inputs
        self.outputs = outputs
        self.shapeless = bool(shapeless)
        self._cache = {}
        self.trace_count = 0
        try:
            self.__name__ = getattr(fun, "__name__", "compiled")
            self.__doc__ = getattr(fun, "__doc__", None)
            self.__wrapped__ = fun
        except AttributeError:
            pass

    def __get__(self, obj, objtype=None):
        # Compiled methods bind like functions.
        if obj is None:
            return self
        import functools
        return functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if not _state["enabled"] or trace_state.depth > 0:
            return self.fun(*args, **kwargs)
        if not kwargs and not self.shapeless and all(type(a) is array for a in args):
            # The common call, f(x, y, ...) on arrays: the signature _signature builds.
            arrays = list(args)
            sig = (tuple, ((tuple, tuple([(a._node.shape, a._node.dtype) for a in args])),
                           _NO_KWARGS))
        else:
            arrays = []
            sig = _signature((args, kwargs), arrays, self.shapeless)
        n_args = len(arrays)
        cap_sig = None
        if self.inputs is not None:
            cap_sig = _signature(self.inputs, arrays, self.shapeless)
        key = (current_stream(), sig, cap_sig)
        entry = self._cache.get(key)
        if entry is None:
            if _LOG:
                self._log_miss(key)
            entry = self._trace(args, kwargs, arrays, n_args)
            self._cache[key] = entry
        prog, out_tree, n_out, prim = entry
        nodes = [a._node for a in arrays]
        if prim.num_outputs == 0:
            results = []
        else:
            results = _make_multi()(prim, nodes, key[0])
        outs = results[:n_out]
        if self.outputs is not None:
            _set_in_place(self.outputs, results[n_out:])
        return replace_arrays(out_tree, outs)

    def _trace(self, args, kwargs, arrays, n_args):
        self.trace_count += 1
        box = {}
        captured_in = self.inputs
        # Restored by position after tracing: the traced function may add entries to
        # the captured state (an optimizer's state on its first step), which then come
        # back through `outputs`.
        saved_in = _array_slots(captured_in) if captured_in is not None else []

        def traced(holders):
            a, kw = replace_arrays((args, kwargs), holders[:n_args])
            if captured_in is not None:
                _set_in_place(captured_in, holders[n_args:])
            try:
                out = self.fun(*a, **kw)
                flat = flatten_arrays(out, strict=True, where="compile")
                state = flatten_arrays(self.outputs) if self.outputs is not None else []
            finally:
                for container, k, value in saved_in:
                    container[k] = value
            box["tree"] = out
            box["n"] = len(flat)
            return flat + state

        prog = trace_program(traced, arrays)
        for p in PASSES:
            prog = p(prog)
        plan(prog)
        out_tree = box["tree"]
        return prog, out_tree, box["n"], Compiled(prog, self.shapeless)

    def _log_miss(self, key):
        stream, sig, cap = key
        if not self._cache:
            reason = "first call"
        else:
            reasons = []
            for k in self._cache:
                if k[0] != stream:
                    reasons.append("the default device/stream changed")
                elif k[1] != sig:
                    reasons.append(_describe_difference(k[1], sig))
                elif k[2] != cap:
                    reasons.append("the captured inputs' shapes or dtypes changed")
            reason = "; ".join(sorted(set(reasons)))
        print(f"[compile] tracing {getattr(self.fun, '__qualname__', self.fun)!s}: {reason}",
              file=sys.stderr)


def _describe_difference(old, new, path="args"):
    if type(old) is not type(new) or (isinstance(old, tuple) and len(old) != len(new)):
        return f"{path}: the argument structure changed"
    if isinstance(old, tuple) and len(old) == 2 and isinstance(old[1], _dt.Dtype):
        if old[1] is not new[1]:
            return f"{path}: dtype {old[1].name} -> {new[1].name}"
        return f"{path}: shape {old[0]} -> {new[0]}"
    if isinstance(old, tuple) and len(old) == 2 and old[0] in _CONSTANT_TYPES:
        return f"{path}: constant {old[1]!r} -> {new[1]!r}"
    if isinstance(old, tuple):
        for k, (a, b) in enumerate(zip(old, new)):
            if a != b:
                return _describe_difference(a, b, f"{path}[{k}]")
    return f"{path}: changed"


def compile(fun, inputs=None, outputs=None, shapeless=False):
    """A compiled version of `fun`: same results, traced once per input signature.

    `inputs` and `outputs` are trees (lists/dicts) of arrays that `fun` reads and
    updates implicitly, such as a model's parameters or `mx.random.state`.

    >>> import mlxpy.core as mx
    >>> gelu = mx.compile(lambda x: 0.5 * x * (1 + mx.tanh(0.79788456 * (x + 0.044715 * x ** 3))))
    >>> gelu(mx.array([1.0]))
    array([0.841192], dtype=float32)
    """
    if not callable(fun):
        raise TypeError("[compile] fun must be callable.")
    return CompiledFunction(fun, inputs, outputs, shapeless)


def export_to_dot(file, *outputs):
    """Write the graph behind `outputs` (arrays or trees of arrays) in Graphviz DOT."""
    roots = [a._node for a in flatten_arrays(list(outputs))]
    order = graph_sort(roots)
    ids = {id(n): f"n{k}" for k, n in enumerate(order)}
    lines = ["digraph {"]
    for n in order:
        label = type(n.prim).__name__ if n.prim is not None else (
            "input" if n.data is None else "constant")
        shape = "x".join(str(d) for d in n.shape) or "scalar"
        lines.append(f'  {ids[id(n)]} [label="{label}\\n{shape} {n.dtype.name}"];')
        for i in n.inputs or ():
            lines.append(f"  {ids[id(i)]} -> {ids[id(n)]};")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    if hasattr(file, "write"):
        file.write(text)
    else:
        with open(file, "w") as fh:
            fh.write(text)
