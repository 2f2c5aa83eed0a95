"""The GPU backend: CuPy, plus what CuPy lacks, device moves, streams and memory.

Primitive `eval` rules are written once against an array module, so on the GPU they
receive this module and run on CuPy unchanged. What cannot (bfloat16, which CuPy has
no dtype for, and the few functions CuPy lacks) runs on the host instead: see
`eval.py`, which asks `runs_on_device` before each primitive.
"""
import numpy as np
import cupy as cp
import cupyx
import cupyx.scipy.special as _special

from . import ArrayModule, cuda_graphs, cuda_index

xp = ArrayModule(cp, "cupy")


def _in_double(fn):
    """fn computed in float64 and rounded once: correctly rounded for float32 and float16
    in practice, as the NumPy backend's own erf and erfinv are."""
    def wrapped(x):
        if x.dtype == np.float64:
            return fn(x)
        return fn(x.astype(np.float64)).astype(x.dtype)
    return wrapped


xp.erf = _in_double(_special.erf)
xp.erfinv = _in_double(_special.erfinv)


def scatter_apply(op, out, key, values):
    """out[key] = op(out[key], values) in place, with repeated positions applied in turn."""
    if op == "add" and out.dtype.kind in "fiu" and out.itemsize >= 2:
        cp.add.at(out, key, values)
        return
    # maximum, minimum and multiply, and dtypes CuPy's atomics lack (bool, int8,
    # complex): on the host, where NumPy applies repeats in order.
    host = out.get()
    getattr(np, op).at(host, to_host(key), to_host(values))
    out[...] = cp.asarray(host)


def scatter_set(out, key, values):
    """out[key] = values where the key may repeat a position. NumPy keeps the last write;
    CUDA threads race. Raising sends the primitive to the host (device_eval.py)."""
    raise NotImplementedError("an indexed write with array indices keeps NumPy's order")


# Float to integer casts: in range, CUDA and x86 agree. Out of range and nan are
# undefined in C; MLX's CPU results are x86's, which the CPU backend reproduces, so
# here the x86 results are rebuilt: a 32-bit conversion (invalid -> INT32_MIN) for
# types up to 32 bits, then the low bits; a 64-bit one for int64. (uint32 and uint64
# follow other instruction sequences and go to the host.)
_I32_MIN = -2 ** 31


def float_to_int(x, target):
    t = np.dtype(target)
    y = x.astype(np.float64)
    if t == np.int64:
        bad = ~(cp.abs(y) < 2.0 ** 63)
        return cp.where(bad, np.int64(-2 ** 63), cp.where(bad, 0, y).astype(np.int64))
    if t.itemsize <= 4 and t != np.uint32:
        bad = ~((y < 2.0 ** 31) & (y >= -2.0 ** 31))
        wide = cp.where(bad, np.int64(_I32_MIN), cp.where(bad, 0, y).astype(np.int64))
        return wide.astype(t)
    raise NotImplementedError(f"float to {t} casts follow x86 on the host")


xp.scatter_apply = scatter_apply
xp.scatter_set = scatter_set
xp.float_to_int = float_to_int
xp.take_along = cuda_index.take_along
xp.scatter_add_along = cuda_index.scatter_add_along


def to_host(x):
    """NumPy data for `x` (a CuPy array, a NumPy array, an index tuple, or a scalar)."""
    if isinstance(x, cp.ndarray):
        return x.get()
    if isinstance(x, tuple):
        return tuple(to_host(k) for k in x)
    return x


def to_device(x):
    return cp.asarray(x)


# -- streams -----------------------------------------------------------------------
#
# Stream 0 of the GPU is CUDA's default stream; other mlxpy streams get blocking CUDA
# streams of their own, which order themselves after the default stream's work. When
# evaluation moves from one CUDA stream to another, the new one waits on an event
# recorded on the old, so a consumer never reads a buffer its producer is still writing.

_cuda_streams = {}
_last = [None]


def use_stream(stream):
    """Make the CUDA stream of mlxpy `stream` current, ordered after earlier work."""
    cs = _cuda_streams.get(stream.index)
    if cs is None:
        cs = cp.cuda.Stream.null if stream.index == 0 else cp.cuda.Stream(non_blocking=False)
        _cuda_streams[stream.index] = cs
    previous = _last[0]
    if previous is not cs:
        if previous is not None:
            cs.wait_event(previous.record())
        _last[0] = cs
        cs.use()
    return cs


def synchronize(stream=None):
    if stream is None:
        cp.cuda.Device().synchronize()
    else:
        cs = _cuda_streams.get(stream.index)
        (cs or cp.cuda.Stream.null).synchronize()


# -- memory ------------------------------------------------------------------------

def cache_memory():
    """Pooled free memory, and the memory recorded CUDA graphs keep for their replays."""
    pool = cp.get_default_memory_pool()
    return pool.total_bytes() - pool.used_bytes() + cuda_graphs.cached_bytes()


def clear_cache():
    cuda_graphs.clear()
    cp.get_default_memory_pool().free_all_blocks()
    cp.get_default_pinned_memory_pool().free_all_blocks()


def set_memory_limit(limit):
    cp.get_default_memory_pool().set_limit(size=limit)


from .cuda_fusion import fuse_reductions, run_fused  # noqa: E402,F401

xp.run_fused = run_fused
