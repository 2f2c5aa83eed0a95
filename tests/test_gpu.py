"""The GPU backend (CuPy): every primitive against the CPU, device moves, streams,
memory, fused CUDA kernels and the transforms. Skipped where no CUDA GPU is usable.

On a GPU machine the whole suite runs on the GPU (mlxpy's default device there);
MLXPY_DEFAULT_DEVICE=cpu runs it on the CPU instead, except for this file, whose tests
make the GPU the default device for themselves.
"""
import numpy as np
import pytest

import mlxpy.core as mx
from prim_cases import CASES
from oracle import sample_domain

pytestmark = pytest.mark.skipif(not mx.is_available(mx.gpu), reason="no usable CUDA GPU")

ALL = [(name, i, c) for name, cs in sorted(CASES.items()) for i, c in enumerate(cs)]


@pytest.fixture(autouse=True)
def _on_the_gpu():
    """These tests are about the GPU: they run with it as the default device even when
    MLXPY_DEFAULT_DEVICE=cpu runs the rest of the suite on the CPU."""
    previous = mx.default_device()
    mx.set_default_device(mx.gpu)
    yield
    mx.set_default_device(previous)


def _run_on(device, c, hosts):
    with mx.stream(device):
        args = [mx.array(h, dtype=mx.float64) if h.dtype == np.float64 else mx.array(h)
                for h in hosts]
        out = c.fn(*args)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        mx.eval(outs)
    return outs


