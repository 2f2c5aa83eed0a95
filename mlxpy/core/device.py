"""Devices, streams, and the backend each device runs on.

>>> import mlxpy.core as mx
>>> mx.default_device()
Device(cpu, 0)
>>> with mx.stream(mx.cpu):
...     y = mx.ones(2) + 1
"""
import contextlib
import enum
import os
import threading


class DeviceType(enum.Enum):
    cpu = 0
    gpu = 1

    def __repr__(self):
        return f"DeviceType.{self.name}"

    __str__ = __repr__

    def __eq__(self, other):
        if isinstance(other, Device):
            return other.type is self and other.index == 0
        return self is other

    def __hash__(self):
        return hash(self.name)


class Device:
    """A device: a type (cpu or gpu) and an index."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=0):
        if not isinstance(type, DeviceType):
            raise TypeError(f"[Device] type must be mx.cpu or mx.gpu, got {type!r}.")
        self.type = type
        self.index = int(index)

    def __repr__(self):
        return f"Device({self.type.name}, {self.index})"

    __str__ = __repr__

    def __eq__(self, other):
        if isinstance(other, DeviceType):
            return self.type is other and self.index == 0
        return isinstance(other, Device) and other.type is self.type and other.index == self.index

    def __hash__(self):
        return hash((self.type.name, self.index))


class Stream:
    """An ordered queue of work on one device."""

    __slots__ = ("device", "index", "_hash")

    def __init__(self, device, index=0):
        self.device = to_device(device)
        self.index = index
        # Streams key every compile cache lookup: hash once.
        self._hash = hash((self.device, index))

    def __repr__(self):
        return f"Stream({self.device!r}, {self.index})"

    __str__ = __repr__

    def __eq__(self, other):
        return other is self or (isinstance(other, Stream) and other.device == self.device
                                 and other.index == self.index)

    def __hash__(self):
        return self._hash


cpu = DeviceType.cpu
gpu = DeviceType.gpu
_CPU = Device(cpu, 0)
_GPU = Device(gpu, 0)


def to_device(d):
    if isinstance(d, Device):
        return d
    if isinstance(d, DeviceType):
        return _CPU if d is cpu else _GPU
    raise TypeError(f"Expected a Device or DeviceType, got {type(d).__name__}.")


_gpu_available = None


def _cuda_usable():
    """True when CuPy imports and sees at least one CUDA device (checked once)."""
    global _gpu_available
    if _gpu_available is None:
        try:
            import cupy
            _gpu_available = cupy.cuda.runtime.getDeviceCount() > 0
        except Exception:
            _gpu_available = False
    return _gpu_available


def is_available(device):
    """Whether `device` can run work in this process."""
    d = to_device(device)
    return d.type is cpu or _cuda_usable()


def _require(device, where):
    d = to_device(device)
    if d.type is gpu and not _cuda_usable():
        raise ValueError(
            f"[{where}] Cannot use the gpu: no usable CUDA GPU with CuPy was found. "
            "Install mlxpy[cuda] on a machine with an NVIDIA GPU, or use mx.cpu.")
    return d


def _initial_device():
    """The GPU when one is usable (as MLX on a CUDA machine), else the CPU;
    MLXPY_DEFAULT_DEVICE=cpu or =gpu chooses explicitly."""
    choice = os.environ.get("MLXPY_DEFAULT_DEVICE", "").strip().lower()
    if choice == "cpu":
        return _CPU
    if choice == "gpu":
        return _require(gpu, "MLXPY_DEFAULT_DEVICE")
    if choice:
        raise ValueError(f"MLXPY_DEFAULT_DEVICE must be 'cpu' or 'gpu', not {choice!r}.")
    return _GPU if _cuda_usable() else _CPU


class _State(threading.local):
    def __init__(self):
        self.device = _initial_device()
        # The default stream per device, and a counter for new streams.
        self.streams = {self.device: Stream(self.device, 0)}
        self.next_index = 1
        # The default device's default stream, kept current by every setter so that
        # ops read it with one attribute lookup.
        self.current = self.streams[self.device]

    def refresh(self):
        d = self.device
        s = self.streams.get(d)
        if s is None:
            s = self.streams[d] = Stream(d, 0)
        self.current = s


_state = _State()


def default_device():
    """The device ops use when no `stream=` is given."""
    return _state.device


def set_default_device(device):
    _state.device = _require(device, "set_default_device")
    _state.refresh()


def default_stream(device):
    """The default stream of `device`."""
    d = _require(device, "default_stream")
    s = _state.streams.get(d)
    if s is None:
        s = _state.streams[d] = Stream(d, 0)
    return s


def set_default_stream(s):
    if not isinstance(s, Stream):
        raise TypeError("[set_default_stream] Expected a Stream.")
    _state.streams[s.device] = s
    _state.refresh()


def new_stream(device):
    """A new stream on `device`."""
    d = _require(device, "new_stream")
    s = Stream(d, _state.next_index)
    _state.next_index += 1
    return s


def clear_streams():
    """Forget every stream made in this thread; defaults return to stream 0."""
    _state.streams = {_state.device: Stream(_state.device, 0)}
    _state.next_index = 1
    _state.refresh()


def current_stream():
    """The stream an op without `stream=` runs on (hot path: no validation)."""
    return _state.current


def resolve_stream(s, where="op"):
    """The stream for an op's `stream=` argument: None, a Device, a DeviceType or a Stream."""
    if s is None:
        return current_stream()
    if isinstance(s, Stream):
        _require(s.device, where)
        return s
    if isinstance(s, (Device, DeviceType)):
        return default_stream(s)
    raise TypeError(f"[{where}] stream must be a Stream, Device or None, got {type(s).__name__}.")


@contextlib.contextmanager
def stream(s):
    """Make `s` (a Stream or device) the default for the enclosed block."""
    target = resolve_stream(s, "stream")
    saved_device = _state.device
    saved_stream = _state.streams.get(target.device)
    _state.device = target.device
    _state.streams[target.device] = target
    _state.refresh()
    try:
        yield target
    finally:
        _state.device = saved_device
        if saved_stream is None:
            _state.streams.pop(target.device, None)
        else:
            _state.streams[target.device] = saved_stream
        _state.refresh()


def synchronize(stream=None):
    """Wait until all work queued on `stream` (default: the current stream) has finished.

    The NumPy backend runs work when it is evaluated, so there is nothing to wait for
    unless asynchronous evaluation is in flight.
    """
    target = resolve_stream(stream, "synchronize")
    from .eval import _wait_pending
    _wait_pending()
    if target.device.type is gpu and _cuda_usable():
        from .backend import cupy_backend
        cupy_backend.synchronize(target if stream is not None else None)
