"""mx.fast against real MLX's mlx.core.fast: values, dtypes, shapes, gradients with
respect to every differentiable input, vmap, compile, and error types.

MLX computes the norms in float32 even for float64 inputs, so float64 results agree to
float32 precision only.
"""
import doctest

import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.core.fast as fast_module
from oracle import mlx, needs_mlx, assert_same, raises_like, to_mlx

pytestmark = needs_mlx

rng = np.random.default_rng(0)
HALF_AND_FULL = ["float32", "float16", "bfloat16"]
GRAD_TOL = dict(rtol=1e-4, atol=1e-5)


def pair(shape, dtype="float32", scale=1.0):
    """The same random values as an mlxpy array and a real-MLX array."""
    ours = mx.array((rng.standard_normal(shape) * scale).astype(np.float32))
    ours = ours.astype(getattr(mx, dtype))
    return ours, to_mlx(ours)


def theirs(x):
    """The real-MLX counterpart of an argument (arrays converted, the rest kept)."""
    return to_mlx(x) if isinstance(x, mx.array) else x


def close(dtype):
    """MLX computes float64 norms and rope angles in float32: compare at that precision."""
    return dict(rtol=2e-6, atol=2e-6) if dtype == "float64" else {}


# -- layer_norm and rms_norm -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", HALF_AND_FULL + ["float64"])
@pytest.mark.parametrize("shape", [(2, 3, 8), (5,), (4, 1)])
def test_norm_values_and_dtypes(shape, dtype):
    x, X = pair(shape, dtype, scale=3.0)
    w, W = pair(shape[-1:])
    b, B = pair(shape[-1:])
    for weight, bias in [(None, None), (w, None), (None, b), (w, b),
                         (w.astype(mx.float16), b.astype(mx.bfloat16))]:
        ours = mx.fast.layer_norm(x, weight, bias, 1e-5)
        assert_same(ours, mlx.fast.layer_norm(X, theirs(weight), theirs(bias), 1e-5),
                    **close(dtype))
    for weight in [None, w, w.astype(mx.float16)]:
        assert_same(mx.fast.rms_norm(x, weight, 1e-4),
                    mlx.fast.rms_norm(X, theirs(weight), 1e-4), **close(dtype))


def test_half_norms_normalize_in_float32():
    """Values that overflow float16 when squared still normalize correctly."""
    x = mx.array([[300.0, -200.0, 100.0]]).astype(mx.float16)
    for ours, ref in [(mx.fast.rms_norm(x, None, 1e-5),
                       mlx.fast.rms_norm(to_mlx(x), None, 1e-5)),
                      (mx.fast.layer_norm(x, None, None, 1e-5),
                       mlx.fast.layer_norm(to_mlx(x), None, None, 1e-5))]:
        assert np.isfinite(np.array(ours)).all()
        assert_same(ours, ref)


def test_norm_gradients_every_input():
    x, X = pair((3, 4, 6), scale=2.0)
    w, W = pair((6,))
    b, B = pair((6,))
    ct, CT = pair((3, 4, 6))

    def ln(lib, ct):
        return lambda x, w, b: (lib.fast.layer_norm(x, w, b, 1e-5) * ct).sum()

    def rms(lib, ct):
        return lambda x, w: (lib.fast.rms_norm(x, w, 1e-5) * ct).sum()

    assert_same(mx.grad(ln(mx, ct), argnums=(0, 1, 2))(x, w, b),
                mlx.grad(ln(mlx, CT), argnums=(0, 1, 2))(X, W, B), **GRAD_TOL)
    assert_same(mx.grad(rms(mx, ct), argnums=(0, 1))(x, w),
                mlx.grad(rms(mlx, CT), argnums=(0, 1))(X, W), **GRAD_TOL)
    # Without weight and bias, and in half precision (gradients keep the input dtype).
    xh, XH = x.astype(mx.float16), X.astype(mlx.float16)
    assert_same(mx.grad(lambda x: mx.fast.layer_norm(x, None, None, 1e-5)[..., 0].sum())(xh),
                mlx.grad(lambda x: mlx.fast.layer_norm(x, None, None, 1e-5)[..., 0].sum())(XH),
                rtol=1e-2, atol=1e-2)
    assert_same(mx.grad(lambda x: mx.fast.rms_norm(x, None, 1e-5)[..., 0].sum())(xh),
                mlx.grad(lambda x: mlx.fast.rms_norm(x, None, 1e-5)[..., 0].sum())(XH),
                rtol=1e-2, atol=1e-2)


