"""Programs replayed as CUDA graphs: one launch for all of a program's kernels.

A compiled program on the GPU costs host time per step: a CuPy call or a kernel launch
(5 to 25 us of Python and driver work each), so a program of 60 steps spends over a
millisecond queuing work, on a slow host more than the GPU needs to do it. After a
program has run `CAPTURE_AFTER` times with one input signature (shapes, dtypes, CUDA
stream), its steps are recorded once into CUDA graphs; later calls copy their inputs
into the recording's own input buffers, launch the graphs, and copy the outputs out.

Some steps cannot be recorded: CuPy refuses cuBLAS calls (matmul) during a recording,
and host work cannot be recorded at all. Such a step splits the program: the steps
between two of them form one graph, and the step itself runs as usual at each replay,
on the recording's buffers, its result copied into the buffer the next graph reads.

What keeps this safe:
- The graph's buffers (inputs, intermediates, outputs, the scratch space of CuPy's
  reductions) come from a memory pool of its own that nothing else allocates from, so
  a replay never writes memory that someone else holds. The pool is filled by one
  ordinary run just before the recording, so the recording itself allocates nothing.
- A step that fails while recording (a cuBLAS call, a read of device data on the
  host) ends the attempt; its primitive type is remembered as one that runs between
  graphs, and recording starts over. The steps run under CUDA's thread-local capture
  mode, so an unsafe call fails instead of recording something wrong; a program that
  still cannot be recorded runs step by step, as before, for that signature.
- Copies in and out, and the launch, are queued on the caller's stream, so successive
  replays and their consumers are ordered like any other work of that stream.

The cost: each signature keeps its buffers (about the program's peak memory) while the
program lives. All recordings together keep at most `MAX_FRACTION` of the device's
memory: a program whose buffers alone exceed it is not recorded, and past it the oldest
recordings are dropped (their programs then run step by step for that signature).
`clear_cache` drops every graph. `MLXPY_CUDA_GRAPHS=0` turns this off;
`MLXPY_DEBUG_GRAPHS=1` prints why a recording failed.
"""
import os
import weakref

import cupy as cp

ENABLED = os.environ.get("MLXPY_CUDA_GRAPHS", "1") not in ("0", "")
# Runs with one signature before the next one records a graph.
CAPTURE_AFTER = 2
# Programs with fewer steps gain nothing: copies in and out cost what a launch saves.
MIN_STEPS = 3
# Signatures (graphs) one program keeps at most; later ones run step by step.
MAX_PER_PROGRAM = 4
# Share of the device's memory that all recordings together may keep.
MAX_FRACTION = 0.25

_rt = cp.cuda.runtime
_D2D = _rt.memcpyDeviceToDevice
_memcpy = _rt.memcpyAsync
_get_stream = cp.cuda.get_current_stream
_empty = cp.empty
_matmul = cp.matmul
_MATMUL_INTO = (cp.float32, cp.float64)


class _Captured:
    """One recording: graphs and steps in order, its memory pool, its input and output
    buffers. A segment is a CUDA graph, or (plan entry, input buffers, output buffer,
    whether it is a matmul that can write into that buffer) for a step that runs
    between graphs."""
    __slots__ = ("segments", "pool", "inputs", "outputs", "nbytes")


class _NotRecordable(Exception):
    pass


# Primitive types whose steps run between graphs (found when a recording fails on one).
_between = set()
_MAX_ATTEMPTS = 6
_MODE = _rt.streamCaptureModeThreadLocal


def _copy(dst, src, stream_ptr):
    if src.flags.c_contiguous and dst.flags.c_contiguous:
        if src.nbytes:
            _memcpy(dst.data.ptr, src.data.ptr, src.nbytes, _D2D, stream_ptr)
    else:
        cp.copyto(dst, src)  # a strided view: a copy kernel on the current stream


def replay(prog, inputs, run_step):
    """The outputs of GPU program `prog` on `inputs` (CuPy arrays), replayed from its
    recording where it has one; None where the caller should run it step by step.

    `run_step(entry, args, strict)` runs one plan entry (see device_eval.run_step);
    the recordings live in `prog.gpu_graphs`."""
    graphs = prog.gpu_graphs
    stream = _get_stream()
    key = (stream.ptr, *[(x.shape, x.dtype) for x in inputs])
    if graphs is None:
        graphs = prog.gpu_graphs = {}
    state = graphs.get(key, 0)
    if state.__class__ is int:
        if state + 1 < CAPTURE_AFTER:
            if state == 0 and len(graphs) >= MAX_PER_PROGRAM:
                return None
            graphs[key] = state + 1
            return None
        state = graphs[key] = _capture(prog, inputs, run_step)
        if state is not False:
            _keep(prog, key, state.nbytes)
    if state is False:
        return None
    ptr = stream.ptr
    for dst, src in zip(state.inputs, inputs):
        _copy(dst, src, ptr)
    for seg in state.segments:
        if seg.__class__ is tuple:
            entry, args, static, into = seg
            if into:
                _matmul(args[0], args[1], out=static)
                continue
            out = run_step(entry, args)
            if static.__class__ is list:
                for d, o in zip(static, out):
                    if o.data.ptr != d.data.ptr:
                        _copy(d, o, ptr)
            elif out.data.ptr != static.data.ptr:
                _copy(static, out, ptr)
        else:
            seg.launch(stream)
    outs = []
    for o in state.outputs:
        r = _empty(o.shape, o.dtype)
        _copy(r, o, ptr)
        outs.append(r)
    return outs


