"""mx.linalg against real MLX: values, dtypes, shapes, errors, and transforms.

Factorizations with a sign freedom (svd, eigh, eig) are compared through quantities
that do not depend on it. MLX is never evaluated on empty arrays (it can hang).
"""
import math
import zlib

import numpy as np
import pytest

import mlxpy.core as mx
from oracle import mlx, needs_mlx, assert_same, raises_like, to_mlx

pytestmark = needs_mlx

rng = np.random.default_rng(0)
SHAPES_SQ = [(3, 3), (1, 1), (2, 4, 4), (2, 1, 3, 3)]
SHAPES_ANY = [(3, 3), (4, 2), (2, 5), (2, 3, 4), (3, 4, 2)]
REAL = ["float32", "float64"]


def rand(shape, dtype="float32", spd=False, shift=0.0):
    x = rng.normal(size=shape)
    if spd:
        x = x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])
    if shift:
        x = x + shift * np.eye(shape[-1])
    return x.astype(dtype)


def both(h):
    dtype = getattr(mx, str(h.dtype))
    return mx.array(h, dtype=dtype), to_mlx(h)


def tol(dtype):
    return dict(rtol=2e-4, atol=2e-4) if dtype == "float32" else dict(rtol=1e-9, atol=1e-9)


# -- inverses, solves, determinants ----------------------------------------------------------

@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("shape", SHAPES_SQ)
def test_inverse_family(shape, dtype):
    ours, theirs = both(rand(shape, dtype, shift=4.0))
    assert_same(mx.linalg.inv(ours), mlx.linalg.inv(theirs), **tol(dtype))
    for upper in (False, True):
        assert_same(mx.linalg.tri_inv(ours, upper=upper),
                    mlx.linalg.tri_inv(theirs, upper=upper), **tol(dtype))
    spd_o, spd_t = both(rand(shape, dtype, spd=True))
    for upper in (False, True):
        lo = mx.linalg.cholesky(spd_o, upper=upper)
        lt = mlx.linalg.cholesky(spd_t, upper=upper)
        assert_same(lo, lt, **tol(dtype))
        assert_same(mx.linalg.cholesky_inv(lo, upper=upper),
                    mlx.linalg.cholesky_inv(lt, upper=upper), **tol(dtype))


@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("shape", SHAPES_ANY)
def test_pinv(shape, dtype):
    ours, theirs = both(rand(shape, dtype))
    assert_same(mx.linalg.pinv(ours), mlx.linalg.pinv(theirs), **tol(dtype))


def test_pinv_cutoff_matches_mlx():
    for n, e in [(2, 2e-6), (2, 2.5e-6), (3, 3e-6), (3, 4e-6), (5, 5e-6), (5, 7e-6)]:
        d = np.ones(n, dtype=np.float32)
        d[-1] = e
        ours, theirs = both(np.diag(d))
        assert_same(mx.linalg.pinv(ours), mlx.linalg.pinv(theirs), rtol=1e-4)


@pytest.mark.parametrize("a_shape,b_shape", [((3, 3), (3,)), ((3, 3), (3, 2)),
                                             ((2, 3, 3), (2, 3, 1)), ((1, 1), (1, 4))])
@pytest.mark.parametrize("dtype", REAL)
def test_solve(a_shape, b_shape, dtype):
    a_o, a_t = both(rand(a_shape, dtype, shift=4.0))
    b_o, b_t = both(rand(b_shape, dtype))
    assert_same(mx.linalg.solve(a_o, b_o), mlx.linalg.solve(a_t, b_t), **tol(dtype))
    for upper in (False, True):
        assert_same(mx.linalg.solve_triangular(a_o, b_o, upper=upper),
                    mlx.linalg.solve_triangular(a_t, b_t, upper=upper), **tol(dtype))


def test_solve_broadcasts_batches_where_mlx_fails():
    a = rand((3, 3), shift=4.0)
    b = rand((4, 3, 2))
    got = mx.linalg.solve(mx.array(a), mx.array(b))
    np.testing.assert_allclose(np.array(got), np.linalg.solve(a, b), rtol=1e-4, atol=1e-5)
    got = mx.linalg.solve(mx.array(np.stack([a, a])), mx.array(b[0, :, 0]))
    assert got.shape == (2, 3)


