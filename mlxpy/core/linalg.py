"""`mx.linalg`: norms, factorizations, inverses and solves over trailing matrices.

Factorizations take float32 or float64 (svd, eigh and eig also complex64) with at
least two dimensions, and batch over the leading ones, as in MLX. Unlike MLX, they
also run on a GPU stream, and every one of them has derivatives and a batching rule.

>>> import mlxpy.core as mx
>>> a = mx.array([[4.0, 1.0], [1.0, 3.0]])
>>> mx.linalg.solve(a, mx.array([1.0, 2.0]))
array([0.0909091, 0.636364], dtype=float32)
>>> mx.linalg.norm(mx.array([3.0, 4.0]))
array(5, dtype=float32)
"""
import contextlib
import math

import numpy as _np

from . import dtypes as _dt
from .array import array
from .device import stream as _stream_scope
from .ops._core import make, make_multi, stream_of, broadcast_shapes
from .primitives.linalg import (Inverse, Solve, Cholesky, Eigh, Eig, SVD, QR, LUF, Det,
                                SLogDet)
from .ops import creation as _cr, elementwise as _el, reduction as _rd, shape as _sh
from .ops import indexing as _ix
from .ops.linalg_basic import matmul as _matmul

__all__ = ["norm", "inv", "tri_inv", "pinv", "svd", "qr", "cholesky", "cholesky_inv", "eigh",
           "eigvalsh", "eig", "eigvals", "lu", "lu_factor", "solve", "solve_triangular",
           "cross", "det", "slogdet"]

_REAL = (_dt.float32, _dt.float64)
_INEXACT = (_dt.float32, _dt.float64, _dt.complex64)
_INV = Inverse()
_SOLVE = Solve()
_QR = QR()
_LUF = LUF()
_DET = Det()
_SLOGDET = SLogDet()
_EIG = Eig()


def _arrays(where, *values):
    for v in values:
        if not isinstance(v, array):
            raise TypeError(f"[linalg::{where}] Expected an array, got {type(v).__name__}; "
                            "wrap it with mx.array(...).")


def _scope(stream, where):
    """A default-stream scope for composites, so their inner ops run on `stream`."""
    s = stream_of(stream, where)
    return s, (contextlib.nullcontext() if stream is None else _stream_scope(s))


def _check_matrix(a, where, allowed=_REAL, square=None, min_dims_msg=None):
    _arrays(where, a)
    if a.dtype not in allowed:
        names = ("float32 or float64" if allowed == _REAL
                 else "float32, float64 or complex64")
        raise ValueError(f"[linalg::{where}] Arrays must have type {names}. Received array "
                         f"with type {a.dtype.name}.")
    if a.ndim < 2:
        raise ValueError(min_dims_msg or f"[linalg::{where}] Arrays must have >= 2 dimensions. "
                         f"Received array with {a.ndim} dimensions.")
    if square is not None and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"[linalg::{where}] {square}")


def _fmt(shape):
    return "(" + ",".join(str(d) for d in shape) + ")"


# -- inverses --------------------------------------------------------------------------------

def inv(a, *, stream=None):
    """The inverse of every trailing square matrix of `a`.

    A singular matrix raises RuntimeError at evaluation, as in MLX.

    >>> import mlxpy.core as mx
    >>> mx.linalg.inv(mx.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5, 0],
           [0, 0.25]], dtype=float32)
    """
    s = stream_of(stream, "linalg::inv")
    _check_matrix(a, "inv", square="Inverses are only defined for square matrices.")
    return make(_INV, [a._node], s)


def _triangle(a, upper):
    return _cr.triu(a) if upper else _cr.tril(a)


def tri_inv(a, upper=False, *, stream=None):
    """The inverse of the lower (or `upper`) triangle of every trailing square matrix;
    the other triangle of `a` is ignored.

    >>> import mlxpy.core as mx
    >>> mx.linalg.tri_inv(mx.array([[2.0, 9.0], [1.0, 4.0]]))
    array([[0.5, 0],
           [-0.125, 0.25]], dtype=float32)
    """
    s, scope = _scope(stream, "linalg::tri_inv")
    # MLX's messages name `inv` here.
    _check_matrix(a, "inv", square="Inverses are only defined for square matrices.")
    with scope:
        # The triangle is masked again after inverting: pivoting in the general
        # inverse can leave rounding noise where exact zeros belong.
        return _triangle(make(_INV, [_triangle(a, upper)._node], s), upper)