def _record(prog, static, run_step, stream, capturing):
    """(segments, output buffers) of one pass over the plan. Not capturing, the same
    pass runs every step for real (and so fills the pool with the buffers it uses)."""
    from ..transforms.compiler import store
    regs = dict(prog.gpu_consts)
    for k, x in enumerate(static):
        regs[k] = x
    segments = []
    recording = False
    try:
        for entry in prog.gpu_plan:
            prim, ins, outs, frees = entry[:4]
            args = [regs[s] for s in ins]
            if not entry[5] or type(prim) in _between:
                if recording:
                    recording = False
                    segments.append(stream.end_capture())
                out = run_step(entry, args)
                if len(outs) == 1:
                    # A float matmul writes straight into its buffer (no copy after).
                    into = type(prim).__name__ == "Matmul" and out.dtype in _MATMUL_INTO \
                        and out.flags.c_contiguous and out.base is None
                    segments.append((entry, args, out, into))
                else:
                    segments.append((entry, args, list(out), False))
            else:
                if capturing and not recording:
                    stream.begin_capture(mode=_MODE)
                    recording = True
                try:
                    out = run_step(entry, args, True)
                except Exception:  # noqa: BLE001 - this step runs between graphs
                    _between.add(type(prim))
                    raise _NotRecordable
            store(regs, outs, out, frees)
        if recording:
            recording = False
            segments.append(stream.end_capture())
    finally:
        if recording:
            try:
                stream.end_capture()
            except Exception:  # noqa: BLE001 - the recording is dropped either way
                pass
    return segments, [regs[s] for s in prog.outputs]


def _capture(prog, inputs, run_step):
    """A _Captured for prog over inputs' signature, or False if it cannot be recorded."""
    caller = _get_stream()
    for _ in range(_MAX_ATTEMPTS):
        stream = cp.cuda.Stream(non_blocking=True)
        pool = cp.cuda.MemoryPool()
        try:
            with cp.cuda.using_allocator(pool.malloc), stream:
                stream.wait_event(caller.record())
                static = [_empty(x.shape, x.dtype) for x in inputs]
                for dst, src in zip(static, inputs):
                    _copy(dst, src, stream.ptr)
                # One ordinary pass fills the pool (and compiles what it needs), so that
                # the recorded pass finds every buffer it asks for already there.
                _record(prog, static, run_step, stream, False)
                stream.synchronize()
                if pool.total_bytes() > max_bytes():
                    return False  # a recording alone over the budget is not kept
                segments, outs = _record(prog, static, run_step, stream, True)
                stream.synchronize()
        except _NotRecordable:
            continue  # a step type learned to run between graphs: try again
        except Exception:  # noqa: BLE001 - anything else runs step by step
            if os.environ.get("MLXPY_DEBUG_GRAPHS"):
                import traceback
                traceback.print_exc()
            return False
        # Work queued after this on the caller's stream comes after the passes above.
        caller.wait_event(stream.record())
        if not any(s.__class__ is not tuple for s in segments):
            return False  # nothing recorded: every step runs between graphs
        cap = _Captured()
        cap.segments = segments
        cap.pool = pool
        cap.inputs = static
        cap.outputs = outs
        cap.nbytes = pool.total_bytes()
        return cap
    return False


# Recordings in the order they were made: (weak reference to the program, key, bytes).
_made = []
_max_bytes = None


def max_bytes():
    """The memory all recordings may hold together: MAX_FRACTION of the device's."""
    global _max_bytes
    if _max_bytes is None:
        _max_bytes = int(_rt.memGetInfo()[1] * MAX_FRACTION)
    return _max_bytes


def _keep(prog, key, nbytes):
    """Register a new recording; past max_bytes(), the oldest ones go (their programs
    run step by step for that signature from then on, rather than record again)."""
    _made.append((weakref.ref(prog), key, nbytes))
    total = cached_bytes()
    while total > max_bytes() and len(_made) > 1:
        ref, old_key, old_bytes = _made.pop(0)
        holder = ref()
        if holder is not None and holder.gpu_graphs and \
                holder.gpu_graphs.get(old_key).__class__ is _Captured:
            holder.gpu_graphs[old_key] = False
            total -= old_bytes


def cached_bytes():
    """Device memory held by recorded graphs."""
    total = 0
    alive = []
    for ref, key, nbytes in _made:
        holder = ref()
        if holder is not None and holder.gpu_graphs and \
                holder.gpu_graphs.get(key).__class__ is _Captured:
            total += nbytes
            alive.append((ref, key, nbytes))
    _made[:] = alive
    return total


def clear():
    """Drop every recorded graph (and the memory it holds)."""
    for ref, _, _ in _made:
        holder = ref()
        if holder is not None:
            holder.gpu_graphs = None
    _made.clear()