def _assert_close(a, b, what):
    assert a.dtype == b.dtype and a.shape == b.shape, what
    ha, hb = np.array(a), np.array(b)
    if ha.dtype.kind in "biu":
        np.testing.assert_array_equal(ha, hb, err_msg=what)
    else:
        np.testing.assert_allclose(ha.astype(np.complex128 if ha.dtype.kind == "c" else np.float64),
                                   hb.astype(np.complex128 if hb.dtype.kind == "c" else np.float64),
                                   rtol=2e-5, atol=2e-6, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("name,i,c", ALL, ids=[f"{n}-{i}" for n, i, _ in ALL])
def test_every_primitive_matches_the_cpu(name, i, c):
    rng = np.random.default_rng(i)
    hosts = [sample_domain(tuple(shape), dom, rng) for shape, dom in c.args]
    cpu = _run_on(mx.cpu, c, hosts)
    gpu = _run_on(mx.gpu, c, hosts)
    for a, b in zip(cpu, gpu):
        _assert_close(a, b, name)


def test_gpu_is_the_default_device_and_data_lives_there(monkeypatch):
    import cupy
    from mlxpy.core import device
    monkeypatch.delenv("MLXPY_DEFAULT_DEVICE", raising=False)
    assert device._initial_device() == mx.gpu
    monkeypatch.setenv("MLXPY_DEFAULT_DEVICE", "cpu")
    assert device._initial_device() == mx.cpu
    y = mx.ones((4,)) * 2
    mx.eval(y)
    assert isinstance(y._node.data, cupy.ndarray)


def test_arrays_move_between_devices():
    a = mx.arange(6, stream=mx.cpu).reshape(2, 3)
    b = mx.multiply(a, 2, stream=mx.gpu)
    c = mx.add(b, a, stream=mx.cpu)
    d = mx.sum(c, stream=mx.gpu)
    assert d.item() == 45
    assert np.array(c).tolist() == [[0, 3, 6], [9, 12, 15]]


def test_random_bits_are_identical_on_both_devices():
    key = mx.random.key(7)
    with mx.stream(mx.cpu):
        a = mx.random.bits((1000,), key=key)
        u = mx.random.uniform(shape=(257,), key=key)
    with mx.stream(mx.gpu):
        b = mx.random.bits((1000,), key=key)
        v = mx.random.uniform(shape=(257,), key=key)
    np.testing.assert_array_equal(np.array(a), np.array(b))
    np.testing.assert_array_equal(np.array(u), np.array(v))


def test_streams_are_cuda_streams_and_synchronize():
    s = mx.new_stream(mx.gpu)
    with mx.stream(s):
        x = mx.ones((1 << 20,)) + 1
    y = x * 3  # default stream, after s's work
    mx.eval(y)
    mx.synchronize(s)
    mx.synchronize()
    assert y.sum().item() == 6 * (1 << 20)


def test_memory_functions_report_device_memory():
    mx.clear_cache()
    before = mx.get_active_memory()
    x = mx.zeros((1 << 22,))
    mx.eval(x)
    assert mx.get_active_memory() >= before + (1 << 24)
    del x
    cached = mx.get_cache_memory()
    assert cached >= 1 << 24  # CuPy's pool keeps the freed buffer
    mx.clear_cache()
    assert mx.get_cache_memory() <= cached - (1 << 24)


def _fused(fn, *args):
    from mlxpy.core.backend import cuda_fusion
    before = len(cuda_fusion._kernels)
    out = mx.compile(fn)(*args)
    mx.eval(out)
    return out, len(cuda_fusion._kernels) - before


@pytest.mark.parametrize("n", [1, 3, 16, 1001, 1 << 16])
@pytest.mark.parametrize("dtype", [mx.float32, mx.float16, mx.float64])
def test_compiled_regions_run_as_cuda_kernels(n, dtype):
    def gelu(x, b):
        return 0.5 * x * (1 + mx.tanh(0.7978845608 * (x + 0.044715 * x ** 3))) + b

    x = mx.random.normal((n,), key=mx.random.key(n)).astype(dtype)
    b = mx.array(0.25, dtype=dtype)
    out, _ = _fused(gelu, x, b)
    with mx.stream(mx.cpu):
        ref = gelu(x, b)
    tol = 2e-3 if dtype == mx.float16 else 1e-5
    np.testing.assert_allclose(np.array(out.astype(mx.float32)), np.array(ref.astype(mx.float32)),
                               rtol=tol, atol=tol)


def test_fused_kernel_handles_broadcast_strided_and_misaligned_inputs():
    from mlxpy.core.backend import cuda_fusion
    a = mx.random.normal((33, 17), key=mx.random.key(1))
    row = mx.random.normal((17,), key=mx.random.key(2))
    col = mx.random.normal((33, 1), key=mx.random.key(3))
    f = mx.compile(lambda a, t, r, c, m: (mx.exp(a) * r - c) / (1 + mx.abs(t)) + m,
                   shapeless=False)
    t = mx.random.normal((17, 33), key=mx.random.key(4)).T   # a transposed view
    m = mx.random.normal((33 * 17 + 1,), key=mx.random.key(5))[1:].reshape(33, 17)
    before = len(cuda_fusion._kernels)
    out = f(a, t, row, col, m)
    mx.eval(out)
    assert len(cuda_fusion._kernels) > before
    with mx.stream(mx.cpu):
        ref = (mx.exp(a) * row - col) / (1 + mx.abs(t)) + m
    np.testing.assert_allclose(np.array(out), np.array(ref), rtol=1e-5, atol=1e-6)


def test_fused_kernel_comparisons_select_and_integers():
    a = mx.arange(-50, 51, dtype=mx.int32)
    f = mx.compile(lambda a: mx.where(a > 3, a * a - 7, mx.maximum(a, -9)) // 1 + (a == 0))
    g = mx.compile(lambda x: mx.where(mx.isnan(x), 0.0, mx.maximum(x, 0.5)) * (x < 2))
    x = mx.array([np.nan, -1.0, 0.25, 1.0, 3.0, np.inf, -np.inf])
    with mx.stream(mx.cpu):
        ra, rx = f(a), g(x)
    np.testing.assert_array_equal(np.array(f(a)), np.array(ra))
    np.testing.assert_array_equal(np.array(g(x)), np.array(rx))



@pytest.mark.parametrize("dtype", [mx.float32, mx.float64])
def test_many_trigonometric_steps_call_out_of_line_copies(dtype):
    from mlxpy.core.backend import cuda_fusion

    def chain(x):
        for _ in range(6):
            x = mx.cos(mx.sin(x) * 1.01) + mx.arctan2(x, 0.5) - mx.abs(x) ** 1.5 * 0.1
        return x

    x = mx.random.uniform(0.1, 2.0, (37,), key=mx.random.key(2)).astype(dtype)
    out, _ = _fused(chain, x)
    bodies = [src.split("mlxpy_fused", 1)[1] for src in cuda_fusion._kernels]
    assert any("mx_call_sin(" in b and "mx_call_pow(" in b and "mx_call_atan2(" in b
               for b in bodies)
    with mx.stream(mx.cpu):
        ref = chain(x)
    np.testing.assert_allclose(np.array(out), np.array(ref), rtol=1e-5, atol=1e-6)
    # A region with a few such calls keeps them inline.
    before = len(cuda_fusion._kernels)
    few, _ = _fused(lambda x: mx.sin(x) * mx.cos(x) + 2.0, x)
    new = list(cuda_fusion._kernels)[before:]
    assert new
    for src in new:
        body = src.split("mlxpy_fused", 1)[1]
        assert "sin(" in body and "mx_call_" not in body



@pytest.mark.parametrize("dtype", ["float32", "float16", "float64", "int64", "int8", "bool"])
@pytest.mark.parametrize("index_dtype", ["int32", "int64", "uint8", "int16"])
def test_take_along_axis_kernel_matches_the_cpu(dtype, index_dtype):
    from mlxpy.core.backend import cuda_index
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(4, 6, 5)) * 10).astype(dtype)
    lo = 0 if index_dtype == "uint8" else -8
    cases = [((4, 6, 5), rng.integers(lo, 9, (4, 3, 5)), 1),      # clamped and negative
             ((4, 6, 5), rng.integers(lo, 6, (1, 7, 5)), 1),       # indices broadcast
             ((4, 6, 5), rng.integers(0, 5, (4, 6, 2)), -1),
             ((4, 6, 5), rng.integers(0, 4, (9, 1, 1)), 0)]        # x broadcast
    for shape, idx, axis in cases:
        xs = mx.array(x)
        xt = mx.swapaxes(mx.array(np.ascontiguousarray(np.swapaxes(x, 0, 2))), 0, 2)  # strided
        ids = mx.array(idx.astype(index_dtype))
        for operand in (xs, xt):
            got = mx.take_along_axis(operand, ids, axis=axis)
            mx.eval(got)
            with mx.stream(mx.cpu):
                ref = mx.take_along_axis(operand, ids, axis=axis)
            assert got.dtype == ref.dtype and got.shape == ref.shape
            np.testing.assert_array_equal(np.array(got), np.array(ref))
    key = ("take", 3, xs.itemsize, cuda_index._INDEX[np.dtype(index_dtype)])
    assert key in cuda_index._kernels  # the kernel, not CuPy's take_along_axis, ran


