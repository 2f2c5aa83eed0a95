"""`mx.array`: a handle on a graph node, and its Python protocol.

>>> import mlxpy.core as mx
>>> a = mx.array([1, 2, 3])
>>> b = a
>>> a += 1          # rebinds the handle: every name of it sees the new value
>>> b
array([2, 3, 4], dtype=int32)
"""

import sys

import numpy as np

from . import dtypes as _dt
from .device import current_stream
from .graph import Node, trace_state
from ._format import format_array
from .settings import print_options as _print_options
from .eval import eval_nodes

_new = object.__new__

def wrap(node):
    """A new handle on `node` (the hot path of every op)."""
    a = _new(array)
    a._node = node
    return a

def constant_node(data, dtype, stream=None):
    """An evaluated node holding `data` (a backend array already of `dtype`)."""
    n = Node(data.shape, dtype, None, None, stream or current_stream())
    n.set_data(data)
    return n

class array:
    """An N-dimensional array, evaluated lazily.

    >>> import mlxpy.core as mx
    >>> mx.array([[1, 2], [3, 4]], dtype=mx.float32).sum()
    array(10, dtype=float32)
    """

    __slots__ = ("_node", "__weakref__")
    # No __array_priority__: as with MLX, NumPy on the left of an operator computes the
    # result itself (np.float32(2) * mx_array is a NumPy array), through __array__.

    def __init__(self, val, dtype=None):
        self._node = _to_node(val, dtype, "array")

    # -- descriptors -------------------------------------------------------------
    @property
    def shape(self):
        return self._node.shape

    @property
    def dtype(self):
        return self._node.dtype

    @property
    def ndim(self):
        return len(self._node.shape)

    @property
    def size(self):
        s = 1
        for d in self._node.shape:
            s *= d
        return s

    @property
    def itemsize(self):
        return self._node.dtype.size

    @property
    def nbytes(self):
        return self.size * self._node.dtype.size

    # -- evaluation --------------------------------------------------------------
    def _data(self):
        n = self._node
        if n.data is None:
            eval_nodes([n])
        return n.data

    def _host(self):
        """The evaluated data as a NumPy array (copied from the GPU if needed)."""
        d = self._data()
        if not isinstance(d, (np.ndarray, np.generic)):
            d = d.get()
        return np.asarray(d)

    def item(self):
        """The single element as a Python scalar (float for float16 and bfloat16).

        >>> import mlxpy.core as mx
        >>> mx.array([[2.5]]).item()
        2.5
        """
        return _py_scalar(self._scalar_host("item"), self._node.dtype)

    def tolist(self):
        """The elements as nested Python lists of Python scalars (a scalar for 0-d).

        >>> import mlxpy.core as mx
        >>> mx.array([[1, 2], [3, 4]]).tolist()
        [[1, 2], [3, 4]]
        """
        h = self._host()
        if self._node.dtype is _dt.bfloat16:
            h = h.astype(np.float32)
        return h.tolist()

    def _scalar_host(self, where):
        if self.size != 1:
            raise ValueError(f"[{where}] Only arrays with one element can be converted to "
                             f"Python scalars; this one has shape {self._node.shape}.")
        return self._host().reshape(())

    def __array__(self, dtype=None, copy=None):
        h = self._host()
        if dtype is not None and np.dtype(dtype) != h.dtype:
            if copy is False:
                raise ValueError(f"[__array__] Converting {self._node.dtype.name} to NumPy "
                                 f"{np.dtype(dtype)} needs a copy, but copy=False.")
            return h.astype(dtype)
        if copy:
            return h.copy()
        # Without a copy NumPy sees the node's own buffer, which other nodes may share:
        # hand it out read-only so that it cannot change under them.
        v = h.view()
        v.flags.writeable = False
        return v

    def __bool__(self):
        return bool(self._scalar_host("bool").item())

    def __int__(self):
        return int(_py_scalar(self._scalar_host("int"), self._node.dtype))

    def __float__(self):
        return float(_py_scalar(self._scalar_host("float"), self._node.dtype))

    def __complex__(self):
        return complex(_py_scalar(self._scalar_host("complex"), self._node.dtype))

    def __index__(self):
        n = self._node
        if n.shape or n.dtype.kind not in "iu":
            raise TypeError("[__index__] Only 0-dimensional integer arrays can be converted "
                            f"to an index; got shape {n.shape} and dtype {n.dtype.name}.")
        return int(self._host())

    def __len__(self):
        if not self._node.shape:
            raise TypeError("len() of a 0-dimensional array.")
        return self._node.shape[0]

    def __iter__(self):
        if not self._node.shape:
            raise TypeError("iteration over a 0-dimensional array.")
        return (self[i] for i in range(self._node.shape[0]))

    def __bytes__(self):
        return self._host().tobytes()

    def __array_namespace__(self, api_version=None):
        """The module of array functions: `mlxpy.core`."""
        return sys.modules[__package__]

    def __repr__(self):
        return format_array(self._host(), self._node.dtype.name,
                            precision=_print_options.precision)

    __str__ = __repr__

    def __hash__(self):
        return id(self)

    def __format__(self, spec):
        # A 0-d array formats as its element (f"{x:.2f}"); others only print whole.
        if not self._node.shape:
            return format(_py_scalar(self._host(), self._node.dtype), spec)
        if spec:
            raise TypeError(f"[format] Format spec {spec!r} needs a 0-dimensional array; "
                            f"this one has shape {self._node.shape}.")
        return repr(self)

    # -- pickling and copies -----------------------------------------------------
    def __reduce__(self):
        return (_from_host, (self._host(), self._node.dtype.name))

    def __copy__(self):
        return wrap(self._node)

    def __deepcopy__(self, memo):
        return wrap(self._node)

    # -- DLPack and buffers -----------------------------------------------------------
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        kwargs = {"stream": stream, "max_version": max_version, "dl_device": dl_device,
                  "copy": copy}
        data = self._data()
        if isinstance(data, np.generic):
            data = np.asarray(data)
        if copy:
            return data.copy().__dlpack__(**kwargs)
        view = data.view()
        view.flags.writeable = False
        try:
            # A DLPack 1.0 consumer (max_version given) is told the buffer is read-only.
            return view.__dlpack__(**kwargs)
        except BufferError:
            # Older consumers cannot be told; they get the buffer as it is.
            return data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        d = self._data()
        if isinstance(d, np.generic):
            d = np.asarray(d)
        return d.__dlpack_device__()

    # PEP 688 (Python 3.12+): memoryview(x) and other buffer consumers read the
    # evaluated data, read-only. Python 3.11 ignores this method (see docs/differences.md).
    def __buffer__(self, flags):
        if self._node.dtype is _dt.bfloat16:
            raise TypeError("[buffer] bfloat16 has no buffer-protocol format; use np.array(x).")
        h = np.ascontiguousarray(self._host()) if self._node.shape else self._host()
        v = h.view()
        v.flags.writeable = False
        return memoryview(v)

def _py_scalar(h, dtype):
    if dtype is _dt.bfloat16 or dtype is _dt.float16:
        return float(h)
    return h.item()

def _from_host(h, dtype_name):
    d = _dt._dtype_by_name(dtype_name)
    return wrap(constant_node(np.array(h, dtype=d.np), d))


# convert.py builds on this module's `array`, so it is imported once `array` exists.
from .convert import to_node as _to_node  # noqa: E402
