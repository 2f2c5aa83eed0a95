"""Evaluation: walk the sorted graph and run each primitive on its backend.

>>> import mlxpy.core as mx
>>> y = mx.ones(3) * 2      # nothing computed yet
>>> mx.eval(y)              # now it is
>>> y
array([2, 2, 2], dtype=float32)
"""
import threading
from operator import attrgetter
from concurrent.futures import ThreadPoolExecutor

from .backend import array_module
from .device import DeviceType
from .graph import memory, topo_sort, trace_state

# One evaluation at a time: evaluation writes nodes' data and detaches their graph,
# so two threads (or the async worker and the main thread) evaluating overlapping
# graphs must not interleave. NumPy releases the GIL inside its kernels, so the
# async worker still overlaps with Python building the next graph.
_lock = threading.RLock()
_data_of = attrgetter("data")
_pending = []
_worker = None
# Per array module, each primitive class's `direct_ufunc` as a ufunc (or None): one
# dict lookup in the loop instead of two attribute lookups.
_direct_functions = {}


def _direct_function(xp, prim_class):
    """The ufunc a primitive's eval is exactly, or None. Functions that are not ufuncs
    (the backend's erf) take the general path, which checks whether the result owns
    its buffer."""
    name = prim_class.direct_ufunc
    if name is None:
        return None
    fn = getattr(xp, name)
    return fn if type(fn) is type(xp.add) else None


class _Devices:
    """`mixed` turns true once the GPU backend has been used in this process; then
    `run_mixed` is device_eval's evaluation loop."""
    mixed = False
    run_mixed = None


_devices = _Devices()


def eval_nodes(roots):
    """Compute every unevaluated node that `roots` depend on."""
    if _pending:
        _wait_pending()
    with _lock:
        _run(roots)


def _run(roots):
    order = topo_sort(roots)
    if not order:
        return
    if _devices.mixed:
        # Once the GPU is in use, data may live on either side: the general loop moves it.
        return _devices.run_mixed(order, 0, None, trace_state.depth > 0)
    keep_graph = trace_state.depth > 0
    last_stream = None
    xp = None
    for i in range(len(order)):
        node = order[i]
        # Dropping the schedule's reference lets an intermediate's buffer go as soon
        # as its last consumer has run and detached.
        order[i] = None
        if node.data is not None:
            continue
        prim = node.prim
        if prim is None:
            raise ValueError(_placeholder_message())
        if node.stream is not last_stream:
            last_stream = node.stream
            if last_stream.device.type is not DeviceType.cpu:
                from .device_eval import run_mixed
                return run_mixed(order, i, node, keep_graph)
            xp = array_module(last_stream.device.type)
            direct_fns = _direct_functions.setdefault(xp, {})
        try:
            fn = direct_fns[type(prim)]
        except KeyError:
            fn = direct_fns[type(prim)] = _direct_function(xp, type(prim))
        if fn is not None:
            ins = node.inputs
            if len(ins) == 1:
                out = fn(ins[0].data)
            else:
                out = fn(ins[0].data, ins[1].data)
            # A ufunc's result is always a buffer of its own.
            n = out.nbytes
        elif node.siblings is None:
            out = prim.eval(xp, list(map(_data_of, node.inputs)))
            n = out.nbytes if out.base is None else 0
        else:
            for s, o in zip(node.siblings, prim.eval(xp, list(map(_data_of, node.inputs)))):
                s.set_data(o)
                if not keep_graph:
                    s.prim = None
                    s.inputs = None
                    # Siblings refer to each other: drop the cycle so that each
                    # output's buffer goes as soon as its own handle does.
                    s.siblings = None
            continue
        # set_data, inlined: this loop is the hot path of every evaluation.
        node.data = out
        if n:
            node.nbytes = n
            active = memory.active = memory.active + n
            if active > memory.peak:
                memory.peak = active
        if not keep_graph:
            node.prim = None
            node.inputs = None