def test_norms_under_vmap_and_compile():
    x, X = pair((3, 4, 6))
    w, W = pair((6,))
    assert_same(mx.vmap(lambda x: mx.fast.layer_norm(x, w, None, 1e-5), in_axes=1)(x),
                mlx.vmap(lambda x: mlx.fast.layer_norm(x, W, None, 1e-5), in_axes=1)(X))
    assert_same(mx.vmap(lambda w: mx.fast.rms_norm(x, w, 1e-5))(mx.stack([w, w * 2])),
                mlx.vmap(lambda w: mlx.fast.rms_norm(X, w, 1e-5))(mlx.stack([W, W * 2])))
    compiled = mx.compile(lambda x, w: mx.fast.layer_norm(x, w, w, 1e-5))
    assert_same(compiled(x, w), mlx.fast.layer_norm(X, W, W, 1e-5))


def test_norm_errors():
    x, X = pair((2, 4))
    cases = [
        lambda lib, x: lib.fast.layer_norm(lib.array(1.0), None, None, 1e-5),
        lambda lib, x: lib.fast.rms_norm(lib.array(1.0), None, 1e-5),
        lambda lib, x: lib.fast.layer_norm(x, lib.ones((3,)), None, 1e-5),
        lambda lib, x: lib.fast.layer_norm(x, None, lib.ones((3,)), 1e-5),
        lambda lib, x: lib.fast.layer_norm(x, lib.ones((1, 4)), None, 1e-5),
        lambda lib, x: lib.fast.layer_norm(x, lib.array(2.0), None, 1e-5),
        lambda lib, x: lib.fast.rms_norm(x, lib.ones((3,)), 1e-5),
        lambda lib, x: lib.fast.rms_norm(x, lib.ones((4, 4)), 1e-5),
        lambda lib, x: lib.fast.layer_norm(lib.array([[1, 2]]), None, None, 1e-5),
        lambda lib, x: lib.fast.rms_norm(lib.array([[1, 2]]), None, 1e-5),
        lambda lib, x: lib.fast.layer_norm(x.tolist(), None, None, 1e-5),
        lambda lib, x: lib.fast.layer_norm(x, None, None),
        lambda lib, x: lib.fast.rms_norm(x, [1.0] * 4, 1e-5),
    ]
    for case in cases:
        raises_like(lambda: case(mx, x), lambda: case(mlx, X))
    # An integer weight promotes to the input's float dtype, as in MLX.
    assert_same(mx.fast.rms_norm(x, mx.ones((4,), dtype=mx.int32), 1e-5),
                mlx.fast.rms_norm(X, mlx.ones((4,), dtype=mlx.int32), 1e-5))


# -- rope ------------------------------------------------------------------------------------

def _offsets(batch):
    return [0, 3, -2, np.int32(4), mx.array(2), mx.array([5], dtype=mx.uint8),
            mx.array(list(range(1, batch + 1)), dtype=mx.int64)]