def cholesky_inv(a, upper=False, *, stream=None):
    """The inverse of ``L @ L.T`` (``U.T @ U`` if `upper`) from its Cholesky factor,
    given as the lower (upper) triangle of `a`.

    >>> import mlxpy.core as mx
    >>> mx.linalg.cholesky_inv(mx.array([[2.0, 0.0], [0.0, 1.0]]))
    array([[0.25, 0],
           [0, 1]], dtype=float32)
    """
    s, scope = _scope(stream, "linalg::cholesky_inv")
    _check_matrix(a, "cholesky_inv", square="Cholesky inverse is only defined for square "
                  "matrices.")
    with scope:
        factor_inv = tri_inv(a, upper)
        if upper:
            return _matmul(factor_inv, _sh.swapaxes(factor_inv, -1, -2))
        return _matmul(_sh.swapaxes(factor_inv, -1, -2), factor_inv)


def pinv(a, *, stream=None):
    """The Moore-Penrose pseudo-inverse of every trailing matrix, from its SVD.

    Singular values up to ``10 * max(m, n) * eps`` times the largest count as zero
    (MLX's cutoff).

    >>> import mlxpy.core as mx
    >>> mx.linalg.pinv(mx.array([[1.0, 2.0], [2.0, 4.0]]))
    array([[0.04, 0.08],
           [0.08, 0.16]], dtype=float32)
    """
    s, scope = _scope(stream, "linalg::pinv")
    _check_matrix(a, "pinv")
    m, n = a.shape[-2:]
    k = min(m, n)
    with scope:
        u, sv, vt = svd(a)
        if k == 0:
            return _cr.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
        u = u[..., :, :k]
        vt = vt[..., :k, :]
        eps = float(_np.finfo(a.dtype.np).eps)
        cutoff = _rd.max(sv, axis=-1, keepdims=True) * (10.0 * max(m, n) * eps)
        keep = _el.greater(sv, cutoff)
        safe = _el.where(keep, sv, 1.0)
        scale = _el.where(keep, _el.reciprocal(safe), 0.0)
        return _matmul(_sh.swapaxes(vt, -1, -2) * _sh.expand_dims(scale, -2),
                       _sh.swapaxes(u, -1, -2))


# -- factorizations ----------------------------------------------------------------------------

def cholesky(a, upper=False, *, stream=None):
    """The Cholesky factor L (``a = L @ L.T``) of every trailing symmetric positive
    definite matrix, read from its lower triangle; with `upper`, U (``a = U.T @ U``)
    from the upper triangle. Not positive definite: NaNs.

    >>> import mlxpy.core as mx
    >>> mx.linalg.cholesky(mx.array([[4.0, 2.0], [2.0, 5.0]]))
    array([[2, 0],
           [1, 2]], dtype=float32)
    """
    s = stream_of(stream, "linalg::cholesky")
    _check_matrix(a, "cholesky", square="Cholesky decomposition is only defined for square "
                  "matrices.")
    if not isinstance(upper, (bool, _np.bool_)):
        raise TypeError("[linalg::cholesky] upper must be a bool.")
    return make(Cholesky(bool(upper)), [a._node], s)


def _uplo(UPLO, where):
    if UPLO not in ("L", "U"):
        raise ValueError(f"[linalg::{where}] UPLO must be 'L' or 'U', got {UPLO!r}.")
    return UPLO == "L"


def eigh(a, UPLO="L", *, stream=None):
    """Eigenvalues (ascending) and eigenvectors (columns) of every trailing symmetric
    (Hermitian) matrix, read from its lower (``UPLO="L"``) or upper triangle.

    >>> import mlxpy.core as mx
    >>> w, v = mx.linalg.eigh(mx.array([[2.0, 0.0], [0.0, 1.0]]))
    >>> w
    array([1, 2], dtype=float32)
    """
    s = stream_of(stream, "linalg::eigh")
    _check_matrix(a, "eigh", _INEXACT, square="Only defined for square matrices.")
    w, v = make_multi(Eigh(_uplo(UPLO, "eigh")), [a._node], s)
    return w, v