def _placeholder_message():
    reason = trace_state.placeholder_reason or "a function transformation"
    return (f"[eval] Attempting to eval an array during {reason} is not allowed: the "
            "array is a placeholder without data. Move the evaluation (print, item(), "
            "tolist(), bool(), mx.eval) outside the transformed function.")


_array_class = []  # [mlxpy.core.array.array], set on first use (array.py imports this module)


def _tree_nodes(trees, out):
    """The nodes of the arrays in `trees`, in no particular order (evaluation sorts)."""
    if not _array_class:
        from .array import array as cls
        _array_class.append(cls)
    array = _array_class[0]
    append = out.append
    stack = list(trees)
    while stack:
        t = stack.pop()
        if type(t) is array or isinstance(t, array):
            append(t._node)
        elif isinstance(t, (list, tuple)):
            # A flat list of arrays is the common tree: its arrays are taken here,
            # only its other items go through the stack.
            for x in t:
                if type(x) is array:
                    append(x._node)
                else:
                    stack.append(x)
        elif isinstance(t, dict):
            stack.extend(t.values())
    return out


def eval(*trees):
    """Evaluate every array in the given pytrees (lists, tuples, dicts); other leaves are ignored."""
    eval_nodes(_tree_nodes(trees, []))


def async_eval(*trees):
    """Start evaluating the arrays in `trees` in the background and return at once.

    A later `eval`, `item()`, print or `synchronize` waits for it, and an error raised
    by the background evaluation surfaces there.

    >>> import mlxpy.core as mx
    >>> y = mx.ones(3) * 2
    >>> mx.async_eval(y)
    >>> y.tolist()
    [2.0, 2.0, 2.0]
    """
    global _worker
    if trace_state.depth > 0:
        raise ValueError("[async_eval] Not allowed inside a graph transformation.")
    nodes = _tree_nodes(trees, [])
    if not nodes:
        return
    if _worker is None:
        _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlxpy-async-eval")

    def job():
        with _lock:
            _run(nodes)
    _pending.append(_worker.submit(job))


# -- memory ------------------------------------------------------------------------

def get_active_memory():
    """Bytes held by live evaluated buffers."""
    return memory.active


def get_peak_memory():
    """The largest value `get_active_memory` has had since the last reset."""
    return memory.peak


def reset_peak_memory():
    memory.peak = memory.active


def _gpu_backend():
    """The CuPy backend module if the GPU has been used, else None."""
    if not _devices.mixed:
        return None
    from .backend import cupy_backend
    return cupy_backend


def get_cache_memory():
    """Bytes held in the allocator's cache: CuPy's memory pool keeps freed GPU buffers
    for reuse; NumPy returns freed buffers to the system (0)."""
    be = _gpu_backend()
    return be.cache_memory() if be is not None else 0


def set_memory_limit(limit):
    """Set the memory limit in bytes; returns the previous limit."""
    previous = memory.limit
    memory.limit = _check_bytes(limit, "set_memory_limit")
    be = _gpu_backend()
    if be is not None:
        be.set_memory_limit(memory.limit)
    return previous


def get_memory_limit():
    return memory.limit


def set_cache_limit(limit):
    """Set the cache limit in bytes; returns the previous limit."""
    previous = memory.cache_limit
    memory.cache_limit = _check_bytes(limit, "set_cache_limit")
    return previous


def clear_cache():
    """Release cached buffers: CuPy's pooled GPU memory (NumPy's backend keeps none)."""
    be = _gpu_backend()
    if be is not None:
        be.clear_cache()


def _check_bytes(limit, where):
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise TypeError(f"[{where}] The limit must be a non-negative integer number of bytes.")
    return limit


def _wait_pending():
    """Block until background evaluations have finished; re-raise the first error."""
    error = None
    while _pending:
        fut = _pending.pop(0)
        exc = fut.exception()
        if exc is not None and error is None:
            error = exc
    if error is not None:
        raise error
