"""Evaluation once the GPU is in use: data moves to the device its consumer runs on.

The CPU-only loop in `eval.py` stays as lean as it is; this loop takes over once a
node of a GPU stream is evaluated. Each node runs on its stream's device, and an input
whose data lives on the other side is moved first (a host array moved to the GPU
replaces the node's data, so a constant crosses once, not at every use).

Some work runs on the host even for a GPU node, with its result moved back:
- bfloat16, which CuPy has no dtype for (bfloat16 data always lives on the host);
- a primitive whose `eval` needs something CuPy lacks: the first attempt that fails
  with AttributeError / TypeError / NotImplementedError marks the primitive (its type
  and parameters) as host-only. Retrying is safe because `eval` rules are pure.
Set MLXPY_LOG_HOST_FALLBACK=1 to print each such primitive once.
"""
import os
import sys
import weakref

import numpy as np

from .backend import array_module
from .device import DeviceType
from . import dtypes as _dt
from .graph import memory

from .primitives import elementwise as _E

_ELEMENTWISE = (_E.Unary, _E.Binary)
_cpu = DeviceType.cpu
_gpu = DeviceType.gpu
_numpy_xp = None
_gpu_backend = None
# type -> set of params() whose eval must run on the host (empty set: every params)
_host_only = {}
_LOG = os.environ.get("MLXPY_LOG_HOST_FALLBACK", "") not in ("", "0")


def _gpu_module():
    global _gpu_backend, _numpy_xp
    if _gpu_backend is None:
        from .backend import cupy_backend
        from .eval import _devices
        _numpy_xp = array_module(_cpu)
        _gpu_backend = cupy_backend
        array_module(_gpu)
        _devices.run_mixed = staticmethod(run_mixed)
        global _Compiled, _FusedElementwise, _run_fused, _graphs, _store, _eager_programs
        from . import eager_programs as _eager_programs
        from .backend import cuda_graphs as _graphs
        from .transforms.compiler import Compiled as _Compiled, store as _store
        from .transforms.fusion import FusedElementwise as _FusedElementwise
        _run_fused = cupy_backend.run_fused
        global _FALLBACK_ERRORS
        _FALLBACK_ERRORS += (cupy_backend.cp.cuda.compiler.CompileException,)
        _devices.mixed = True
    return _gpu_backend


_FALLBACK_ERRORS = (AttributeError, TypeError, NotImplementedError)
# Set when the GPU backend loads (importing them here would be circular).
_Compiled = _FusedElementwise = _run_fused = _graphs = _store = _eager_programs = None


def host_data(node):
    d = node.data
    if type(d) is np.ndarray or isinstance(d, (np.ndarray, np.generic)):
        return d
    return d.get()


def device_data(node, cp_ndarray):
    d = node.data
    if type(d) is not cp_ndarray:
        d = _moved(node, d)
    return d


# One-element constants that moved to the GPU keep their host value here, so that the
# transforms' rule cache can key them by value without waiting on the GPU to read it.
_host_values = weakref.WeakKeyDictionary()


def _moved(node, d):
    """node's host data `d` moved to the GPU, in place of its data."""
    g = _gpu_backend.to_device(d)
    if node.prim is None and getattr(d, "size", 0) == 1:
        _host_values[node] = d
    node.data = g
    return g


def host_value(node):
    """The host copy of a one-element constant that moved to the GPU, or None."""
    return _host_values.get(node)


_UNUSUAL = frozenset((_dt.bfloat16, _dt.float16, _dt.complex64))


def _must_run_on_host(prim, dtypes):
    if prim.host_only:
        return True
    unusual = False
    for d in dtypes:
        if d in _UNUSUAL:
            unusual = True
            break
    if unusual:
        if _dt.bfloat16 in dtypes:
            return True
        if _dt.complex64 in dtypes and isinstance(prim, _ELEMENTWISE):
            # CuPy's complex functions differ from NumPy's at the edges (log of 0, overflow)
            return True
        if prim.host_dtypes and any(d in prim.host_dtypes for d in dtypes):
            return True
    variants = _host_only.get(type(prim))
    if variants is None:
        return False
    return not variants or prim.params() in variants


def _mark_host_only(prim, error):
    try:
        key = prim.params()
        hash(key)
    except TypeError:
        _host_only[type(prim)] = set()
        key = None
    else:
        _host_only.setdefault(type(prim), set()).add(key)
    if _LOG:
        print(f"[mlxpy] {prim.name}{'' if key is None else key} runs on the host: "
              f"{type(error).__name__}: {error}", file=sys.stderr)