def test_take_along_axis_gradient_scatters_with_one_kernel():
    from mlxpy.core.backend import cuda_index
    rng = np.random.default_rng(1)
    x = mx.array(rng.normal(size=(64, 10)).astype(np.float32))
    y = mx.array(rng.integers(-10, 10, (64, 3)).astype(np.int32))  # repeats, negatives
    w = mx.array(rng.normal(size=(64, 3)).astype(np.float32))

    def loss(x):
        return (mx.take_along_axis(x, y, axis=-1) * w).sum()
    got = mx.grad(loss)(x)
    mx.eval(got)
    assert ("scatter_add", 2, "float", "int") in cuda_index._kernels
    with mx.stream(mx.cpu):
        ref = mx.grad(loss)(x)
    np.testing.assert_allclose(np.array(got), np.array(ref), rtol=1e-6, atol=1e-6)
    for dt in (mx.float64, mx.int32, mx.int64):
        z = mx.zeros((5, 4), dtype=dt)
        got = mx.vjp(lambda z: mx.take_along_axis(z, y[:5], axis=1), [z],
                     [mx.ones((5, 3), dtype=dt)])[1][0]
        with mx.stream(mx.cpu):
            ref = mx.vjp(lambda z: mx.take_along_axis(z, y[:5], axis=1), [z],
                         [mx.ones((5, 3), dtype=dt)])[1][0]
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(np.array(got), np.array(ref))