def test_solve_mixed_dtypes_promote():
    a_o, a_t = both(rand((3, 3), shift=4.0))
    b_o, b_t = both(rand((3,), "float64"))
    assert_same(mx.linalg.solve(a_o, b_o), mlx.linalg.solve(a_t, b_t), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", REAL + ["float16", "bfloat16", "int32", "bool_", "uint8"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1), (0, 0)])
def test_det_slogdet(shape, dtype):
    # Integer matrices are drawn from their own seed until none is singular: the sign of
    # a zero determinant is whatever LU's rounding gives, on either side.
    r = np.random.default_rng(zlib.crc32(repr((shape, dtype)).encode()))
    while True:
        h = r.integers(-3, 4, size=shape) if dtype in ("int32", "uint8", "bool_") else rand(shape)
        if dtype == "uint8":
            h = np.abs(h)
        if dtype == "bool_":
            h = h != 0
        if 0 in shape or dtype not in ("int32", "uint8", "bool_") or \
                np.all(np.abs(np.linalg.det(h.astype(np.float64))) > 0.5):
            break
    ours = mx.array(h).astype(getattr(mx, dtype))
    theirs = mlx.array(h).astype(getattr(mlx, dtype))
    if 0 in shape:
        assert mx.linalg.det(ours).dtype.name == mlx.linalg.det(theirs).dtype.__str__().split(".")[-1]
        assert float(mx.linalg.det(ours)) == 1.0
        return
    try:
        want = mlx.linalg.det(theirs)
        mlx.eval(want)
    except ValueError:
        # MLX refuses half precision past 3x3 (its LU path); we compute in float32.
        assert mx.linalg.det(ours).dtype == ours.dtype
        return
    t = dict(rtol=2e-2, atol=5e-2) if dtype in ("float16", "bfloat16") else tol("float32")
    assert_same(mx.linalg.det(ours), want, **t)
    # MLX's float64 slogdet has float32 accuracy.
    assert_same(list(mx.linalg.slogdet(ours)), list(mlx.linalg.slogdet(theirs)), **t)


def test_det_of_singular_matrices():
    for h in [np.array([[1.0, 2.0], [2.0, 4.0]], np.float32), np.zeros((3, 3), np.float32)]:
        ours, theirs = both(h)
        assert_same(mx.linalg.det(ours), mlx.linalg.det(theirs))
        assert_same(list(mx.linalg.slogdet(ours)), list(mlx.linalg.slogdet(theirs)))


def test_singular_inverse_raises_runtime_error_like_mlx():
    ours, theirs = both(np.array([[1.0, 2.0], [2.0, 4.0]], np.float32))
    raises_like(lambda: mx.eval(mx.linalg.inv(ours)), lambda: mlx.eval(mlx.linalg.inv(theirs)))
    b_o, b_t = both(np.ones(2, np.float32))
    raises_like(lambda: mx.eval(mx.linalg.solve(ours, b_o)),
                lambda: mlx.eval(mlx.linalg.solve(theirs, b_t)))


def test_cholesky_of_indefinite_matrix_is_nan():
    out = mx.linalg.cholesky(mx.array([[1.0, 2.0], [2.0, 1.0]]))
    assert np.isnan(np.array(out)).all()
    batch = np.stack([np.eye(2), [[1.0, 2.0], [2.0, 1.0]]]).astype(np.float32)
    out = np.array(mx.linalg.cholesky(mx.array(batch)))
    np.testing.assert_allclose(out[0], np.eye(2))
    assert np.isnan(out[1]).all()


# -- decompositions ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", REAL + ["complex64"])
@pytest.mark.parametrize("shape", SHAPES_ANY)
def test_svd(shape, dtype):
    h = rand(shape, "float64")
    if dtype == "complex64":
        h = h + 1j * rand(shape, "float64")
    ours, theirs = both(h.astype(dtype))
    t = tol("float32" if dtype == "complex64" else dtype)
    u, s, vt = mx.linalg.svd(ours)
    ut, st, vtt = mlx.linalg.svd(theirs)
    assert_same(s, st, **t)
    for o, m in [(u, ut), (vt, vtt)]:
        assert o.shape == tuple(m.shape) and o.dtype.name == str(m.dtype).split(".")[-1]
    k = s.shape[-1]
    rebuilt = (np.array(u)[..., :, :k] * np.array(s)[..., None, :]) @ np.array(vt)[..., :k, :]
    np.testing.assert_allclose(rebuilt, h.astype(dtype), **t)
    # Full U and Vt are unitary.
    for q in (np.array(u), np.array(vt)):
        eye = np.eye(q.shape[-1])
        np.testing.assert_allclose(np.conj(np.swapaxes(q, -1, -2)) @ q, np.broadcast_to(eye, q.shape), **t)
    assert_same(mx.linalg.svd(ours, compute_uv=False), mlx.linalg.svd(theirs, compute_uv=False), **t)


@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("shape", SHAPES_ANY)
def test_qr(shape, dtype):
    ours, theirs = both(rand(shape, dtype))
    q, r = mx.linalg.qr(ours)
    qt, rt = mlx.linalg.qr(theirs)
    # Both are LAPACK's Householder QR, with the same signs.
    assert_same(q, qt, **tol(dtype))
    assert_same(r, rt, **tol(dtype))


@pytest.mark.parametrize("dtype", REAL + ["complex64"])
@pytest.mark.parametrize("shape", SHAPES_SQ)
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh(shape, dtype, uplo):
    h = rand(shape, "float64")
    if dtype == "complex64":
        h = h + 1j * rand(shape, "float64")
    ours, theirs = both(h.astype(dtype))
    t = tol("float32" if dtype == "complex64" else dtype)
    w, v = mx.linalg.eigh(ours, UPLO=uplo)
    wt, vt = mlx.linalg.eigh(theirs, UPLO=uplo)
    assert_same(w, wt, **t)
    assert_same(mx.linalg.eigvalsh(ours, UPLO=uplo), mlx.linalg.eigvalsh(theirs, UPLO=uplo), **t)
    assert v.dtype.name == str(vt.dtype).split(".")[-1] and v.shape == tuple(vt.shape)
    # Columns agree up to a phase: |<v_i, vt_i>| = 1.
    overlap = np.abs(np.sum(np.conj(np.array(v)) * np.array(vt), axis=-2))
    np.testing.assert_allclose(overlap, 1.0, rtol=1e-3)


@pytest.mark.parametrize("dtype", REAL + ["complex64"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_eig(shape, dtype):
    h = rand(shape, "float64")
    if dtype == "complex64":
        h = h + 1j * rand(shape, "float64")
    ours, theirs = both(h.astype(dtype))
    w, v = mx.linalg.eig(ours)
    wt, vt = mlx.linalg.eig(theirs)
    assert w.dtype == mx.complex64 and v.dtype == mx.complex64
    key = lambda z: np.sort_complex(np.round(np.array(z), 4))
    np.testing.assert_allclose(key(w), key(wt), atol=1e-3)
    np.testing.assert_allclose(key(mx.linalg.eigvals(ours)), key(wt), atol=1e-3)
    a = h.astype(dtype)
    np.testing.assert_allclose(a @ np.array(v), np.array(v) * np.array(w)[..., None, :], atol=1e-4)


@pytest.mark.parametrize("dtype", REAL)
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 5), (2, 3, 3), (2, 4, 3)])
def test_lu(shape, dtype):
    ours, theirs = both(rand(shape, dtype))
    assert_same(list(mx.linalg.lu(ours)), list(mlx.linalg.lu(theirs)), **tol(dtype))
    assert_same(list(mx.linalg.lu_factor(ours)), list(mlx.linalg.lu_factor(theirs)), **tol(dtype))