def eval_on_gpu(prim, datas, dtypes, on_host=None):
    """prim's outputs for input data on either side; results on the GPU (bfloat16: host).
    `on_host`: the caller's `_must_run_on_host(prim, dtypes)`, if it asked already."""
    be = _gpu_backend
    cp_ndarray = be.cp.ndarray
    if not prim.gpu_fallback:  # a whole program: its steps decide for themselves
        ins = [d if type(d) is cp_ndarray else be.to_device(d) for d in datas]
        return _on_device(prim.eval(be.xp, ins), cp_ndarray)
    if on_host is None:
        on_host = _must_run_on_host(prim, dtypes)
    if not on_host:
        ins = [d if type(d) is cp_ndarray else be.to_device(d) for d in datas]
        half = _dt.float16 in dtypes and isinstance(prim, _ELEMENTWISE) and \
            not isinstance(prim, _E.AsType)
        if half:
            # NumPy computes float16 elementwise functions in float32 and rounds once;
            # CuPy computes some in half precision. Do as NumPy does.
            ins = [d.astype(np.float32) if d.dtype == np.float16 else d for d in ins]
        try:
            out = prim.eval(be.xp, ins)
        except _FALLBACK_ERRORS as e:
            _mark_host_only(prim, e)
        else:
            if half and dtypes[-1] is _dt.float16:
                out = out.astype(np.float16)
            return _on_device(out, cp_ndarray)
    out = prim.eval(_numpy_xp, [be.to_host(d) for d in datas])
    return _on_device(out, cp_ndarray)


def _on_device(out, cp_ndarray):
    if isinstance(out, (list, tuple)):
        return [_one_on_device(o, cp_ndarray) for o in out]
    return _one_on_device(out, cp_ndarray)


def _one_on_device(o, cp_ndarray):
    if type(o) is cp_ndarray:
        return o
    o = np.asarray(o)
    if o.dtype == _dt.bfloat16.np:
        return o
    return _gpu_backend.to_device(o)


def _plain(prim, node, inputs):
    """Whether prim runs on CuPy with no special handling: no host-only mark, no
    dtype that needs care (bfloat16, float16, complex), not a whole program."""
    if prim.host_only or prim.host_dtypes or not prim.gpu_fallback or \
            type(prim) in _host_only:
        return False
    if node.dtype in _UNUSUAL or node.siblings is not None:
        return False
    for n in inputs:
        if n.dtype in _UNUSUAL:
            return False
    return True


def _node_dtypes(node):
    dts = [i.dtype for i in node.inputs]
    if node.siblings is None:
        dts.append(node.dtype)
    else:
        dts.extend(s.dtype for s in node.siblings)
    return dts


def run_mixed(order, start, first, keep_graph, fuse=True):
    """Evaluate order[start:] (order[start] may already be cleared: `first` is it)."""
    be = _gpu_module()
    cp_ndarray = be.cp.ndarray
    gxp = be.xp
    last_stream = None
    on_gpu = False
    regions = absorbed = None
    if fuse and EAGER_FUSION and not keep_graph and first is None and start == 0 and \
            len(order) > 1:
        if _eager_programs.ENABLED and _eager_programs.run(
                order, _gpu, be.use_stream, lambda n: device_data(n, cp_ndarray),
                run_program_on_gpu):
            if memory.active > memory.peak:
                memory.peak = memory.active
            return
        regions, absorbed = _eager_regions(order)
    for i in range(start, len(order)):
        node = order[i]
        order[i] = None
        if node is None:
            node = first
        if node.data is not None:
            continue
        prim = node.prim
        if prim is None:
            from .eval import _placeholder_message
            raise ValueError(_placeholder_message())
        if regions:
            key = id(node)
            if key in absorbed:
                continue  # computed inside its consumer's region
            members = regions.pop(key, None)
            if members is not None:
                out = _run_region(node, members, cp_ndarray)
                if out is not None:
                    node.set_data(out)
                    node.prim = None
                    node.inputs = None
                    for m in members:
                        m.prim = None
                        m.inputs = None
                    continue
                # No kernel for it: its absorbed members run one by one first.
                run_mixed(members, 0, None, keep_graph, fuse=False)
                last_stream = None
        if node.stream is not last_stream:
            last_stream = node.stream
            on_gpu = last_stream.device.type is _gpu
            if on_gpu:
                be.use_stream(last_stream)
        if on_gpu:
            inputs = node.inputs
            if type(prim) is _Compiled:
                # A compiled program: its steps choose their own placement.
                out = run_program_on_gpu(prim.program, [device_data(n, cp_ndarray)
                                                        for n in inputs])
            elif _plain(prim, node, inputs):
                # The common case, kept lean: the primitive runs on CuPy as it is.
                datas = []
                for n in inputs:
                    d = n.data
                    if type(d) is not cp_ndarray:
                        d = _moved(n, d)
                    datas.append(d)
                try:
                    out = prim.eval(gxp, datas)
                except _FALLBACK_ERRORS as e:
                    _mark_host_only(prim, e)
                    out = eval_on_gpu(prim, datas, _node_dtypes(node))
                else:
                    if type(out) is not cp_ndarray:
                        out = _on_device(out, cp_ndarray)
            else:
                # One placement decision: inputs of GPU work move (and stay moved).
                dtypes = _node_dtypes(node)
                on_host = _must_run_on_host(prim, dtypes)
                if on_host:
                    datas = [n.data for n in inputs]
                else:
                    datas = [device_data(n, cp_ndarray) for n in inputs]
                out = eval_on_gpu(prim, datas, dtypes, on_host)
        else:
            out = prim.eval(_numpy_xp, [host_data(n) for n in node.inputs])
        siblings = node.siblings
        if siblings is None:
            node.set_data(out)
            if not keep_graph:
                node.prim = None
                node.inputs = None
        else:
            for s, o in zip(siblings, out):
                s.set_data(o)
                if not keep_graph:
                    s.prim = None
                    s.inputs = None
                    # Siblings refer to each other: drop the cycle so that each
                    # output's buffer goes as soon as its own handle does.
                    s.siblings = None
    if memory.active > memory.peak:
        memory.peak = memory.active