def test_eager_elementwise_chains_run_as_one_kernel(monkeypatch):
    from mlxpy.core import device_eval
    rng = np.random.default_rng(3)
    xh = rng.normal(size=(64, 33)).astype(np.float32)
    bh = rng.normal(size=(33,)).astype(np.float32)
    x, b = mx.array(xh), mx.array(bh)
    mx.eval(x + 0)  # the first GPU evaluation of a process loads the backend midway, unfused
    ran = []
    real = device_eval._run_region

    def counted(root, members, cp_ndarray):
        out = real(root, members, cp_ndarray)
        ran.append((type(root.prim).__name__, len(members), out is not None))
        return out
    monkeypatch.setattr(device_eval, "_run_region", counted)
    y = mx.maximum(x + b, 0)
    mask = (x > 0).astype(mx.float32) * y - 0.5 * x
    mx.eval(y, mask)
    assert ("Maximum", 1, True) in ran and ("Subtract", 3, True) in ran
    np.testing.assert_allclose(np.array(y), np.maximum(xh + bh, 0), rtol=1e-6)
    np.testing.assert_allclose(np.array(mask), (xh > 0) * np.maximum(xh + bh, 0) - 0.5 * xh,
                               rtol=1e-6, atol=1e-6)



def test_eager_fusion_gives_the_bits_of_op_by_op_evaluation(monkeypatch):
    from mlxpy.core import device_eval
    rng = np.random.default_rng(7)
    a, b, c = (mx.array(rng.normal(size=(1000,)).astype(np.float32)) for _ in range(3))

    def f():
        y = mx.linspace(-3.3, 17.1, 1000) * a + b   # a * b + c: no fused multiply-add
        return mx.exp(y * 0.1) * c - mx.sqrt(mx.abs(a)) / (b * b + 1)
    fused = f()
    mx.eval(fused)
    monkeypatch.setattr(device_eval, "EAGER_FUSION", False)
    plain = f()
    mx.eval(plain)
    np.testing.assert_array_equal(np.array(fused), np.array(plain))

def test_eager_fusion_keeps_every_value_someone_can_read():
    x = mx.array(np.linspace(-2, 2, 40, dtype=np.float32).reshape(4, 10))
    held = x + 1                      # has a handle: computed and kept
    y = mx.maximum(held, 0) * 2
    u = mx.exp(x)                     # also used by a graph not evaluated now
    z = mx.sqrt(u) + 1
    later = u * 3
    del u
    mx.eval(y, z)
    assert held._node.data is not None
    xh = np.array(x)
    np.testing.assert_allclose(np.array(held), xh + 1, rtol=1e-6)
    np.testing.assert_allclose(np.array(y), np.maximum(xh + 1, 0) * 2, rtol=1e-6)
    np.testing.assert_allclose(np.array(later), np.exp(xh) * 3, rtol=1e-6)
    np.testing.assert_allclose(np.array(z), np.sqrt(np.exp(xh)) + 1, rtol=1e-6)


def test_eager_fusion_leaves_unusual_dtypes_and_kernel_less_steps_alone():
    xh = np.array([[-1.5, 0.25, 3.0]], dtype=np.float32)
    x = mx.array(xh)
    h = (x.astype(mx.float16) * 2 + 1).astype(mx.float32)
    i = (x * 4).astype(mx.int32) // 3 + 1          # float -> int casts have no kernel
    mx.eval(h, i)
    np.testing.assert_array_equal(np.array(h), (xh.astype(np.float16) * 2 + 1).astype(np.float32))
    with mx.stream(mx.cpu):
        ref = (x * 4).astype(mx.int32) // 3 + 1
    np.testing.assert_array_equal(np.array(i), np.array(ref))