@pytest.mark.parametrize("shape", [(2, 3, 5, 8), (2, 5, 8), (2, 2, 2, 4, 6)])
@pytest.mark.parametrize("traditional", [False, True])
def test_rope_values(shape, traditional):
    x, X = pair(shape)
    last = shape[-1]
    for dims in sorted({last, 4}):
        for offset in _offsets(shape[0]):
            for use_freqs in (False, True):
                freqs = mx.array([1.0, 3.0, 9.0, 27.0][:dims // 2]) if use_freqs else None
                kw = dict(traditional=traditional, base=None if use_freqs else 500.0,
                          scale=0.5, offset=offset, freqs=freqs)
                ours = mx.fast.rope(x, dims, **kw)
                ref = mlx.fast.rope(X, dims, **{k: theirs(v) for k, v in kw.items()})
                assert_same(ours, ref)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_rope_dtypes(dtype):
    x, X = pair((2, 2, 6, 8), dtype)
    for traditional in (False, True):
        kw = dict(traditional=traditional, base=10000.0, scale=1.0, offset=7)
        assert_same(mx.fast.rope(x, 6, **kw), mlx.fast.rope(X, 6, **kw), **close(dtype))
    freqs = mx.array([1.0, 2.0, 4.0, 8.0], dtype=mx.float16)
    kw = dict(traditional=False, base=None, scale=2.0, offset=1)
    assert_same(mx.fast.rope(x, 8, freqs=freqs, **kw),
                mlx.fast.rope(X, 8, freqs=to_mlx(freqs), **kw), **close(dtype))


def test_rope_gradients_and_transforms():
    x, X = pair((2, 3, 4, 8))
    ct, CT = pair((2, 3, 4, 8))
    freqs = mx.array([1.0, 2.0, 5.0])
    for traditional in (False, True):
        kw = dict(traditional=traditional, base=None, scale=0.7, offset=mx.array([1, 4]))
        KW = dict(kw, offset=to_mlx(kw["offset"]))

        def loss(lib, ct, **kw):
            return lambda x, f: (lib.fast.rope(x, 6, freqs=f, **kw) * ct).sum()

        assert_same(mx.grad(loss(mx, ct, **kw), argnums=(0, 1))(x, freqs),
                    mlx.grad(loss(mlx, CT, **KW), argnums=(0, 1))(X, to_mlx(freqs)),
                    rtol=1e-4, atol=1e-4)
    kw = dict(traditional=False, base=10000.0, scale=1.0)
    assert_same(mx.vmap(lambda x: mx.fast.rope(x, 8, offset=2, **kw), in_axes=1)(x),
                mlx.vmap(lambda x: mlx.fast.rope(x, 8, offset=2, **kw), in_axes=1)(X))
    assert_same(mx.vmap(lambda o: mx.fast.rope(x, 8, offset=o, **kw))(mx.array([1, 2])),
                mlx.vmap(lambda o: mlx.fast.rope(X, 8, offset=o, **kw))(mlx.array([1, 2])))
    compiled = mx.compile(lambda x: mx.fast.rope(x, 8, offset=3, **kw))
    assert_same(compiled(x), mlx.fast.rope(X, 8, offset=3, **kw))


def test_rope_errors():
    x, X = pair((2, 3, 4, 8))
    kw = dict(traditional=False, base=10000.0, scale=1.0, offset=0)
    cases = [
        lambda lib, x: lib.fast.rope(x[0, 0], 8, **kw),
        lambda lib, x: lib.fast.rope(x, 5, **kw),
        lambda lib, x: lib.fast.rope(x, 10, **kw),
        lambda lib, x: lib.fast.rope(x, 0, **kw),
        lambda lib, x: lib.fast.rope(x.astype(lib.int32), 8, **kw),
        lambda lib, x: lib.fast.rope(x, 8, **dict(kw, freqs=lib.ones((4,)))),
        lambda lib, x: lib.fast.rope(x, 8, **dict(kw, base=None)),
        lambda lib, x: lib.fast.rope(x, 8, **dict(kw, base=None, freqs=lib.ones((3,)))),
        lambda lib, x: lib.fast.rope(x, 8, **dict(kw, base=None, freqs=lib.ones((1, 4)))),
        lambda lib, x: lib.fast.rope(x, 8, **dict(kw, offset=lib.array([1, 2, 3]))),
        lambda lib, x: lib.fast.rope(x, 8, **dict(kw, offset=lib.array([[1, 2]]))),
        lambda lib, x: lib.fast.rope(x, 8, **dict(kw, offset=lib.array(1.0))),
        lambda lib, x: lib.fast.rope(x, 8, **dict(kw, offset=1.0)),
        lambda lib, x: lib.fast.rope(x, 8, **dict(kw, offset=True)),
        lambda lib, x: lib.fast.rope(x, 8, **dict(kw, offset=None)),
        lambda lib, x: lib.fast.rope(x, 8, **dict(kw, offset="1")),
        lambda lib, x: lib.fast.rope(x, 8.0, **kw),
        lambda lib, x: lib.fast.rope(x, 8, False, 10000.0, 1.0, 0),
        lambda lib, x: lib.fast.rope(x, 8, traditional=False, base=10000.0, offset=0),
    ]
    for case in cases:
        raises_like(lambda: case(mx, x), lambda: case(mlx, X))


# -- scaled_dot_product_attention ------------------------------------------------------------

SDPA_HEADS = [(4, 2), (2, 2), (3, 1)]
SDPA_LENGTHS = [(3, 5), (6, 4)]


def _masks(n_q, q_len, kv_len, dtype):
    """Masks of each kind and broadcast shape, as (name, mlxpy mask)."""
    def bools(*shape):
        return mx.array(rng.random(shape) > 0.3)
    return [("none", None), ("causal", "causal"),
            ("bool", bools(q_len, kv_len)), ("bool4", bools(2, n_q, q_len, kv_len)),
            ("bool_heads", bools(n_q, 1, kv_len)), ("bool_all_off", mx.zeros((q_len, kv_len),
                                                                              dtype=mx.bool_)),
            ("add", pair((q_len, kv_len), dtype)[0]), ("add4", pair((2, 1, q_len, kv_len),
                                                                    dtype)[0]),
            ("add_heads", pair((n_q, q_len, kv_len), dtype)[0]),
            ("add_int", mx.array(rng.integers(-2, 2, (q_len, kv_len)), dtype=mx.int8))]


@pytest.mark.parametrize("dtype", HALF_AND_FULL)
@pytest.mark.parametrize("heads", SDPA_HEADS)
def test_sdpa_values(heads, dtype):
    n_q, n_kv = heads
    for q_len, kv_len in SDPA_LENGTHS:
        q, Q = pair((2, n_q, q_len, 8), dtype)
        k, K = pair((2, n_kv, kv_len, 8), dtype)
        v, V = pair((2, n_kv, kv_len, 6), dtype)
        for _, mask in _masks(n_q, q_len, kv_len, dtype):
            for sinks in (None, pair((n_q,), dtype)[0]):
                ours = mx.fast.scaled_dot_product_attention(q, k, v, scale=0.4, mask=mask,
                                                            sinks=sinks)
                ref = mlx.fast.scaled_dot_product_attention(Q, K, V, scale=0.4,
                                                            mask=theirs(mask),
                                                            sinks=theirs(sinks))
                assert_same(ours, ref)


def test_sdpa_mixed_dtypes_promote():
    q, Q = pair((1, 2, 3, 4), "float16")
    k, K = pair((1, 2, 3, 4))
    v, V = pair((1, 2, 3, 4), "bfloat16")
    sinks = mx.array([1, 2])
    assert_same(mx.fast.scaled_dot_product_attention(q, k, v, scale=1.0, sinks=sinks),
                mlx.fast.scaled_dot_product_attention(Q, K, V, scale=1.0,
                                                      sinks=to_mlx(sinks)))


def test_sdpa_gradients_every_input():
    q, Q = pair((2, 4, 3, 8))
    k, K = pair((2, 2, 5, 8))
    v, V = pair((2, 2, 5, 6))
    mask, MASK = pair((4, 3, 5))
    sinks, SINKS = pair((4,))
    ct, CT = pair((2, 4, 3, 6))

    def loss(lib, ct):
        def f(q, k, v, m, s):
            out = lib.fast.scaled_dot_product_attention(q, k, v, scale=0.3, mask=m, sinks=s)
            return (out * ct).sum()
        return f

    assert_same(mx.grad(loss(mx, ct), argnums=(0, 1, 2, 3, 4))(q, k, v, mask, sinks),
                mlx.grad(loss(mlx, CT), argnums=(0, 1, 2, 3, 4))(Q, K, V, MASK, SINKS),
                **GRAD_TOL)

    def causal(lib, ct):
        return lambda q, k, v: (lib.fast.scaled_dot_product_attention(
            q, k, v, scale=0.3, mask="causal") * ct).sum()

    assert_same(mx.grad(causal(mx, ct), argnums=(0, 1, 2))(q, k, v),
                mlx.grad(causal(mlx, CT), argnums=(0, 1, 2))(Q, K, V), **GRAD_TOL)


def test_sdpa_vmap_and_compile():
    q, Q = pair((3, 1, 4, 3, 8))
    k, K = pair((1, 2, 5, 8))
    v, V = pair((1, 2, 5, 8))

    def attend(lib, k, v):
        return lambda q: lib.fast.scaled_dot_product_attention(q, k, v, scale=0.5,
                                                               mask="causal")

    assert_same(mx.vmap(attend(mx, k, v))(q), mlx.vmap(attend(mlx, K, V))(Q))
    assert_same(mx.compile(attend(mx, k, v))(q[0]), attend(mlx, K, V)(Q[0]))


def test_sdpa_errors():
    q, Q = pair((2, 4, 3, 8))
    k, K = pair((2, 2, 5, 8))
    v, V = pair((2, 2, 5, 6))
    sdpa = "scaled_dot_product_attention"
    cases = [
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q, k, v),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q, k, v, scale=1.0, mask="foo"),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q[0], k[0], v[0], scale=1.0),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q[:, :3], k, v, scale=1.0),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q, k, v[:, :1], scale=1.0),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q, k[..., :4], v, scale=1.0),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q, k, v[:, :, :4], scale=1.0),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q, k[:1], v[:1], scale=1.0),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(
            q.astype(lib.int32), k.astype(lib.int32), v.astype(lib.int32), scale=1.0),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(
            q, k, v, scale=1.0, mask=lib.ones((1, 2, 4, 3, 5), dtype=lib.bool_)),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q, k, v, scale=1.0,
                                                     mask=lib.ones((4, 5))),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(
            q, k, v, scale=1.0, mask=lib.ones((3, 5), dtype=lib.float64)),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(
            q.astype(lib.float16), k.astype(lib.float16), v.astype(lib.float16), scale=1.0,
            mask=lib.ones((3, 5))),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q, k, v, scale=1.0, sinks=lib.ones((2,))),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q, k, v, scale=1.0,
                                                     sinks=lib.ones((1, 4))),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(
            q.astype(lib.float16), k.astype(lib.float16), v.astype(lib.float16), scale=1.0,
            sinks=lib.ones((4,))),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q, k, v, scale=1.0, force_fused=True),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q, k, v, scale=1.0, mask=[[True] * 5] * 3),
        lambda lib, q, k, v: getattr(lib.fast, sdpa)(q.tolist(), k, v, scale=1.0),
    ]
    for case in cases:
        raises_like(lambda: case(mx, q, k, v), lambda: case(mlx, Q, K, V))