# -- eager fusion ------------------------------------------------------------------------
#
# An eager graph evaluated on the GPU often holds chains of elementwise ops whose
# intermediates nobody else can see: `maximum(x @ w.T + b, 0)`, the relu mask of its
# gradient (greater, astype, multiply), `w - lr * g`. Each such chain runs as one
# generated kernel (cuda_fusion), as compile's regions do: one launch instead of
# several, and no intermediate written to memory.
#
# A node joins its consumer's region when both are elementwise with ordinary dtypes
# on the same GPU stream and shape, the consumer is its only one in this evaluation,
# and nothing outside the graph holds it: its reference count is exactly that of the
# schedule and the consumer's inputs (an array handle, or a node of another pending
# graph, adds one), so no one can ever ask for its value. Regions are cached by their
# structure; a region without a CUDA form runs node by node.

EAGER_FUSION = os.environ.get("MLXPY_EAGER_FUSION", "1") not in ("0", "")
# Kernels (input layouts) one cached region may compile; past it, new layouts (a
# broadcast input of yet another shape) run node by node instead of compiling again.
MAX_REGION_LAYOUTS = 16
# Steps of one eager region at most (a 100,000-op chain is many kernels, not one).
MAX_REGION_STEPS = 128
_regions = {}  # structure key -> FusedElementwise, or False (no CUDA form)
_fusable_types = {}
_getrefcount = sys.getrefcount
# getrefcount(node) of an intermediate inside _eager_regions: the schedule's list, its
# consumer's inputs, the comprehension's variable and the call's own argument.
_BASE_REFS = 4


def _fusable(node):
    prim = node.prim
    cls = prim.__class__
    ok = _fusable_types.get(cls)
    if ok is None:
        ok = _fusable_types[cls] = isinstance(prim, (_E.Unary, _E.Binary, _E.Select)) and \
            prim.gpu_fallback and not prim.host_only and not prim.host_dtypes
    if not ok or node.siblings is not None or node.dtype in _UNUSUAL or cls in _host_only:
        return False
    if node.stream.device.type is not _gpu:
        return False
    for i in node.inputs:
        if i.dtype in _UNUSUAL:
            return False
    return True


def _eager_regions(order):
    """({id(root): absorbed members in order}, ids of absorbed nodes) for the
    elementwise chains of `order` (see above). Only ids refer to roots, so that the
    plan keeps no buffer alive."""
    uses = {}
    fusable = set()
    for node in order:
        if _fusable(node):
            fusable.add(id(node))
        for i in node.inputs:
            k = id(i)
            uses[k] = uses.get(k, 0) + 1
    if len(fusable) < 2:
        return None, None
    # Counted before anything below refers to a node.
    private = {id(node) for node in order
               if uses.get(id(node)) == 1 and _getrefcount(node) == _BASE_REFS}
    into = {}  # id(absorbed node) -> id(its consumer)
    for node in order:
        if id(node) in fusable:
            for i in node.inputs:
                k = id(i)
                if k in private and k in fusable and i.shape == node.shape and \
                        i.stream is node.stream:
                    into[k] = id(node)
    if not into:
        return None, None
    # Consumers come after their inputs: walking backwards, a consumer's region is known
    # when its inputs are met. A region stops growing at MAX_REGION_STEPS steps.
    root_of = {}
    size = {}
    members = {}
    for node in reversed(order):
        k = id(node)
        c = into.get(k)
        if c is not None:
            r = root_of[c]
            if size[r] < MAX_REGION_STEPS:
                root_of[k] = r
                size[r] += 1
                members[r].append(node)
                continue
            del into[k]  # the region is full: this node starts its own
        root_of[k] = k
        size[k] = 1
        members[k] = []
    regions = {}
    for k, m in members.items():
        if m:
            m.reverse()
            regions[k] = m
    return regions, into