def test_transforms_on_the_gpu_match_the_cpu():
    def loss(w, x):
        return mx.sum(mx.tanh(x @ w) ** 2)

    w = mx.random.normal((8, 4), key=mx.random.key(0))
    x = mx.random.normal((5, 8), key=mx.random.key(1))
    results = {}
    for dev in (mx.cpu, mx.gpu):
        with mx.stream(dev):
            g = mx.grad(loss)(w, x)
            per_example = mx.vmap(mx.grad(loss), in_axes=(None, 0))(w, x[:, None, :])
            _, jv = mx.jvp(lambda w: loss(w, x), [w], [mx.ones_like(w)])
            cg = mx.compile(mx.grad(loss))(w, x)
            ck = mx.grad(lambda w: mx.checkpoint(loss)(w, x))(w)
            results[dev] = [g, per_example, jv[0], cg, ck]
            mx.eval(results[dev])
    for a, b in zip(results[mx.cpu], results[mx.gpu]):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-4, atol=1e-5)


def test_custom_function_on_the_gpu():
    @mx.custom_function
    def f(x):
        return mx.exp(x)

    @f.vjp
    def f_vjp(primals, cotangent, output):
        return (cotangent * 2,)

    x = mx.array([0.0, 1.0, 2.0])
    assert np.array(mx.grad(lambda x: f(x).sum())(x)).tolist() == [2.0, 2.0, 2.0]


def test_bfloat16_on_the_gpu():
    x = mx.array([1.5, -2.25, 3.0], dtype=mx.bfloat16)
    y = (x * 2 + 1).astype(mx.float32)
    assert np.array(y).tolist() == [4.0, -3.5, 7.0]


def test_matmul_uses_the_gpu():
    a = mx.random.normal((256, 128), key=mx.random.key(0))
    b = mx.random.normal((128, 64), key=mx.random.key(1))
    c = a @ b
    mx.eval(c)
    import cupy
    assert isinstance(c._node.data, cupy.ndarray)
    np.testing.assert_allclose(np.array(c), np.array(a) @ np.array(b), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", ["sum_all", "max_rows", "min_keepdims", "sum_two_axes",
                                  "nan_max", "small"])
def test_region_then_reduction_runs_as_one_kernel(case):
    from mlxpy.core.backend.cuda_fusion import RegionReduce
    x = mx.random.normal((256, 1024), key=mx.random.key(3))
    y = mx.random.normal((1024,), key=mx.random.key(4))
    if case == "nan_max":
        x = mx.where(mx.arange(256 * 1024).reshape(256, 1024) == 777, float("nan"), x)
    if case == "small":
        x = x[:4, :8]
        y = y[:8]
    fns = {
        "sum_all": lambda x, y: mx.sum(mx.exp(x * 0.1) * y),
        "max_rows": lambda x, y: mx.max(mx.tanh(x) + y, axis=-1),
        "min_keepdims": lambda x, y: mx.min(x * y - 1, axis=1, keepdims=True),
        "sum_two_axes": lambda x, y: mx.sum(mx.square(x - y), axis=(0, 1)),
        "nan_max": lambda x, y: mx.max((x + y) * 2, axis=-1),
        "small": lambda x, y: mx.sum(x * y + 1, axis=-1),
    }
    f = mx.compile(fns[case])
    out = f(x, y)
    mx.eval(out)
    with mx.stream(mx.cpu):
        ref = fns[case](x, y)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    np.testing.assert_allclose(np.array(out), np.array(ref), rtol=2e-5, atol=1e-3, equal_nan=True)
    prog = next(iter(f._cache.values()))[0]
    merged = [p for p, *_ in prog.gpu_plan if isinstance(p, RegionReduce)]
    assert len(merged) == 1