def test_sdpa_empty_queries():
    # MLX is not evaluated on empty arrays; the shape follows the rule.
    q, k, v = mx.zeros((2, 4, 0, 8)), mx.zeros((2, 2, 5, 8)), mx.zeros((2, 2, 5, 6))
    out = mx.fast.scaled_dot_product_attention(q, k, v, scale=1.0, mask="causal")
    assert out.shape == (2, 4, 0, 6) and np.array(out).size == 0


# -- cross_entropy ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", HALF_AND_FULL + ["float64"])
def test_cross_entropy_values(dtype):
    logits, L = pair((2, 3, 7), dtype, scale=10.0)
    for target_dtype in (mx.int32, mx.uint8, mx.int64):
        targets = mx.array(rng.integers(0, 7, (2, 3)), dtype=target_dtype)
        ours = mx.fast.cross_entropy(logits, targets)
        ref = mlx.fast.cross_entropy(L, to_mlx(targets))
        assert ours.dtype == mx.float32
        # The reduction runs in the logits' dtype: at most one half-precision ulp apart.
        ulp = {"float16": 2 ** -10, "bfloat16": 2 ** -7}.get(dtype, 1e-6)
        assert_same(ours, ref, rtol=ulp, atol=ulp)
    targets = mx.array(rng.integers(0, 7, ()))
    assert_same(mx.fast.cross_entropy(logits[0, 0], targets),
                mlx.fast.cross_entropy(L[0, 0], to_mlx(targets)), **close(dtype))