def _region_of(root, members):
    """(cached FusedElementwise or False, its input nodes) for root and its members."""
    ref = {}
    inputs = []
    in_index = {}
    key = []
    steps = []
    for m in members + [root]:
        refs = []
        for i in m.inputs:
            r = ref.get(id(i))
            if r is None:
                k = in_index.get(id(i))
                if k is None:
                    k = in_index[id(i)] = len(inputs)
                    inputs.append(i)
                r = ("in", k)
            refs.append(r)
        out = ("t", len(steps))
        ref[id(m)] = out
        steps.append((m.prim, refs, out))
        key.append((m.prim, tuple(refs), id(m.dtype)))
    key.extend(id(i.dtype) for i in inputs)
    key = tuple(key)
    region = _regions.get(key)
    if region is None:
        region = _FusedElementwise(steps, [("t", len(steps) - 1)],
                                   [(root.shape, root.dtype)], root.shape)
        region.value_dtypes = [m.dtype for m in members] + [root.dtype]
        region.in_shapes = [i.shape for i in inputs]
        if len(_regions) > 4096:
            _regions.clear()
        _regions[key] = region
    return region, inputs


def _run_region(root, members, cp_ndarray):
    """The root's data from one kernel over its region, or None."""
    region, inputs = _region_of(root, members)
    if region is False:
        return None
    try:
        out = _run_fused(region, [device_data(n, cp_ndarray) for n in inputs],
                         max_layouts=MAX_REGION_LAYOUTS)
    except _FALLBACK_ERRORS:
        out = None
    if out is None:
        return None
    return out[0]

def run_program_on_gpu(prog, inputs):
    """A compiled program's steps, each on the GPU (or the host, as `eval_on_gpu` decides).

    The program's constants cross to the GPU once and stay with the program."""
    plan = getattr(prog, "gpu_plan", None)
    cp_ndarray = _gpu_backend.cp.ndarray
    if plan is None:
        values = prog.values
        plan = prog.gpu_plan = []
        steps = prog.plan if prog.exact else _gpu_backend.fuse_reductions(prog.plan,
                                                                          prog.outputs)
        for prim, ins, outs, frees in steps:
            dtypes = [values[s].dtype for s in ins] + [values[s].dtype for s in outs]
            plain = ((len(outs) == 1 or type(prim) is _FusedElementwise)
                     and not prim.host_only and not prim.host_dtypes
                     and prim.gpu_fallback and not (_UNUSUAL & set(dtypes)))
            plan.append((prim, ins, outs, frees, dtypes, plain))
        prog.gpu_consts = {s: _one_on_device(np.asarray(c), cp_ndarray)
                           for s, c in prog.consts.items()}
    if _graphs.ENABLED and len(plan) >= _graphs.MIN_STEPS:
        outs = _graphs.replay(prog, inputs, run_step)
        if outs is not None:
            return outs
    regs = dict(prog.gpu_consts)
    for k, x in enumerate(inputs):
        regs[k] = x
    for entry in plan:
        _store(regs, entry[2], run_step(entry, [regs[s] for s in entry[1]]), entry[3])
    return [regs[s] for s in prog.outputs]


def run_step(entry, args, strict=False):
    """The output (or outputs) of one GPU plan step on its input data.

    `strict` (while a CUDA graph records): the step must run on the device as it is;
    anything else raises instead of falling back to the host or marking anything."""
    prim, ins, outs, frees, dtypes, plain = entry
    if plain and type(prim) not in _host_only:
        try:
            out = None
            if type(prim) is _FusedElementwise:
                out = _run_fused(prim, args)
                if out is not None and len(out) == 1:
                    out = out[0]
            if out is None:
                out = prim.eval(_gpu_backend.xp, args)
        except _FALLBACK_ERRORS as e:
            if strict:
                raise
            _mark_host_only(prim, e)
            return eval_on_gpu(prim, args, dtypes)
        cp_ndarray = _gpu_backend.cp.ndarray
        if type(out) is not cp_ndarray:
            if strict and not (type(out) is list and all(type(o) is cp_ndarray for o in out)):
                raise TypeError("a step returned host data")
            out = _on_device(out, cp_ndarray)
        return out
    if strict:
        raise TypeError("a step that runs on the host")
    return eval_on_gpu(prim, args, dtypes)