def eigvalsh(a, UPLO="L", *, stream=None):
    """The eigenvalues (ascending) of every trailing symmetric (Hermitian) matrix.

    >>> import mlxpy.core as mx
    >>> mx.linalg.eigvalsh(mx.array([[2.0, 1.0], [1.0, 2.0]]))
    array([1, 3], dtype=float32)
    """
    s = stream_of(stream, "linalg::eigvalsh")
    _check_matrix(a, "eigvalsh", _INEXACT, square="Only defined for square matrices.")
    return make_multi(Eigh(_uplo(UPLO, "eigvalsh")), [a._node], s)[0]


def eig(a, *, stream=None):
    """Eigenvalues and unit-length eigenvectors (columns) of every trailing square
    matrix, as complex64 (float64 input too, as in MLX).

    >>> import mlxpy.core as mx
    >>> w, v = mx.linalg.eig(mx.array([[2.0, 0.0], [0.0, 3.0]]))
    >>> w
    array([2+0j, 3+0j], dtype=complex64)
    """
    s = stream_of(stream, "linalg::eig")
    _check_matrix(a, "eig", _INEXACT, square="Only defined for square matrices.")
    w, v = make_multi(_EIG, [a._node], s)
    return w, v


def eigvals(a, *, stream=None):
    """The eigenvalues of every trailing square matrix, as complex64.

    >>> import mlxpy.core as mx
    >>> mx.linalg.eigvals(mx.array([[0.0, 1.0], [-1.0, 0.0]]))
    array([0+1j, 0-1j], dtype=complex64)
    """
    s = stream_of(stream, "linalg::eigvals")
    _check_matrix(a, "eigvals", _INEXACT, square="Only defined for square matrices.")
    return make_multi(_EIG, [a._node], s)[0]


def svd(a, compute_uv=True, *, stream=None):
    """The singular value decomposition ``a = U @ diag(S) @ Vt`` of every trailing
    matrix, with square U and Vt; with ``compute_uv=False``, S alone (descending).

    >>> import mlxpy.core as mx
    >>> mx.linalg.svd(mx.array([[3.0, 0.0], [0.0, -4.0]]), compute_uv=False)
    array([4, 3], dtype=float32)
    """
    s = stream_of(stream, "linalg::svd")
    _check_matrix(a, "svd", _INEXACT, min_dims_msg="[linalg::svd] Input array must have >= 2 "
                  f"dimensions. Received array with {getattr(a, 'ndim', 0)} dimensions.")
    if compute_uv:
        u, sv, vt = make_multi(SVD(True), [a._node], s)
        return u, sv, vt
    return make(SVD(False), [a._node], s)


def qr(a, *, stream=None):
    """The reduced QR factorization of every trailing matrix: Q with orthonormal
    columns (m, k) and upper-triangular R (k, n), k = min(m, n).

    >>> import mlxpy.core as mx
    >>> q, r = mx.linalg.qr(mx.array([[2.0, 0.0], [0.0, 3.0]]))
    >>> mx.abs(r)
    array([[2, 0],
           [0, 3]], dtype=float32)
    """
    s = stream_of(stream, "linalg::qr")
    _check_matrix(a, "qr")
    q, r = make_multi(_QR, [a._node], s)
    return q, r


def lu_factor(a, *, stream=None):
    """The packed LU factorization with partial pivoting: ``(LU, pivots)``, LAPACK's
    layout (unit-lower L below the diagonal, U on and above it; row i was swapped
    with row ``pivots[i]``, 0-based, uint32).

    >>> import mlxpy.core as mx
    >>> lu, piv = mx.linalg.lu_factor(mx.array([[1.0, 2.0], [4.0, 8.0]]))
    >>> piv
    array([1, 1], dtype=uint32)
    """
    s = stream_of(stream, "linalg::lu_factor")
    _check_matrix(a, "lu_factor")
    packed, pivots, _ = make_multi(_LUF, [a._node], s)
    return packed, pivots


