"""Process settings and queries outside the array graph: print options, device
counts and descriptions, buffer sizes, the wired-memory limit, thread-local streams.

>>> import mlxpy.core as mx
>>> with mx.printoptions(precision=2):
...     print(mx.array([1.23456]))
array([1.23], dtype=float32)
"""
import os
import platform
import threading

from .device import (Device, DeviceType, Stream, cpu, gpu, _cuda_usable, new_stream,
                     to_device, stream as _stream_context, default_device)

__all__ = ["PrintOptions", "set_printoptions", "get_printoptions", "printoptions",
           "device_count", "device_info", "get_array_buffer_size", "set_wired_limit",
           "ThreadLocalStream", "new_thread_local_stream", "new_thread_unsafe_stream",
           "StreamContext", "ArrayLike", "ArrayIterator"]


# -- printing --------------------------------------------------------------------------------

class PrintOptions:
    """Array printing options: `precision` (-1: the default 6 significant digits;
    otherwise that many digits after the point, in fixed notation)."""
    __slots__ = ("precision",)

    def __init__(self, precision=-1):
        self.precision = _precision(precision, "PrintOptions")

    def __repr__(self):
        return f"PrintOptions(precision={self.precision})"


def _precision(precision, where):
    if isinstance(precision, bool) or not isinstance(precision, int):
        raise TypeError(f"[{where}] precision must be an int, got {type(precision).__name__}.")
    return precision


# Global, as in MLX: one setting for every thread. `array.__repr__` reads it.
print_options = PrintOptions()


def set_printoptions(precision=-1):
    """Set how many digits arrays print after the point (-1 restores the default).

    >>> import mlxpy.core as mx
    >>> mx.set_printoptions(precision=3)
    >>> mx.array([1.0, 2.5])
    array([1.000, 2.500], dtype=float32)
    >>> mx.set_printoptions()
    """
    print_options.precision = _precision(precision, "set_printoptions")


def get_printoptions():
    """A copy of the current print options.

    >>> import mlxpy.core as mx
    >>> mx.get_printoptions().precision
    -1
    """
    return PrintOptions(print_options.precision)


class _PrintOptionsContext:
    __slots__ = ("precision", "saved")

    def __init__(self, precision):
        self.precision = _precision(precision, "printoptions")
        self.saved = None

    def __enter__(self):
        self.saved = print_options.precision
        print_options.precision = self.precision
        return self

    def __exit__(self, *exc):
        print_options.precision = self.saved
        return False


def printoptions(precision=-1):
    """A context manager that sets print options for its block (see the module example)."""
    return _PrintOptionsContext(precision)


# -- devices and memory ----------------------------------------------------------------------

def device_count(device_type):
    """How many devices of `device_type` this process can use.

    >>> import mlxpy.core as mx
    >>> mx.device_count(mx.cpu)
    1
    """
    if not isinstance(device_type, DeviceType):
        raise TypeError(f"[device_count] Expected a DeviceType, got {type(device_type).__name__}.")
    if device_type is cpu:
        return 1
    if not _cuda_usable():
        return 0
    import cupy
    return int(cupy.cuda.runtime.getDeviceCount())


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_info(d=None):
    """A dict describing device `d` (default: the default device); empty for a GPU
    this process cannot use.

    >>> import mlxpy.core as mx
    >>> sorted(mx.device_info(mx.cpu))
    ['architecture', 'device_name']
    """
    d = default_device() if d is None else to_device(d)
    if d.type is cpu:
        return {"architecture": platform.machine(), "device_name": _cpu_name()}
    if not _cuda_usable():
        return {}
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(d.index)
    name = props["name"]
    return {"device_name": name.decode() if isinstance(name, bytes) else name,
            "architecture": f"sm_{props['major']}{props['minor']}",
            "total_memory": int(props["totalGlobalMem"])}


def _leaves(tree, out):
    if isinstance(tree, (list, tuple)):
        for t in tree:
            _leaves(t, out)
    elif isinstance(tree, dict):
        for t in tree.values():
            _leaves(t, out)
    else:
        out.append(tree)


