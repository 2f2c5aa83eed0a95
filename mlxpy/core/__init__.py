"""`mlxpy.core`: MLX's `mlx.core` namespace.

>>> import mlxpy.core as mx
>>> x = mx.array([1.0, 2.0, 3.0])
>>> (x * 2).sum()
array(12, dtype=float32)
"""
from .dtypes import (Dtype, DtypeCategory, bool_, uint8, uint16, uint32, uint64, int8, int16,
                     int32, int64, float16, bfloat16, float32, float64, complex64, finfo,
                     iinfo, issubdtype, isdtype, can_cast, promote_types, result_type, floating,
                     complexfloating, inexact, signedinteger, unsignedinteger, integer, number,
                     generic)
from .device import (Device, DeviceType, Stream, cpu, gpu, default_device, set_default_device,
                     default_stream, set_default_stream, new_stream, stream, is_available,
                     clear_streams)
from .array import array
from .convert import from_dlpack
from .eval import (eval, async_eval, get_active_memory, get_peak_memory, reset_peak_memory,
                   get_cache_memory, set_memory_limit, get_memory_limit, set_cache_limit,
                   clear_cache)
from .ops._core import broadcast_shapes as _broadcast_shapes
from .ops.creation import *  # noqa: F401,F403
from .ops.elementwise import *  # noqa: F401,F403
from .ops.elementwise import abs, round, divmod  # names __all__-less star import skips
from .ops.reduction import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.indexing import *  # noqa: F401,F403
from .ops.sort import *  # noqa: F401,F403
from .ops.linalg_basic import *  # noqa: F401,F403
from .ops.misc import *  # noqa: F401,F403
from .ops.products import *  # noqa: F401,F403
from .ops.conv import *  # noqa: F401,F403
from .ops import operators as _operators  # noqa: F401  (binds array's Python operators)
from . import random, metal, cuda
from . import linalg
from .linalg import norm as matrix_norm
from . import fft  # noqa: E402  (mx.fft namespace)
from . import fast  # noqa: E402  (mx.fast namespace)
from .io import *  # noqa: F401,F403
from .ops.extra import *  # noqa: F401,F403
from .settings import *  # noqa: F401,F403
from .transforms import *  # noqa: F401,F403
from .device import synchronize
import math as _math

pi = _math.pi
e = _math.e
inf = float("inf")
nan = float("nan")
euler_gamma = 0.5772156649015329
newaxis = None
bool = bool_


def broadcast_shapes(*shapes):
    """The shape that broadcasting `shapes` together gives.

    >>> import mlxpy.core as mx
    >>> mx.broadcast_shapes((2, 1), (3,))
    (2, 3)
    """
    if not shapes:
        raise ValueError("[broadcast_shapes] No input shapes provided.")
    return _broadcast_shapes(*(tuple(s) for s in shapes))