def lu(a, *, stream=None):
    """The LU factorization ``(P, L, U)`` with ``a == L[P] @ U`` (row indices P, uint32).

    >>> import mlxpy.core as mx
    >>> p, l, u = mx.linalg.lu(mx.array([[1.0, 2.0], [4.0, 8.0]]))
    >>> p
    array([1, 0], dtype=uint32)
    """
    s, scope = _scope(stream, "linalg::lu")
    _check_matrix(a, "lu")
    packed, _, order = make_multi(_LUF, [a._node], s)
    m, n = a.shape[-2:]
    k = min(m, n)
    with scope:
        low = _cr.tril(packed[..., :, :k], -1) + _cr.eye(m, k, dtype=a.dtype)
        up = _cr.triu(packed[..., :k, :])
        perm = _sh_argsort(order)
    return perm, low, up


def _sh_argsort(order):
    from .ops.sort import argsort
    return argsort(order, axis=-1).astype(_dt.uint32)


# -- solves ------------------------------------------------------------------------------------

def _solve_operands(a, b, where, s):
    _arrays(where, a, b)
    d = _dt.PROMOTION[a.dtype, b.dtype]
    if d not in _REAL:
        raise ValueError(f"[linalg::{where}] Input arrays must promote to float32 or float64. "
                         f" Received arrays with type {a.dtype.name} and {b.dtype.name}.")
    if a.ndim < 2:
        raise ValueError(f"[linalg::{where}] First input must have >= 2 dimensions. Received "
                         f"array with {a.ndim} dimensions.")
    if b.ndim < 1:
        raise ValueError(f"[linalg::{where}] Second input must have >= 1 dimensions. Received "
                         f"array with {b.ndim} dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"[linalg::{where}] First input must be a square matrix. Received "
                         f"array with shape {_fmt(a.shape)}.")
    n = a.shape[-1]
    vector = b.ndim == 1
    if (b.shape[0] if vector else b.shape[-2]) != n:
        raise ValueError(f"[linalg::{where}] Last dimension of first input with shape "
                         f"{_fmt(a.shape)} must match second to last dimension of second "
                         f"input with shape {_fmt(b.shape)}.")
    a = a.astype(d)
    b = b.astype(d)
    if vector:
        b = _sh.expand_dims(b, -1)
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2], where=f"linalg::{where}")
    a = _sh.broadcast_to(a, batch + a.shape[-2:])
    b = _sh.broadcast_to(b, batch + b.shape[-2:])
    return a, b, vector


def solve(a, b, *, stream=None):
    """The solution x of ``a @ x = b`` for square `a`: `b` is a vector (1-D) or a
    stack of matrices, and batch dimensions broadcast.

    >>> import mlxpy.core as mx
    >>> mx.linalg.solve(mx.array([[2.0, 0.0], [0.0, 4.0]]), mx.array([1.0, 1.0]))
    array([0.5, 0.25], dtype=float32)
    """
    s, scope = _scope(stream, "linalg::solve")
    with scope:
        a, b, vector = _solve_operands(a, b, "solve", s)
        x = make(_SOLVE, [a._node, b._node], s)
        return _sh.squeeze(x, -1) if vector else x


def solve_triangular(a, b, *, upper=False, stream=None):
    """The solution x of ``T @ x = b`` where T is the lower (or `upper`) triangle of `a`.

    >>> import mlxpy.core as mx
    >>> mx.linalg.solve_triangular(mx.array([[2.0, 7.0], [1.0, 1.0]]), mx.array([2.0, 3.0]))
    array([1, 2], dtype=float32)
    """
    s, scope = _scope(stream, "linalg::solve_triangular")
    with scope:
        a, b, vector = _solve_operands(a, b, "solve_triangular", s)
        x = make(_SOLVE, [_triangle(a, upper)._node, b._node], s)
        return _sh.squeeze(x, -1) if vector else x


# -- determinants --------------------------------------------------------------------------------

