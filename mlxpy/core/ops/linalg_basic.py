"""Matrix products: `matmul` (also `a @ b`) and `addmm`.

As in MLX, both take arrays only (no scalars, lists or NumPy arrays), promote their
operands to a common dtype, and refuse integer and bool results.
"""
import numpy as _np

from .. import dtypes as _dt
from ..array import array, wrap
from ..primitives.linalg_basic import AddMM, Matmul, check_inner, matmul_shape
from ._core import broadcast_shapes, cast_node, make, stream_of
from .elementwise import add, multiply

__all__ = ["matmul", "addmm"]

_array = array
_PROMOTION = _dt.PROMOTION
_MATMUL = Matmul()


def _check_arrays(where, names, values):
    for name, v in zip(names, values):
        if not isinstance(v, _array):
            raise TypeError(f"[{where}] Argument {name} must be an array, got "
                            f"{type(v).__name__}; wrap it with mx.array(...).")


def _as_float32(value, name, where):
    """A real number (or one-element array) as MLX's C `float` argument: float32-rounded."""
    t = type(value)
    if t is float or hasattr(t, "__float__") or hasattr(t, "__index__"):
        try:
            with _np.errstate(over="ignore"):
                return float(_np.float32(float(value)))
        except (TypeError, ValueError, OverflowError):
            pass
    raise TypeError(f"[{where}] {name} must be a real number, got {type(value).__name__}.")


def matmul(a, b, /, *, stream=None):
    """Matrix product with NumPy's rules for 1-D operands and batch broadcasting.

    A 1-D first operand is a row vector and a 1-D second operand a column vector; the
    added dimension is removed from the result. Leading dimensions broadcast. Integer
    and bool products are refused (ValueError), mixed dtypes promote.

    >>> import mlxpy.core as mx
    >>> a = mx.array([[1.0, 2.0], [3.0, 4.0]])
    >>> mx.matmul(a, mx.array([1.0, 1.0]))
    array([3, 7], dtype=float32)
    >>> (a @ a).shape
    (2, 2)
    """
    s = stream_of(stream, "matmul")
    if type(a) is not _array or type(b) is not _array:
        _check_arrays("matmul", ("a", "b"), (a, b))
    na = a._node
    nb = b._node
    check_inner(na.shape, nb.shape, "matmul")
    d = _PROMOTION[na.dtype, nb.dtype]
    if d.kind not in "fc":
        raise ValueError(f"[matmul] Only inexact types are supported but {na.dtype.name} and "
                         f"{nb.dtype.name} were provided which results in {d.name}, which is "
                         "not a floating point type.")
    return make(_MATMUL, [cast_node(na, d, s), cast_node(nb, d, s)], s)


def addmm(c, a, b, /, alpha=1.0, beta=1.0, *, stream=None):
    """``alpha * (a @ b) + beta * c``, with `c` broadcast to the product's shape.

    `alpha` and `beta` are rounded to float32, as MLX's C ``float`` parameters. For real
    dtypes, as in BLAS's gemm, ``alpha == 0`` skips the product and ``beta == 0`` skips
    `c` (so nan or inf there does not reach the result), and float16/bfloat16 round once.
    A complex result is the plain composite, as in MLX.

    >>> import mlxpy.core as mx
    >>> c = mx.array([1.0, 2.0])
    >>> a = mx.array([[1.0, 0.0], [0.0, 1.0]])
    >>> mx.addmm(c, a, a, alpha=2.0, beta=0.5)
    array([[2.5, 1],
           [0.5, 3]], dtype=float32)
    """
    s = stream_of(stream, "addmm")
    _check_arrays("addmm", ("c", "a", "b"), (c, a, b))
    alpha = _as_float32(alpha, "alpha", "addmm")
    beta = _as_float32(beta, "beta", "addmm")
    nc, na, nb = c._node, a._node, b._node
    if not na.shape or not nb.shape:
        check_inner(na.shape, nb.shape, "addmm")
    d = _PROMOTION[_PROMOTION[nc.dtype, na.dtype], nb.dtype]
    if d is _dt.complex64:
        # MLX has no complex gemm: it multiplies in the operands' own dtype (with
        # matmul's errors), then scales and adds in complex64, broadcasting c freely.
        product = wrap(cast_node(matmul(a, b, stream=s)._node, d, s))
        return add(multiply(product, alpha, stream=s),
                   multiply(wrap(cast_node(nc, d, s)), beta, stream=s), stream=s)
    check_inner(na.shape, nb.shape, "addmm")
    if d.kind != "f":
        raise ValueError(f"[addmm] Only real floating point types are supported but "
                         f"{nc.dtype.name}, {na.dtype.name} and {nb.dtype.name} were provided "
                         f"which results in {d.name}, which is not a real floating point type.")
    out_shape = matmul_shape(na.shape, nb.shape, "addmm")
    if broadcast_shapes(nc.shape, out_shape) != out_shape:
        raise ValueError(f"[addmm] Input c with shape {nc.shape} must broadcast to the output "
                         f"shape {out_shape}.")
    return make(AddMM(alpha, beta),
                [cast_node(nc, d, s), cast_node(na, d, s), cast_node(nb, d, s)], s)