@pytest.mark.parametrize("name,args", [
    ("inv", ()), ("tri_inv", ()), ("pinv", ()), ("cholesky", ()), ("cholesky_inv", ()),
    ("qr", ()), ("svd", ()), ("eigh", ()), ("eigvalsh", ()), ("eig", ()), ("eigvals", ()),
    ("lu", ()), ("lu_factor", ()), ("det", ()), ("slogdet", ())])
@pytest.mark.parametrize("case", ["int32", "float16", "complex64", "1d", "nonsquare", "list"])
def test_factorization_errors(name, args, case):
    h = {"1d": np.ones(3, np.float32), "nonsquare": np.ones((2, 3), np.float32)}.get(
        case, np.eye(2))
    if case in ("int32", "float16", "complex64"):
        h = h.astype(case)
    ours_fn, theirs_fn = getattr(mx.linalg, name), getattr(mlx.linalg, name)
    if case == "list":
        raises_like(lambda: ours_fn([[1.0, 0.0], [0.0, 1.0]]),
                    lambda: theirs_fn([[1.0, 0.0], [0.0, 1.0]]))
        return
    ours, theirs = both(h)
    try:
        expected = theirs_fn(theirs)
        mlx.eval(expected)
    except Exception:  # noqa: BLE001
        raises_like(lambda: mx.eval(ours_fn(ours)), lambda: mlx.eval(theirs_fn(theirs)))
        return
    got = ours_fn(ours)
    got = list(got) if isinstance(got, tuple) else [got]
    expected = list(expected) if isinstance(expected, tuple) else [expected]
    for g, e in zip(got, expected):
        assert g.shape == tuple(e.shape)
        assert g.dtype.name == str(e.dtype).split(".")[-1]