def _det_operand(a, where):
    _arrays(where, a)
    if a.dtype is _dt.complex64:
        raise ValueError(f"[linalg::{where}] Complex inputs are not supported.")
    if a.ndim < 2:
        raise ValueError(f"[linalg::{where}] Arrays must have >= 2 dimensions. Received array "
                         f"with {a.ndim} dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"[linalg::{where}] Only defined for square matrices.")
    # Integers and bools give float32; half precision is computed in float32 and
    # rounded back, as MLX does.
    out = a.dtype if a.dtype.kind == "f" else _dt.float32
    return (a if a.dtype in _REAL else a.astype(_dt.float32)), out


def det(a, *, stream=None):
    """The determinant of every trailing square matrix.

    >>> import mlxpy.core as mx
    >>> mx.linalg.det(mx.array([[1.0, 2.0], [3.0, 4.0]]))
    array(-2, dtype=float32)
    """
    s, scope = _scope(stream, "linalg::det")
    work, out = _det_operand(a, "det")
    with scope:
        return make(_DET, [work._node], s).astype(out)


def slogdet(a, *, stream=None):
    """``(sign, log|det|)`` of every trailing square matrix.

    >>> import mlxpy.core as mx
    >>> sign, logabs = mx.linalg.slogdet(mx.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> sign, logabs
    (array(-1, dtype=float32), array(0, dtype=float32))
    """
    s, scope = _scope(stream, "linalg::slogdet")
    work, out = _det_operand(a, "slogdet")
    with scope:
        sign, logabs = make_multi(_SLOGDET, [work._node], s)
        return sign.astype(out), logabs.astype(out)


# -- cross product -----------------------------------------------------------------------------

def cross(a, b, axis=-1, *, stream=None):
    """The cross product of 3-vectors (or 2-vectors, padded with a zero) along `axis`;
    the other dimensions broadcast.

    >>> import mlxpy.core as mx
    >>> mx.linalg.cross(mx.array([1.0, 0.0, 0.0]), mx.array([0.0, 1.0, 0.0]))
    array([0, 0, 1], dtype=float32)
    """
    s, scope = _scope(stream, "linalg::cross")
    _arrays("cross", a, b)
    if not isinstance(axis, (int, _np.integer)) or isinstance(axis, bool):
        raise TypeError("[linalg::cross] axis must be an integer.")
    for x in (a, b):
        if not -x.ndim <= axis < x.ndim:
            raise IndexError(f"[linalg::cross] Axis {axis} is out of bounds for array with "
                             f"{x.ndim} dimensions.")
    with scope:
        parts = []
        for x in (a, b):
            ax = axis % x.ndim
            size = x.shape[ax]
            if size not in (2, 3):
                raise ValueError("[linalg::cross] The specified axis must have size 2 or 3.")
            comps = _sh.split(x, size, axis=ax)
            if size == 2:
                comps.append(_cr.zeros_like(comps[0]))
            # Components without the axis, aligned from the right for broadcasting.
            parts.append([_sh.squeeze(c, ax) for c in comps])
        (a0, a1, a2), (b0, b1, b2) = parts
        c0 = a1 * b2 - a2 * b1
        c1 = a2 * b0 - a0 * b2
        c2 = a0 * b1 - a1 * b0
        out = _sh.stack([c0, c1, c2], axis=-1)
        ndim = out.ndim
        # MLX counts a negative axis from the end of the broadcast result.
        dest = axis if axis < 0 else axis + (ndim - max(a.ndim, b.ndim))
        return _sh.moveaxis(out, -1, dest)


# -- norms -------------------------------------------------------------------------------------

def _abs_real(x):
    y = _el.abs(x)
    return _el.real(y) if y.dtype is _dt.complex64 else y


def _float_input(a):
    return a if a.dtype.kind in "fc" else a.astype(_dt.float32)


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        y = _abs_real(x)
        return _el.sqrt(_rd.sum(y * y, axis=axis, keepdims=keepdims))
    if ord == math.inf:
        return _rd.max(_abs_real(x), axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return _rd.min(_abs_real(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        real = _abs_real(x).dtype
        return _rd.sum(_el.not_equal(x, 0), axis=axis, keepdims=keepdims).astype(real)
    if ord == 1:
        return _rd.sum(_abs_real(x), axis=axis, keepdims=keepdims)
    p = float(ord)
    return _el.power(_rd.sum(_el.power(_abs_real(x), p), axis=axis, keepdims=keepdims), 1.0 / p)


def _check_matrix_ord(ord):
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise ValueError(f"[linalg::norm] Invalid ord value '{ord}' for matrix norm.")
    elif ord is not None and ord not in (1, -1, 2, -2, math.inf, -math.inf):
        raise ValueError(f"[linalg::norm] Invalid ord {ord} for matrix norm.")


def _matrix_norm(a, ord, row, col, keepdims):
    _check_matrix_ord(ord)
    if ord is None or ord == "fro":
        return _vector_norm(_float_input(a), None, (row, col), keepdims)
    if ord in (1, -1, math.inf, -math.inf):
        # inf: the largest row sum (sum across columns); 1: the largest column sum.
        summed, reduced = (col, row) if ord in (math.inf, -math.inf) else (row, col)
        sums = _rd.sum(_abs_real(_float_input(a)), axis=summed, keepdims=True)
        pick = _rd.max if ord > 0 else _rd.min
        out = pick(sums, axis=reduced, keepdims=True)
        return out if keepdims else _sh.squeeze(out, (row, col))
    # Singular-value norms: as in MLX, the input goes to svd as is (so integer and
    # half-precision matrices raise svd's error).
    rest = [d for d in range(a.ndim) if d not in (row, col)]
    sv = svd(_sh.transpose(a, rest + [row, col]), compute_uv=False)
    if ord == "nuc":
        out = _rd.sum(sv, axis=-1)
    else:
        out = (_rd.max if ord == 2 else _rd.min)(sv, axis=-1)
    if keepdims:
        out = _sh.expand_dims(out, sorted((row, col)))
    return out


def norm(a, /, ord=None, axis=None, keepdims=False, *, stream=None):
    """Vector or matrix norm.

    With `axis` an int (or one-element list): vector norms along it; a pair: matrix
    norms of the matrices those axes hold; None: the whole (1-D or 2-D) array, or,
    with ``ord=None``, the 2-norm of the flattened array. Vector ords: None/2, any
    real p, 0 (count of nonzeros), +-inf; matrix ords: None/'fro', 'nuc', +-1, +-2,
    +-inf. Integer input gives float32; norms of complex input are real.

    >>> import mlxpy.core as mx
    >>> m = mx.array([[1.0, -2.0], [3.0, 4.0]])
    >>> mx.linalg.norm(m, 1)
    array(6, dtype=float32)
    >>> mx.linalg.norm(m, float("inf"), axis=1)
    array([2, 4], dtype=float32)
    """
    s, scope = _scope(stream, "linalg::norm")
    _arrays("norm", a)
    if ord is not None and not isinstance(ord, (str, int, float, _np.integer, _np.floating)):
        raise TypeError(f"[linalg::norm] ord must be None, a number or a string, got "
                        f"{type(ord).__name__}.")
    ndim = a.ndim
    with scope:
        if axis is None:
            if ord is None:
                out = _vector_norm(_float_input(_sh.reshape(a, (-1,))), None, 0, False)
                return _sh.reshape(out, (1,) * ndim) if keepdims else out
            if isinstance(ord, str) and ndim != 2:
                raise ValueError(f"[linalg::norm] Norm '{ord}' only supported for matrices, "
                                 f"but received {ndim} axis/axes.")
            if ndim not in (1, 2):
                raise ValueError("[linalg::norm] Received too many axes for norm.")
            axes = tuple(range(ndim))
        else:
            axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
            for ax in axes:
                if not isinstance(ax, (int, _np.integer)) or isinstance(ax, bool):
                    raise TypeError("[linalg::norm] axis must be an int or a list of ints.")
            # MLX's order of checks: the number of axes, the ord, then the axes.
            if isinstance(ord, str) and len(axes) != 2:
                raise ValueError(f"[linalg::norm] Norm '{ord}' only supported for matrices, "
                                 f"but received {len(axes)} axis/axes.")
            if len(axes) > 2:
                raise ValueError("[linalg::norm] Received too many axes for norm.")
            if len(axes) == 2:
                _check_matrix_ord(ord)
            for ax in axes:
                if not -ndim <= ax < ndim:
                    raise IndexError(f"[linalg::norm] Invalid axis {ax} for array with {ndim} "
                                     "dimensions.")
            axes = tuple(int(ax) % ndim for ax in axes)
            if len(set(axes)) != len(axes):
                raise ValueError("[linalg::norm] Duplicate axes detected in reduction.")
        if len(axes) == 1:
            return _vector_norm(_float_input(a), ord, axes[0], keepdims)
        return _matrix_norm(a, ord, axes[0], axes[1], keepdims)