def test_cross_entropy_transforms():
    logits, L = pair((4, 6))
    targets = mx.array([0, 5, 2, 2])
    T = to_mlx(targets)
    ct, CT = pair((4,))
    assert_same(mx.grad(lambda z: (mx.fast.cross_entropy(z, targets) * ct).sum())(logits),
                mlx.grad(lambda z: (mlx.fast.cross_entropy(z, T) * CT).sum())(L), **GRAD_TOL)
    assert_same(mx.vmap(lambda z, t: mx.fast.cross_entropy(z, t))(logits, targets),
                mlx.vmap(lambda z, t: mlx.fast.cross_entropy(z, t))(L, T))
    assert_same(mx.compile(mx.fast.cross_entropy)(logits, targets),
                mlx.fast.cross_entropy(L, T))


def test_cross_entropy_errors():
    logits, L = pair((2, 3, 5))
    targets = mx.zeros((2, 3), dtype=mx.int32)
    T = to_mlx(targets)
    cases = [
        lambda lib, z, t: lib.fast.cross_entropy(z, t.astype(lib.float32)),
        lambda lib, z, t: lib.fast.cross_entropy(z, t.astype(lib.bool_)),
        lambda lib, z, t: lib.fast.cross_entropy(z, t[:1]),
        lambda lib, z, t: lib.fast.cross_entropy(z, t[..., None]),
        lambda lib, z, t: lib.fast.cross_entropy(z, t[0]),
        lambda lib, z, t: lib.fast.cross_entropy(lib.array(1.0), lib.array(0)),
        lambda lib, z, t: lib.fast.cross_entropy(z.astype(lib.int32), t),
        lambda lib, z, t: lib.fast.cross_entropy(z.tolist(), t),
    ]
    for case in cases:
        raises_like(lambda: case(mx, logits, targets), lambda: case(mlx, L, T))