# -- compiled programs replayed as CUDA graphs ----------------------------------------------

def _graph_states(f):
    from mlxpy.core.backend.cuda_graphs import _Captured
    prog = next(iter(f._cache.values()))[0]
    return [("graph" if type(s) is _Captured else s) for s in (prog.gpu_graphs or {}).values()]


def _mlp_step(params, x, y):
    def loss_fn(params):
        h = x
        for w, b in params[:-1]:
            h = mx.maximum(h @ w.T + b, 0)
        w, b = params[-1]
        logits = h @ w.T + b
        return mx.mean(mx.logsumexp(logits, axis=-1)
                       - mx.take_along_axis(logits, y[:, None], axis=-1)[:, 0])
    loss, grads = mx.value_and_grad(loss_fn)(params)
    return loss, [(w - 0.1 * gw, b - 0.1 * gb) for (w, b), (gw, gb) in zip(params, grads)]


def _mlp_data(seed):
    k = mx.random.split(mx.random.key(seed), 4)
    params = [(mx.random.normal((32, 20), key=k[0]) * 0.2, mx.zeros((32,))),
              (mx.random.normal((10, 32), key=k[1]) * 0.2, mx.zeros((10,)))]
    return params, mx.random.normal((16, 20), key=k[2]), mx.random.randint(0, 10, (16,), key=k[3])


def test_compiled_training_steps_replay_as_a_graph_with_the_bits_of_step_by_step(monkeypatch):
    from mlxpy.core.backend import cuda_graphs
    params, x, y = _mlp_data(0)
    step = mx.compile(_mlp_step)
    losses, p = [], params
    for _ in range(6):
        loss, p = step(p, x, y)
        mx.eval(loss, p)
        losses.append(loss)
    assert _graph_states(step) == ["graph"]
    monkeypatch.setattr(cuda_graphs, "ENABLED", False)
    plain = mx.compile(_mlp_step)
    q = params
    for k in range(6):
        loss, q = plain(q, x, y)
        mx.eval(loss, q)
        # The same kernels on the same data: the same bits, step after step.
        assert loss.item() == losses[k].item()
    for (w, b), (v, c) in zip(p, q):
        np.testing.assert_array_equal(np.array(w), np.array(v))
        np.testing.assert_array_equal(np.array(b), np.array(c))