def get_array_buffer_size(*args):
    """The bytes of the distinct buffers behind the arrays in `args` (trees of arrays;
    other leaves are ignored). The arrays must be evaluated.

    >>> import mlxpy.core as mx
    >>> a = mx.arange(10)
    >>> mx.eval(a)
    >>> mx.get_array_buffer_size(a, [a, {"b": a}])
    40
    """
    from .array import array
    leaves = []
    _leaves(args, leaves)
    seen = {}
    for x in leaves:
        if not isinstance(x, array):
            continue
        data = x._node.data
        if data is None:
            raise ValueError("[get_array_buffer_size] Arrays must be evaluated before "
                             "querying buffer size.")
        root = data
        while getattr(root, "base", None) is not None and hasattr(root.base, "nbytes"):
            root = root.base
        seen[id(root)] = int(getattr(root, "nbytes", 0))
    return sum(seen.values())


_wired_limit = 0
_wired_lock = threading.Lock()


def set_wired_limit(limit):
    """Record a wired-memory limit in bytes and return the previous one. Only Apple
    silicon wires memory, so the value changes nothing here.

    >>> import mlxpy.core as mx
    >>> previous = mx.set_wired_limit(0)
    """
    global _wired_limit
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"[set_wired_limit] limit must be an int, got {type(limit).__name__}.")
    if limit < 0:
        raise TypeError("[set_wired_limit] limit must be a non-negative int.")
    with _wired_lock:
        previous, _wired_limit = _wired_limit, limit
    return previous


# -- streams ---------------------------------------------------------------------------------

class ThreadLocalStream(Stream):
    """A stream that stands for a separate stream in each thread. mlxpy runs a stream's
    work in the thread that evaluates it, so it behaves as an ordinary stream."""
    __slots__ = ()

    def __repr__(self):
        return f"ThreadLocalStream({self.device!r}, {self.index})"

    __str__ = __repr__


def new_thread_local_stream(device):
    """A new stream on `device` that is distinct in every thread.

    >>> import mlxpy.core as mx
    >>> s = mx.new_thread_local_stream(mx.cpu)
    >>> mx.add(mx.array(1), 1, stream=s)
    array(2, dtype=int32)
    """
    s = new_stream(device)
    return ThreadLocalStream(s.device, s.index)


def new_thread_unsafe_stream(device):
    """A new stream on `device` that any thread may use (mlxpy's streams all may)."""
    return new_stream(device)


class StreamContext:
    """A context manager that makes a stream or device the default for its block;
    `mx.stream(s)` is the usual spelling.

    >>> import mlxpy.core as mx
    >>> with mx.StreamContext(mx.cpu):
    ...     mx.default_device()
    Device(cpu, 0)
    """

    def __init__(self, s):
        self._context = _stream_context(s)

    def __enter__(self):
        self._context.__enter__()
        return None

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)


class _ArrayLikeMeta(type):
    def __instancecheck__(cls, obj):
        from .array import array
        return isinstance(obj, array) or hasattr(type(obj), "__mlx_array__")


class ArrayLike(metaclass=_ArrayLikeMeta):
    """Any object with an ``__mlx_array__`` method returning an array (and arrays
    themselves); for `isinstance` checks and annotations.

    >>> import mlxpy.core as mx
    >>> isinstance(mx.array(1), mx.ArrayLike)
    True
    """

    def __init__(self, arg, /):
        self.arg = arg


class ArrayIterator:
    """An iterator over the first axis of an array.

    >>> import mlxpy.core as mx
    >>> list(mx.ArrayIterator(mx.array([[1, 2], [3, 4]])))
    [array([1, 2], dtype=int32), array([3, 4], dtype=int32)]
    """

    def __init__(self, a):
        if not a.ndim:
            raise TypeError("iteration over a 0-d array")
        self._array = a
        self._index = 0

    def __iter__(self):
        return self

    def __next__(self):
        if self._index >= self._array.shape[0]:
            raise StopIteration
        self._index += 1
        return self._array[self._index - 1]
