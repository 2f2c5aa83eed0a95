"""Matrix factorizations and solves: the primitives behind `mx.linalg`.

Every primitive works on the last two axes and batches over the leading ones, so
each vmap rule moves the batch axis to the front and re-applies. Derivatives follow
the usual matrix-calculus rules; the factorizations of symmetric input (Cholesky,
Eigh) read one triangle but differentiate as functions of a symmetric matrix, so
their gradients are symmetric (the convention of JAX and PyTorch).

A failed factorization in NumPy raises LinAlgError; MLX raises RuntimeError at
evaluation, so eval translates.
"""
import mlxpy.core as mx

from .base import Primitive
from ._rules import apply, to_front
from .. import dtypes as _dt


# -- helpers (written with public ops, so rules compose) -----------------------------------

def _mT(x):
    return mx.swapaxes(x, -1, -2)


def _mH(x):
    """Conjugate transpose of the last two axes."""
    x = _mT(x)
    return mx.conjugate(x) if x.dtype.kind == "c" else x


def _sym(x):
    return (x + _mH(x)) * 0.5


def _diag_embed(v):
    """(..., k) -> (..., k, k) with `v` on the diagonal."""
    k = v.shape[-1]
    return mx.expand_dims(v, -1) * mx.eye(k, dtype=v.dtype)


def _diag(x):
    return mx.diagonal(x, axis1=-2, axis2=-1)


def _eye(n, like):
    return mx.eye(n, dtype=like.dtype)


