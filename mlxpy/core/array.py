"""`mx.array`: a handle on a graph node, and its Python protocol.

>>> import mlxpy.core as mx
>>> a = mx.array([1, 2, 3])
>>> b = a
>>> a += 1          # rebinds the handle: every name of it sees the new value
>>> b
array([2, 3, 4], dtype=int32)
"""

import numpy as np

from . import dtypes as _dt
from .device import current_stream
from .graph import Node, trace_state
from ._format import format_array
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
    # NumPy defers to our reflected operators (np.float32(2) * mx_array -> mx array).
    __array_priority__ = 100

    def __init__(self, val, dtype=None):
        from .convert import to_node
        self._node = to_node(val, dtype, "array")

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
        """The single element as a Python scalar."""
        if self.size != 1:
            raise ValueError("[item] Only arrays of size 1 can be converted to Python scalars.")
        return _py_scalar(self._host().reshape(()), self._node.dtype)

    def tolist(self):
        """The elements as (nested) Python lists of Python scalars."""
        h = self._host()
        if self._node.dtype is _dt.bfloat16:
            h = h.astype(np.float32)
        return h.tolist()

    def __array__(self, dtype=None, copy=None):
        h = self._host()
        if dtype is not None:
            h = h.astype(dtype)
        elif copy:
            h = h.copy()
        return h

    def __bool__(self):
        if self.size != 1:
            raise ValueError("[bool] The truth value of an array with more than one element is "
                             "ambiguous; use .any() or .all().")
        return bool(self._host())

    def __int__(self):
        return int(self._scalar_for("int"))

    def __float__(self):
        return float(self._scalar_for("float").real)

    def __complex__(self):
        return complex(self._scalar_for("complex"))

    def __index__(self):
        if not _dt.is_integer(self._node.dtype) and self._node.dtype is not _dt.bool_:
            raise TypeError("[__index__] Only integer arrays can be used as an index.")
        return int(self._scalar_for("index"))

    def _scalar_for(self, what):
        if self.size != 1:
            raise ValueError(f"[{what}] Only length-1 arrays can be converted to Python scalars.")
        return self.item()

    def __len__(self):
        if not self._node.shape:
            raise TypeError("len() of a 0-dimensional array.")
        return self._node.shape[0]

    def __iter__(self):
        if not self._node.shape:
            raise TypeError("iteration over a 0-dimensional array.")
        return (self[i] for i in range(self._node.shape[0]))

    def __repr__(self):
        return format_array(self._host(), self._node.dtype.name)

    __str__ = __repr__

    def __hash__(self):
        return id(self)

    def __format__(self, spec):
        if spec:
            if self.size == 1:
                return format(self.item(), spec)
            raise TypeError("[format] A format spec needs an array of size 1.")
        return repr(self)

    # -- pickling and copies -----------------------------------------------------
    def __reduce__(self):
        return (_from_host, (self._host(), self._node.dtype.name))

    def __copy__(self):
        return wrap(self._node)

    def __deepcopy__(self, memo):
        return wrap(self._node)

    # -- DLPack --------------------------------------------------------------------
    def __dlpack__(self, *args, **kwargs):
        return self._data().__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        d = self._data()
        if isinstance(d, np.generic):
            d = np.asarray(d)
        return d.__dlpack_device__()

    # PEP 688 (Python 3.12+): memoryview(x) exposes the evaluated buffer.
    def __buffer__(self, flags):
        h = self._host()
        if self._node.dtype is _dt.bfloat16:
            raise TypeError("[buffer] bfloat16 has no buffer-protocol format; use np.array(x).")
        return memoryview(np.ascontiguousarray(h))

def _py_scalar(h, dtype):
    if dtype is _dt.bfloat16 or dtype is _dt.float16:
        return float(h)
    return h.item()

def _from_host(h, dtype_name):
    d = _dt._dtype_by_name(dtype_name)
    return wrap(constant_node(np.array(h, dtype=d.np), d))