@pytest.mark.parametrize("a,b", [((3, 3), (2,)), ((2, 3), (2,)), ((3,), (3,)), ((3, 3), (4, 3))])
def test_solve_errors(a, b):
    ao, at = both(np.ones(a, np.float32))
    bo, bt = both(np.ones(b, np.float32))
    raises_like(lambda: mx.linalg.solve(ao, bo), lambda: mlx.linalg.solve(at, bt))
    raises_like(lambda: mx.linalg.solve_triangular(ao, bo),
                lambda: mlx.linalg.solve_triangular(at, bt))
    ai, ati = both(np.eye(2, dtype=np.int32))
    raises_like(lambda: mx.linalg.solve(ai, ai), lambda: mlx.linalg.solve(ati, ati))


# -- norms -------------------------------------------------------------------------------------

ORDS = [None, 0, 1, -1, 2, -2, 3, 0.5, math.inf, -math.inf, "fro", "nuc", "bad", 2.0]
AXES = [None, 0, -1, 1, (0, 1), (1, 0), [-1, -2], (0, 2), (2,), (0, 1, 2), (1, 1), 5, (0, 4)]


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4), ()])
@pytest.mark.parametrize("ord", ORDS)
def test_norm_against_mlx(shape, ord):
    h = rng.normal(size=shape).astype(np.float32)
    if h.size > 2:
        h.flat[1] = 0.0
    ours, theirs = both(h)
    for axis in AXES:
        for keepdims in (False, True):
            call = dict(ord=ord, axis=axis, keepdims=keepdims)
            pair = isinstance(axis, (tuple, list)) and len(axis) == 2
            if pair and (len(shape) < 2 or axis == (1, 1)):
                # MLX: moveaxis's or svd's error, or a value for repeated axes; we
                # check the axes first (IndexError) and refuse repeats (ValueError).
                with pytest.raises((IndexError, ValueError)):
                    mx.linalg.norm(ours, **call)
                continue
            try:
                want = mlx.linalg.norm(theirs, **call)
                mlx.eval(want)
            except Exception:  # noqa: BLE001
                raises_like(lambda: mx.linalg.norm(ours, **call),
                            lambda: mlx.linalg.norm(theirs, **call))
                continue
            assert_same(mx.linalg.norm(ours, **call), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", ["int32", "bool_", "float16", "bfloat16", "float64", "uint8"])
@pytest.mark.parametrize("ord", [None, 0, 1, 3, math.inf, "fro", 2, "nuc", -1])
def test_norm_dtypes(dtype, ord):
    h = rng.integers(0, 4, size=(3, 3))
    ours = mx.array(h).astype(getattr(mx, dtype))
    theirs = mlx.array(h).astype(getattr(mlx, dtype))
    for axis in (None, 1):
        try:
            want = mlx.linalg.norm(theirs, ord, axis)
            mlx.eval(want)
        except Exception:  # noqa: BLE001
            raises_like(lambda: mx.linalg.norm(ours, ord, axis),
                        lambda: mlx.linalg.norm(theirs, ord, axis))
            continue
        t = dict(rtol=2e-2, atol=2e-2) if dtype in ("float16", "bfloat16") else dict(rtol=1e-5)
        assert_same(mx.linalg.norm(ours, ord, axis), want, **t)


@pytest.mark.parametrize("ord", [None, 1, 3, math.inf, "fro", 2, "nuc", -2])
def test_complex_norms_are_real(ord):
    h = (rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))).astype(np.complex64)
    ours, theirs = both(h)
    for axis in (None, 0):
        if isinstance(ord, str) and axis == 0:
            continue
        if ord == -2 and axis == 0 or ord == 3 and axis is None:
            continue
        got = mx.linalg.norm(ours, ord, axis)
        want = mlx.linalg.norm(theirs, ord, axis)
        assert got.dtype == mx.float32
        np.testing.assert_allclose(np.array(got), np.real(np.array(want)), rtol=1e-4)