def _gap_reciprocal(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it: the eigenvector
    sensitivity to a perturbation (infinite for repeated eigenvalues, as it must be)."""
    k = w.shape[-1]
    on_diag = mx.eye(k, dtype=mx.bool_)
    gap = mx.expand_dims(w, -2) - mx.expand_dims(w, -1)
    return mx.where(on_diag, 0.0, 1.0 / mx.where(on_diag, 1.0, gap))


def _real_of(x, dtype):
    return mx.real(x) if x.dtype.kind == "c" and dtype.kind != "c" else x


def vmap_to_front(prim, inputs, axes):
    """The batching rule of a primitive over trailing matrices: batch axes to the
    front (unbatched inputs broadcast along it), then re-apply."""
    size = next(x.shape[a] for x, a in zip(inputs, axes) if a is not None)
    moved = [mx.broadcast_to(mx.expand_dims(x, 0), (size,) + x.shape) if a is None
             else to_front(x, a) for x, a in zip(inputs, axes)]
    out = apply(prim, moved)
    outs = out if isinstance(out, list) else [out]
    return outs, [0] * len(outs)


def _checked(xp, fn, message):
    try:
        return fn()
    except Exception as e:  # NumPy's and CuPy's LinAlgError
        if type(e).__name__ == "LinAlgError":
            raise RuntimeError(message) from None
        raise


class _MatrixPrimitive(Primitive):
    __slots__ = ()
    abstract = True
    # LAPACK's error reporting (singular matrices raise, failed Cholesky gives nan) is
    # part of the contract; MLX runs these on the CPU only, and so does mlxpy.
    host_only = True

    def vmap(self, inputs, axes):
        return vmap_to_front(self, inputs, axes)


# -- inverse and solve ---------------------------------------------------------------------

class Inverse(_MatrixPrimitive):
    """The inverse of every trailing square matrix."""
    __slots__ = ()

    def infer(self, inputs):
        return inputs[0].shape, inputs[0].dtype

    def eval(self, xp, inputs):
        return _checked(xp, lambda: xp.linalg.inv(inputs[0]),
                        "[linalg::inv] The matrix is singular: LU factorization failed.")

    def vjp(self, primals, cotangents, argnums, outputs):
        x = _mH(outputs[0])
        return [-(x @ cotangents[0] @ x)]

    def jvp(self, primals, tangents, argnums):
        x = apply(self, primals)
        return [-(x @ tangents[0] @ x)]


class Solve(_MatrixPrimitive):
    """``a^-1 b`` for a (..., n, n) and b (..., n, k) of one batch shape."""
    __slots__ = ()

    def infer(self, inputs):
        return inputs[1].shape, inputs[1].dtype

    def eval(self, xp, inputs):
        a, b = inputs
        return _checked(xp, lambda: xp.linalg.solve(a, b),
                        "[linalg::solve] The matrix is singular: LU factorization failed.")

    def vjp(self, primals, cotangents, argnums, outputs):
        a = primals[0]
        gb = apply(self, [_mH(a), cotangents[0]])
        return [-(gb @ _mH(outputs[0])) if k == 0 else gb for k in argnums]

    def jvp(self, primals, tangents, argnums):
        a, b = primals
        rhs = None
        for k, t in zip(argnums, tangents):
            term = t if k == 1 else -(t @ apply(self, [a, b]))
            rhs = term if rhs is None else rhs + term
        return [apply(self, [a, rhs])]


# -- Cholesky ------------------------------------------------------------------------------

def _phi(x):
    """The lower triangle of `x` with its diagonal halved."""
    n = x.shape[-1]
    return x * (mx.tri(n, dtype=x.dtype) - 0.5 * mx.eye(n, dtype=x.dtype))


class Cholesky(_MatrixPrimitive):
    """The Cholesky factor of the symmetric matrix that one triangle of the input
    describes (lower unless `upper`). A matrix that is not positive definite gives
    NaNs (MLX returns unspecified values)."""
    __slots__ = ("upper",)

    def __init__(self, upper):
        self.upper = upper

    def params(self):
        return (self.upper,)

    def infer(self, inputs):
        return inputs[0].shape, inputs[0].dtype

    def eval(self, xp, inputs):
        a = inputs[0]
        if self.upper:
            a = xp.conj(xp.swapaxes(a, -1, -2))
        full = xp.tril(a) + xp.conj(xp.swapaxes(xp.tril(a, -1), -1, -2))
        try:
            low = xp.linalg.cholesky(full)
        except Exception as e:
            if type(e).__name__ != "LinAlgError":
                raise
            low = _cholesky_each(xp, full)
        return xp.conj(xp.swapaxes(low, -1, -2)) if self.upper else low

    def _lower(self, out):
        return _mH(out) if self.upper else out

    def vjp(self, primals, cotangents, argnums, outputs):
        low = self._lower(outputs[0])
        g = self._lower(cotangents[0])
        inv = mx.linalg.tri_inv(low)
        return [_sym(_mH(inv) @ _phi(_mH(low) @ g) @ inv)]

    def jvp(self, primals, tangents, argnums):
        low = self._lower(apply(self, primals))
        inv = mx.linalg.tri_inv(low)
        d = low @ _phi(inv @ _sym(tangents[0]) @ _mH(inv))
        return [_mH(d) if self.upper else d]


def _cholesky_each(xp, full):
    """Matrix by matrix, NaN where one is not positive definite."""
    flat = full.reshape((-1,) + full.shape[-2:])
    out = xp.empty_like(flat)
    for i in range(flat.shape[0]):
        try:
            out[i] = xp.linalg.cholesky(flat[i])
        except Exception as e:
            if type(e).__name__ != "LinAlgError":
                raise
            out[i] = xp.nan
    return out.reshape(full.shape)


# -- eigen decompositions --------------------------------------------------------------------

class Eigh(_MatrixPrimitive):
    """Eigenvalues (ascending, real) and eigenvectors of the Hermitian matrix that one
    triangle of the input describes."""
    __slots__ = ("lower",)
    num_outputs = 2

    def __init__(self, lower):
        self.lower = lower

    def params(self):
        return (self.lower,)

    def infer(self, inputs):
        a = inputs[0]
        real = _dt.float32 if a.dtype is _dt.complex64 else a.dtype
        return [(a.shape[:-1], real), (a.shape, a.dtype)]

    def eval(self, xp, inputs):
        w, v = xp.linalg.eigh(inputs[0], UPLO="L" if self.lower else "U")
        return w, v

    def vjp(self, primals, cotangents, argnums, outputs):
        w, v = outputs
        gw, gv = cotangents
        inner = _diag_embed(gw.astype(v.dtype)) + _gap_reciprocal(w) * (_mH(v) @ gv)
        return [_sym(v @ inner @ _mH(v))]

    def jvp(self, primals, tangents, argnums):
        w, v = apply(self, primals)
        m = _mH(v) @ _sym(tangents[0]) @ v
        return [_real_of(_diag(m), w.dtype), v @ (_gap_reciprocal(w) * m)]


class Eig(_MatrixPrimitive):
    """Eigenvalues and unit eigenvectors of a general square matrix (complex64)."""
    __slots__ = ()
    num_outputs = 2

    def infer(self, inputs):
        a = inputs[0]
        return [(a.shape[:-1], _dt.complex64), (a.shape, _dt.complex64)]

    def eval(self, xp, inputs):
        w, v = xp.linalg.eig(inputs[0])
        return w.astype(xp.complex64), v.astype(xp.complex64)

    # With A V = V diag(w) and dM = V^-1 dA V: dw = diag(dM), and dV = V (F o dM)
    # before renormalizing each column to unit length (NumPy's and MLX's convention).
    def jvp(self, primals, tangents, argnums):
        w, v = apply(self, primals)
        da = tangents[0].astype(mx.complex64)
        m = apply(Solve(), [v, da @ v])
        dv = v @ (_gap_reciprocal(w) * m)
        # Keep unit length: remove the real part of each column's self-projection.
        dv = dv - v * mx.real(mx.sum(mx.conjugate(v) * dv, axis=-2, keepdims=True))
        return [_diag(m), dv]

    def vjp(self, primals, cotangents, argnums, outputs):
        w, v = outputs
        gw, gv = cotangents
        gv = gv - v * mx.real(mx.sum(mx.conjugate(v) * gv, axis=-2, keepdims=True))
        inner = _diag_embed(gw) + mx.conjugate(_gap_reciprocal(w)) * (_mH(v) @ gv)
        g = apply(Solve(), [_mH(v), inner @ _mH(v)])
        a = primals[0]
        return [g if a.dtype.kind == "c" else mx.real(g).astype(a.dtype)]


# -- SVD and QR ----------------------------------------------------------------------------

def _thin_svd(a):
    u, s, vt = apply(SVD(True), [a])
    k = s.shape[-1]
    return u[..., :, :k], s, _mH(vt[..., :k, :])


class SVD(_MatrixPrimitive):
    """``U, S, Vt`` with square U and Vt (full matrices), or S alone."""
    __slots__ = ("compute_uv",)

    def __init__(self, compute_uv):
        self.compute_uv = compute_uv

    def params(self):
        return (self.compute_uv,)

    @property
    def num_outputs(self):
        return 3 if self.compute_uv else 1

    def infer(self, inputs):
        a = inputs[0]
        m, n = a.shape[-2:]
        batch = a.shape[:-2]
        real = _dt.float32 if a.dtype is _dt.complex64 else a.dtype
        s = (batch + (min(m, n),), real)
        if not self.compute_uv:
            return s
        return [(batch + (m, m), a.dtype), s, (batch + (n, n), a.dtype)]

    def eval(self, xp, inputs):
        if self.compute_uv:
            return tuple(xp.linalg.svd(inputs[0], full_matrices=True))
        return xp.linalg.svd(inputs[0], compute_uv=False)

    # The columns of U (rows of Vt) past min(m, n) span the orthogonal complement and
    # are not determined by `a`: the rules treat them as constant.
    def vjp(self, primals, cotangents, argnums, outputs):
        a = primals[0]
        u, s, v = _thin_svd(a)
        if not self.compute_uv:
            return [(u * mx.expand_dims(cotangents[0], -2).astype(u.dtype)) @ _mH(v)]
        gu_full, gs, gvt_full = cotangents
        k = s.shape[-1]
        m, n = a.shape[-2:]
        gu = gu_full[..., :, :k]
        gv = _mH(gvt_full[..., :k, :])
        f = _gap_reciprocal(s * s)
        sd = mx.expand_dims(s, -2).astype(u.dtype)  # scales columns
        j = f * (_mH(u) @ gu)
        kk = f * (_mH(v) @ gv)
        core = (j + _mH(j)) * sd + mx.swapaxes(sd, -1, -2) * (kk + _mH(kk))
        core = core + _diag_embed(gs.astype(u.dtype))
        grad = u @ core @ _mH(v)
        if m > k:
            grad = grad + (gu - u @ (_mH(u) @ gu)) / sd @ _mH(v)
        if n > k:
            grad = grad + u @ _mH((gv - v @ (_mH(v) @ gv)) / sd)
        return [grad]

    def jvp(self, primals, tangents, argnums):
        a = primals[0]
        da = tangents[0]
        u, s, v = _thin_svd(a)
        ds_full = _mH(u) @ da @ v
        ds = _real_of(_diag(ds_full), s.dtype)
        if not self.compute_uv:
            return [ds]
        k = s.shape[-1]
        m, n = a.shape[-2:]
        f = _gap_reciprocal(s * s)
        sd = mx.expand_dims(s, -2).astype(u.dtype)
        dss = ds_full * sd
        sds = mx.swapaxes(sd, -1, -2) * ds_full
        du = u @ (f * (dss + _mH(dss)))
        dv = v @ (f * (sds + _mH(sds)))
        if m > k:
            du = du + (da @ v - u @ ds_full) / sd
        if n > k:
            dv = dv + (_mH(da) @ u - v @ _mH(ds_full)) / sd
        batch = a.shape[:-2]
        if m > k:
            du = mx.concatenate([du, mx.zeros(batch + (m, m - k), dtype=du.dtype)], axis=-1)
        dvt = _mH(dv)
        if n > k:
            dvt = mx.concatenate([dvt, mx.zeros(batch + (n - k, n), dtype=dvt.dtype)], axis=-2)
        return [du, ds, dvt]


def _copyltu(x):
    return mx.tril(x) + _mH(mx.tril(x, -1))


def _qr_vjp_tall(q, r, gq, gr):
    """The cotangent of a (m >= n) from those of its reduced factors."""
    m = r @ _mH(gr) - _mH(gq) @ q
    b = gq + q @ _copyltu(m)
    return b @ _mH(mx.linalg.tri_inv(r, upper=True))


def _qr_jvp_tall(q, r, da):
    x = _mH(q) @ da @ mx.linalg.tri_inv(r, upper=True)
    low = mx.tril(x, -1)
    omega = low - _mH(low)
    dq = q @ omega + (da @ mx.linalg.tri_inv(r, upper=True) - q @ x)
    return dq, (x - omega) @ r


class QR(_MatrixPrimitive):
    """The reduced QR factorization: Q (..., m, k), R (..., k, n), k = min(m, n)."""
    __slots__ = ()
    num_outputs = 2

    def infer(self, inputs):
        a = inputs[0]
        m, n = a.shape[-2:]
        k = min(m, n)
        batch = a.shape[:-2]
        return [(batch + (m, k), a.dtype), (batch + (k, n), a.dtype)]

    def eval(self, xp, inputs):
        q, r = xp.linalg.qr(inputs[0], mode="reduced")
        return q, r

    # A wide matrix [X | Y] factors as Q [U | V] with X = Q U square: X's part takes the
    # tall rule, and V = Q^H Y passes its cotangent to Q and Y.
    def vjp(self, primals, cotangents, argnums, outputs):
        a = primals[0]
        q, r = outputs
        gq, gr = cotangents
        m, n = a.shape[-2:]
        if m >= n:
            return [_qr_vjp_tall(q, r, gq, gr)]
        y = a[..., m:]
        gv = gr[..., m:]
        gx = _qr_vjp_tall(q, r[..., :m], gq + y @ _mH(gv), gr[..., :m])
        return [mx.concatenate([gx, q @ gv], axis=-1)]

    def jvp(self, primals, tangents, argnums):
        a = primals[0]
        da = tangents[0]
        q, r = apply(self, primals)
        m, n = a.shape[-2:]
        if m >= n:
            return list(_qr_jvp_tall(q, r, da))
        dq, du = _qr_jvp_tall(q, r[..., :m], da[..., :m])
        dv = _mH(dq) @ a[..., m:] + _mH(q) @ da[..., m:]
        return [dq, mx.concatenate([du, dv], axis=-1)]


# -- LU ------------------------------------------------------------------------------------

class LUF(_MatrixPrimitive):
    """LU factorization with partial pivoting (LAPACK's getrf). Outputs: the packed LU
    matrix (unit-lower L below the diagonal, U on and above it), the 0-based pivots
    (row i was swapped with row pivots[i]), and the resulting row order (row i of LU
    comes from row order[i] of the input); both index arrays are uint32, as in MLX."""
    __slots__ = ()
    num_outputs = 3

    def infer(self, inputs):
        a = inputs[0]
        m, n = a.shape[-2:]
        batch = a.shape[:-2]
        return [(a.shape, a.dtype), (batch + (min(m, n),), _dt.uint32),
                (batch + (m,), _dt.uint32)]

    def eval(self, xp, inputs):
        a = inputs[0]
        m, n = a.shape[-2:]
        k = min(m, n)
        lu = a.reshape((-1, m, n)).copy()
        count = lu.shape[0]
        batch = xp.arange(count)
        pivots = xp.zeros((count, k), dtype=xp.uint32)
        order = xp.broadcast_to(xp.arange(m, dtype=xp.uint32), (count, m)).copy()
        errstate = getattr(xp, "errstate", None)
        # Column by column, vectorized over the batch: O(k) steps of O(m n) work.
        for j in range(k):
            p = j + xp.argmax(xp.abs(lu[:, j:, j]), axis=1)
            pivots[:, j] = p
            for arr in (lu, order):
                picked = arr[batch, p].copy()
                arr[batch, p] = arr[:, j]
                arr[:, j] = picked
            # A zero pivot (singular matrix) gives inf/nan below it, as in LAPACK.
            with (errstate(divide="ignore", invalid="ignore") if errstate else _nothing()):
                lu[:, j + 1:, j] /= lu[:, j, j:j + 1]
                lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
        batch_shape = a.shape[:-2]
        return (lu.reshape(a.shape), pivots.reshape(batch_shape + (k,)),
                order.reshape(batch_shape + (m,)))

    # Square matrices: P^T A = L U, and with X = L^-1 P^T dA U^-1, dL = L tril(X, -1)
    # and dU = triu(X) U. The index outputs are piecewise constant.
    def jvp(self, primals, tangents, argnums):
        lu, piv, order = apply(self, primals)
        _square_only(lu, "jvp")
        low, up = _unpack(lu)
        da = mx.take_along_axis(tangents[0], mx.expand_dims(order.astype(mx.int32), -1), axis=-2)
        x = mx.linalg.tri_inv(low) @ da @ mx.linalg.tri_inv(up, upper=True)
        dlu = low @ mx.tril(x, -1) + mx.triu(x) @ up
        return [dlu, mx.zeros(piv.shape, dtype=piv.dtype), mx.zeros(order.shape, dtype=order.dtype)]

    def vjp(self, primals, cotangents, argnums, outputs):
        lu, piv, order = outputs
        _square_only(lu, "vjp")
        low, up = _unpack(lu)
        g = cotangents[0]
        inner = mx.tril(_mH(low) @ mx.tril(g, -1), -1) + mx.triu(mx.triu(g) @ _mH(up))
        gp = _mH(mx.linalg.tri_inv(low)) @ inner @ _mH(mx.linalg.tri_inv(up, upper=True))
        inverse = mx.argsort(order.astype(mx.int32), axis=-1)
        return [mx.take_along_axis(gp, mx.expand_dims(inverse, -1), axis=-2)]


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _square_only(lu, where):
    from .base import TransformError
    if lu.shape[-1] != lu.shape[-2]:
        raise TransformError(f"[{where}] The LU derivative is only implemented for square "
                             "matrices.")


def _unpack(lu):
    """Unit-lower L (m, k) and upper U (k, n) from the packed LU matrix."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    low = mx.tril(lu[..., :, :k], -1) + mx.eye(m, k, dtype=lu.dtype)
    return low, mx.triu(lu[..., :k, :])


# -- determinants --------------------------------------------------------------------------

def _cofactor(a):
    """The cofactor matrix (adjugate transposed) of `a`, finite for singular `a` too:
    with a = U S V^H, it is det(U) det(V^H) U diag(prod_{j != i} s_j) V^H."""
    u, s, vt = apply(SVD(True), [a])
    left = mx.cumprod(s, axis=-1, inclusive=False)
    right = mx.cumprod(s, axis=-1, reverse=True, inclusive=False)
    sign = apply(SLogDet(), [u])[0] * apply(SLogDet(), [vt])[0]
    sign = mx.expand_dims(sign, (-1, -2))
    return sign * ((u * mx.expand_dims(left * right, -2)) @ vt)


class Det(_MatrixPrimitive):
    """The determinant of every trailing square matrix (float32 or float64)."""
    __slots__ = ()

    def infer(self, inputs):
        return inputs[0].shape[:-2], inputs[0].dtype

    def eval(self, xp, inputs):
        return xp.asarray(xp.linalg.det(inputs[0]))

    def vjp(self, primals, cotangents, argnums, outputs):
        g = mx.expand_dims(cotangents[0], (-1, -2))
        return [g * _cofactor(primals[0])]

    def jvp(self, primals, tangents, argnums):
        return [mx.sum(_cofactor(primals[0]) * tangents[0], axis=(-1, -2))]


class SLogDet(_MatrixPrimitive):
    """The sign and log-magnitude of the determinant."""
    __slots__ = ()
    num_outputs = 2

    def infer(self, inputs):
        a = inputs[0]
        return [(a.shape[:-2], a.dtype), (a.shape[:-2], a.dtype)]

    def eval(self, xp, inputs):
        sign, logdet = xp.linalg.slogdet(inputs[0])
        return xp.asarray(sign), xp.asarray(logdet)

    def vjp(self, primals, cotangents, argnums, outputs):
        g = mx.expand_dims(cotangents[1], (-1, -2))
        return [g * _mT(apply(Inverse(), [primals[0]]))]

    def jvp(self, primals, tangents, argnums):
        a = primals[0]
        inv = apply(Inverse(), [a])
        sign = apply(self, [a])[0]
        return [mx.zeros_like(sign), mx.sum(_mT(inv) * tangents[0], axis=(-1, -2))]