# -- gated_delta_update ----------------------------------------------------------------------

def _gated_delta_inputs(batch=2, steps=5, key_heads=2, key_dim=3, value_heads=4, value_dim=2,
                        per_key_decay=False):
    gate_shape = (batch, steps, value_heads) + ((key_dim,) if per_key_decay else ())
    ours = [pair((batch, steps, key_heads, key_dim))[0], pair((batch, steps, key_heads,
                                                                key_dim))[0],
            pair((batch, steps, value_heads, value_dim))[0],
            mx.array(rng.uniform(0.5, 1.0, gate_shape).astype(np.float32)),
            mx.array(rng.uniform(0.0, 1.0, (batch, steps, value_heads)).astype(np.float32))]
    state = pair((batch, value_heads, value_dim, key_dim))[0]
    mask = mx.array(rng.random((batch, steps)) > 0.4)
    return ours, state, mask


@pytest.mark.parametrize("per_key_decay", [False, True])
@pytest.mark.parametrize("heads", [(2, 4), (3, 3)])
def test_gated_delta_values(heads, per_key_decay):
    args, state, mask = _gated_delta_inputs(key_heads=heads[0], value_heads=heads[1],
                                            per_key_decay=per_key_decay)
    margs = [to_mlx(a) for a in args]
    for extra in [(), (state,), (state, mask), (None, mask), (state[:, :1],)]:
        ours = mx.fast.gated_delta_update(*args, *extra)
        ref = mlx.fast.gated_delta_update(*margs, *(theirs(e) for e in extra))
        assert_same(ours, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtypes", [("float16",) * 5, ("bfloat16",) * 3 + ("float32",) * 2,
                                    ("float16", "float32") + ("float16",) * 3,
                                    ("int32", "float16", "float16", "int32", "int32"),
                                    ("int32",) * 5, ("float64",) * 5])