def test_matrix_norm_alias():
    assert mx.matrix_norm is mx.linalg.norm


# -- cross -------------------------------------------------------------------------------------

@pytest.mark.parametrize("sa,sb,axis", [((3,), (3,), -1), ((2,), (2,), -1), ((2,), (3,), -1),
                                        ((4, 3), (3,), -1), ((3, 4), (3, 4), 0),
                                        ((2, 3, 5), (3, 1), -2), ((2, 3, 5), (3, 1), 1),
                                        ((3, 4), (4, 3), 0), ((4,), (4,), -1),
                                        ((3,), (3,), 1), ((), (3,), -1), ((2, 3), (3, 2), 0)])
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int32", "int32"),
                                    ("float16", "float32"), ("bool_", "bool_"),
                                    ("float64", "int32")])
def test_cross(sa, sb, axis, dtypes):
    ha = rng.integers(-3, 4, size=sa).astype(dtypes[0])
    hb = rng.integers(-3, 4, size=sb).astype(dtypes[1])
    ao, at = both(ha)
    bo, bt = both(hb)
    try:
        want = mlx.linalg.cross(at, bt, axis)
        mlx.eval(want)
    except Exception:  # noqa: BLE001
        sizes = [s[axis] for s in (sa, sb) if -len(s) <= axis < len(s)]
        if dtypes[0] == "bool_" and 2 in sizes and len(sizes) == 2 and 4 not in sizes:
            return  # MLX negates bools to pad 2-vectors and fails; we give the value.
        raises_like(lambda: mx.linalg.cross(ao, bo, axis), lambda: mlx.linalg.cross(at, bt, axis))
        return
    assert_same(mx.linalg.cross(ao, bo, axis), want)


def test_cross_complex():
    h = np.array([1 + 1j, 2, 3], np.complex64)
    ao, at = both(h)
    bo, bt = both(np.ones(3, np.float32))
    assert_same(mx.linalg.cross(ao, bo), mlx.linalg.cross(at, bt))


# -- transforms against MLX, where MLX has them ---------------------------------------------------

def _grad_pair(fo, ft, h):
    ours, theirs = both(h)
    return mx.grad(fo)(ours), mlx.grad(ft)(theirs)


def test_grads_match_mlx():
    h = rand((3, 3), shift=3.0)
    for fo, ft in [
            (lambda a: mx.linalg.det(a), lambda a: mlx.linalg.det(a)),
            (lambda a: mx.linalg.slogdet(a)[1], lambda a: mlx.linalg.slogdet(a)[1]),
            (lambda a: mx.linalg.norm(a), lambda a: mlx.linalg.norm(a)),
            (lambda a: mx.linalg.norm(a, 1, axis=0).sum(), lambda a: mlx.linalg.norm(a, 1, axis=0).sum()),
            (lambda a: mx.linalg.norm(a, 3, axis=1).sum(), lambda a: mlx.linalg.norm(a, 3, axis=1).sum()),
            (lambda a: mx.linalg.cross(a, a * a).sum(), lambda a: mlx.linalg.cross(a, a * a).sum())]:
        g, gt = _grad_pair(fo, ft, h)
        assert_same(g, gt, rtol=1e-4, atol=1e-5)