def test_graph_replays_give_each_call_its_own_outputs_and_read_views_of_inputs():
    def f(a, b):
        h = mx.exp(a @ b) - 1
        return h.sum(axis=0), h.T, a            # a reduction, a view, an input passed through
    f = mx.compile(f)
    rng = np.random.default_rng(1)
    hosts = [(rng.normal(size=(6, 5)).astype(np.float32), rng.normal(size=(4, 5)).astype(np.float32))
             for _ in range(5)]
    outs = []
    for ah, bh in hosts:
        b = mx.array(bh).T                     # a strided input
        outs.append(f(mx.array(ah), b))
        mx.eval(outs[-1])
    assert _graph_states(f) == ["graph"]
    for (ah, bh), (s, t, a) in zip(hosts, outs):   # earlier results untouched by later replays
        h = np.exp(ah.astype(np.float64) @ bh.T.astype(np.float64)) - 1
        np.testing.assert_allclose(np.array(s), h.sum(axis=0), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.array(t), h.T, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(np.array(a), ah)


def test_steps_that_cannot_be_recorded_run_between_graphs():
    # bfloat16 work runs on the host and matmul calls cuBLAS: neither can be recorded.
    def f(a, w):
        h = mx.exp(a @ w) * 0.5 + 1
        s = (mx.sort(h * 2, axis=-1).astype(mx.bfloat16) + 1).astype(mx.float32)
        return mx.tanh(s @ w.T).sum(axis=-1) - 1
    cf = mx.compile(f)
    rng = np.random.default_rng(3)
    for k in range(5):
        a = mx.array(rng.normal(size=(8, 6)).astype(np.float32))
        w = mx.array(rng.normal(size=(6, 6)).astype(np.float32) * 0.3)
        out = cf(a, w)
        mx.eval(out)
        with mx.stream(mx.cpu):
            ref = f(a, w)
        np.testing.assert_allclose(np.array(out), np.array(ref), rtol=1e-5, atol=1e-5)
    assert _graph_states(cf) == ["graph"]
    prog = next(iter(cf._cache.values()))[0]
    segments = next(iter(prog.gpu_graphs.values())).segments
    between = [type(s[0][0]).__name__ for s in segments if type(s) is tuple]
    assert "Matmul" in between and len(between) < len(prog.gpu_plan)


def test_clear_cache_drops_recorded_graphs():
    f = mx.compile(lambda a, b: mx.exp(a @ b).sum(axis=-1) + 1)
    a = mx.random.normal((64, 64), key=mx.random.key(0))
    for _ in range(3):
        mx.eval(f(a, a))
    from mlxpy.core.backend import cuda_graphs
    assert _graph_states(f) == ["graph"]
    held = cuda_graphs.cached_bytes()
    assert held > 0 and mx.get_cache_memory() >= held
    mx.clear_cache()
    assert _graph_states(f) == [] and cuda_graphs.cached_bytes() == 0
    np.testing.assert_allclose(np.array(f(a, a)), np.exp(np.array(a) @ np.array(a)).sum(-1) + 1,
                               rtol=1e-4)


# -- repeated eager graphs run as programs ----------------------------------------------------

def _eager_train(params, x, y, steps):
    losses = []
    for _ in range(steps):
        loss, params = _mlp_step(params, x, y)
        mx.eval(loss, params)
        losses.append(loss.item())
    return losses, params


def test_repeated_eager_steps_run_as_a_program_with_the_bits_of_node_by_node(monkeypatch):
    from mlxpy.core import eager_programs
    eager_programs.clear()
    params, x, y = _mlp_data(1)
    losses, p = _eager_train(params, x, y, 6)
    entries = [s for s in eager_programs._programs.values() if type(s) is eager_programs._Entry]
    assert entries, "the repeated step never ran as a program"
    monkeypatch.setattr(eager_programs, "ENABLED", False)
    ref_losses, q = _eager_train(params, x, y, 6)
    assert losses == ref_losses
    for (w, b), (v, c) in zip(p, q):
        np.testing.assert_array_equal(np.array(w), np.array(v))
        np.testing.assert_array_equal(np.array(b), np.array(c))


def test_eager_programs_give_every_held_value_and_only_drop_private_ones():
    from mlxpy.core import eager_programs
    eager_programs.clear()
    rng = np.random.default_rng(5)
    for k in range(4):
        xh = rng.normal(size=(4, 10)).astype(np.float32)
        x = mx.array(xh)
        held = mx.exp(x) + 1               # a handle: must get its value
        u = mx.sin(x) * 2                  # read later by a graph not evaluated now
        y = mx.maximum(held, 0) * u - 1
        z = (y @ mx.ones((10, 3))).sum(axis=0) + mx.sqrt(mx.abs(x)).sum()
        later = u + 3
        del u
        mx.eval(y, z)
        assert held._node.data is not None and y._node.data is not None
        e = np.exp(xh.astype(np.float64)) + 1
        yr = np.maximum(e, 0) * np.sin(xh) * 2 - 1
        np.testing.assert_allclose(np.array(held), e, rtol=1e-5)
        np.testing.assert_allclose(np.array(y), yr, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.array(z), (yr @ np.ones((10, 3))).sum(0) + np.sqrt(np.abs(xh)).sum(),
                                   rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(np.array(later), np.sin(xh) * 2 + 3, rtol=1e-5, atol=1e-6)
    assert any(type(s) is eager_programs._Entry for s in eager_programs._programs.values())


def test_repeated_eager_graphs_of_every_kind_match_the_cpu():
    # float16, bfloat16 (host), integers, random draws, a reduction and a gather, each
    # evaluated three times: the second and third run as programs where they can.
    def f(x, idx, key):
        h = (x.astype(mx.float16) * 3 + 1).astype(mx.float32)
        b = (x.astype(mx.bfloat16) - 2).astype(mx.float32)
        i = (idx * 7 + 3) % 5
        r = mx.random.uniform(shape=x.shape, key=key)
        g = mx.take(h, i, axis=-1)
        return (h * b + r).sum(axis=0), g.max(axis=-1), i.cumsum()
    rng = np.random.default_rng(11)
    for k in range(3):
        xh = rng.normal(size=(6, 5)).astype(np.float32)
        ih = rng.integers(0, 100, size=(5,)).astype(np.int32)
        outs = {}
        for dev in (mx.gpu, mx.cpu):
            with mx.stream(dev):
                outs[dev] = f(mx.array(xh), mx.array(ih), mx.random.key(k))
                mx.eval(outs[dev])
        for a, b in zip(outs[mx.gpu], outs[mx.cpu]):
            _assert_close(a, b, "repeated eager graph")


def test_recordings_past_the_memory_budget_drop_the_oldest(monkeypatch):
    from mlxpy.core.backend import cuda_graphs
    mx.clear_cache()
    f = mx.compile(lambda a: mx.exp(a @ a).sum(axis=-1) * 2)
    g = mx.compile(lambda a: mx.tanh(a @ a.T).max(axis=0) - 1)
    a = mx.random.normal((32, 32), key=mx.random.key(2))
    ah = np.array(a).astype(np.float64)
    for _ in range(3):
        mx.eval(f(a))
    assert _graph_states(f) == ["graph"]
    # Room for one such recording only.
    monkeypatch.setattr(cuda_graphs, "_max_bytes", cuda_graphs.cached_bytes() * 19 // 10)
    for _ in range(3):
        mx.eval(g(a))
    assert _graph_states(g) == ["graph"] and _graph_states(f) == [False]
    for _ in range(2):   # both still right: f step by step, g from its recording
        np.testing.assert_allclose(np.array(f(a)), np.exp(ah @ ah).sum(-1) * 2, rtol=1e-4)
        np.testing.assert_allclose(np.array(g(a)), np.tanh(ah @ ah.T).max(0) - 1,
                                   rtol=1e-4, atol=1e-5)
    mx.clear_cache()


def test_repeated_eager_reductions_keep_the_bits_of_the_first_evaluation():
    # compile fuses a large sum into the region before it (another summation order);
    # an eager graph run as a program must not, or its second evaluation would differ.
    from mlxpy.core import eager_programs
    eager_programs.clear()
    x = mx.random.normal((512, 1024), key=mx.random.key(4))
    mx.eval(x)
    results = []
    for _ in range(4):
        h = mx.exp(x * 0.3) + mx.sin(x) * 2 - 1
        s = (h * h).sum(axis=-1) + h.max() + mx.sqrt(mx.abs(h)).sum()
        mx.eval(s)
        results.append(np.array(s))
    assert any(type(v) is eager_programs._Entry for v in eager_programs._programs.values())
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_a_program_whose_buffers_exceed_the_budget_is_not_recorded(monkeypatch):
    from mlxpy.core.backend import cuda_graphs
    mx.clear_cache()
    monkeypatch.setattr(cuda_graphs, "_max_bytes", 1024)
    f = mx.compile(lambda a: mx.exp(a @ a).sum(axis=-1) * 2)
    a = mx.random.normal((64, 64), key=mx.random.key(3))
    ah = np.array(a).astype(np.float64)
    for _ in range(4):
        np.testing.assert_allclose(np.array(f(a)), np.exp(ah @ ah).sum(-1) * 2, rtol=1e-4)
    assert _graph_states(f) == [False] and cuda_graphs.cached_bytes() == 0