def test_gated_delta_dtypes(dtypes):
    args, state, _ = _gated_delta_inputs()
    if dtypes[0] == "int32":
        args[0] = mx.array(rng.integers(-2, 3, args[0].shape))
    args = [a.astype(getattr(mx, d)) for a, d in zip(args, dtypes)]
    margs = [to_mlx(a) for a in args]
    ours = mx.fast.gated_delta_update(*args, state)
    ref = mlx.fast.gated_delta_update(*margs, to_mlx(state))
    assert_same(ours, ref, rtol=1e-2, atol=1e-2)


def test_gated_delta_gradients_and_vmap():
    args, state, mask = _gated_delta_inputs(steps=3)
    margs = [to_mlx(a) for a in args]
    ct_y, CT_Y = pair((2, 3, 4, 2))
    ct_s, CT_S = pair(state.shape)

    def loss(lib, ct_y, ct_s, mask):
        def f(*a):
            y, s = lib.fast.gated_delta_update(*a, mask)
            return (y * ct_y).sum() + (s * ct_s).sum()
        return f

    argnums = tuple(range(6))
    assert_same(mx.grad(loss(mx, ct_y, ct_s, mask), argnums=argnums)(*args, state),
                mlx.grad(loss(mlx, CT_Y, CT_S, to_mlx(mask)), argnums=argnums)(
                    *margs, to_mlx(state)), rtol=1e-4, atol=1e-4)
    stacked = mx.stack([args[0], args[0] * 2])
    assert_same(mx.vmap(lambda q: mx.fast.gated_delta_update(q, *args[1:])[0])(stacked),
                mlx.vmap(lambda q: mlx.fast.gated_delta_update(q, *margs[1:])[0])(
                    to_mlx(stacked)), rtol=1e-5, atol=1e-5)


def test_gated_delta_errors():
    args, state, mask = _gated_delta_inputs()
    margs = [to_mlx(a) for a in args]

    def with_arg(i, change):
        return lambda lib, a: lib.fast.gated_delta_update(
            *[change(x) if j == i else x for j, x in enumerate(a)])

    cases = [with_arg(1, lambda k: k[:, :, :1]),
             with_arg(3, lambda g: g[:, :, :3]),
             with_arg(4, lambda b: b[:, :, :3])]
    for case in cases:
        raises_like(lambda: case(mx, args), lambda: case(mlx, margs))
    # MLX raises an internal IndexError for 3-d inputs and stacks nothing for T = 0;
    # mlxpy says what is wrong, and handles T = 0.
    with pytest.raises(ValueError, match="gated_delta_update"):
        mx.fast.gated_delta_update(*[a[0] for a in args])
    with pytest.raises(ValueError, match="mask"):
        mx.fast.gated_delta_update(*args, None, mask[:, :2])
    with pytest.raises(ValueError, match="initial_state"):
        mx.fast.gated_delta_update(*args, state[..., :2])
    with pytest.raises(TypeError, match="gated_delta_update"):
        mx.fast.gated_delta_update(args[0].tolist(), *args[1:])
    empty = [a[:, :0] for a in args]
    y, final = mx.fast.gated_delta_update(*empty, state)
    assert y.shape == (2, 0, 4, 2)
    np.testing.assert_array_equal(np.array(final), np.array(state))


def test_doctests():
    result = doctest.testmod(fast_module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