def test_det_grad_of_singular_matrix_is_the_cofactor_matrix():
    for h in [np.array([[1.0, 2.0], [2.0, 4.0]], np.float32),
              np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]], np.float32)]:
        g, gt = _grad_pair(mx.linalg.det, mlx.linalg.det, h)
        assert_same(g, gt, rtol=1e-4, atol=1e-4)


def test_vmap_matches_mlx():
    h = rand((4, 3, 3), spd=True)
    b = rand((4, 3))
    ours, theirs = both(h)
    for fo, ft in [
            (mx.linalg.inv, mlx.linalg.inv),
            (mx.linalg.cholesky, mlx.linalg.cholesky),
            (mx.linalg.det, mlx.linalg.det),
            (lambda a: mx.linalg.eigvalsh(a), lambda a: mlx.linalg.eigvalsh(a)),
            (lambda a: mx.linalg.svd(a, compute_uv=False), lambda a: mlx.linalg.svd(a, compute_uv=False)),
            (lambda a: mx.linalg.norm(a, 2), lambda a: mlx.linalg.norm(a, 2)),
            (lambda a: mx.linalg.norm(a, axis=0), lambda a: mlx.linalg.norm(a, axis=0))]:
        for ax in (0, 2):
            assert_same(mx.vmap(fo, in_axes=ax)(mx.moveaxis(ours, 0, ax)),
                        mlx.vmap(ft, in_axes=ax)(mlx.moveaxis(theirs, 0, ax)), rtol=1e-4, atol=1e-5)
    bo, bt = both(b)
    got = mx.vmap(mx.linalg.cross, in_axes=(1, 0))(mx.moveaxis(ours, 0, 1), bo)
    assert_same(got, mlx.vmap(mlx.linalg.cross, in_axes=(1, 0))(mlx.moveaxis(theirs, 0, 1), bt))


def test_vmap_of_tri_inv_and_solve_match_a_loop():
    # MLX's vmap of tri_inv / cholesky_inv loses the triangle, and of solve fails.
    h = rand((4, 3, 3), shift=3.0)
    b = rand((4, 3))
    for fn, args in [(mx.linalg.tri_inv, (h,)), (mx.linalg.cholesky_inv, (h,)),
                     (lambda a: mx.linalg.tri_inv(a, upper=True), (h,)),
                     (mx.linalg.solve, (h, b)), (mx.linalg.solve_triangular, (h, b)),
                     (lambda a: mx.linalg.qr(a)[1], (h,)), (lambda a: mx.linalg.lu(a)[0], (h,))]:
        got = mx.vmap(fn)(*[mx.array(x) for x in args])
        want = mx.stack([fn(*[mx.array(x[i]) for x in args]) for i in range(4)])
        np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-5, atol=1e-6)


def test_grad_of_solve_and_cholesky_pipeline():
    # A Gaussian log-likelihood, differentiated through cholesky and solve_triangular,
    # against finite differences in float64.
    h = rand((3, 3), "float64")
    y = mx.array(rand((3,), "float64"), dtype=mx.float64)

    def nll(x):
        cov = x @ x.T + 3.0 * mx.eye(3, dtype=mx.float64)
        low = mx.linalg.cholesky(cov)
        z = mx.linalg.solve_triangular(low, y)
        return 0.5 * mx.sum(z * z) + mx.sum(mx.log(mx.diagonal(low)))

    f64 = lambda v: mx.array(v, dtype=mx.float64)
    g = np.array(mx.grad(nll)(f64(h)))
    eps = 1e-6
    fd = np.zeros_like(h)
    for i in range(3):
        for j in range(3):
            d = np.zeros_like(h)
            d[i, j] = eps
            fd[i, j] = (float(nll(f64(h + d))) - float(nll(f64(h - d)))) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7)


def test_gpu_free_stream_argument():
    a = mx.array([[2.0, 0.0], [0.0, 4.0]])
    assert mx.linalg.inv(a, stream=mx.cpu).shape == (2, 2)
    assert mx.linalg.norm(a, stream=mx.cpu).shape == ()
