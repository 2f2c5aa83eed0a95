"""mx.compile: cache keys, captured state, the passes, fusion, and agreement with MLX."""
import gc
import io

import numpy as np
import pytest

import mlxpy.core as mx
from mlxpy.core.transforms import compiler as C
from mlxpy.core.transforms.fusion import FusedElementwise
from oracle import mlx, needs_mlx, assert_same


def gelu(lib):
    return lambda x: 0.5 * x * (1 + lib.tanh(0.79788456 * (x + 0.044715 * x ** 3)))


def program_of(cf):
    (entry,) = cf._cache.values()
    return entry[0]


def test_compiled_matches_uncompiled_and_numpy():
    x = np.random.default_rng(0).normal(size=(257, 33)).astype(np.float32)
    f = gelu(mx)
    want = f(mx.array(x))
    got = mx.compile(f)(mx.array(x))
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-6, atol=1e-7)
    ref = 0.5 * x * (1 + np.tanh(0.79788456 * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(np.array(got), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.usefixtures("on_cpu")
@pytest.mark.parametrize("n", [1, 1000, 300_000, 1 << 20])
def test_large_fused_regions_blocked_and_threaded(n):
    x = np.random.default_rng(n).normal(size=n).astype(np.float32)
    y = np.random.default_rng(n + 1).normal(size=n).astype(np.float32)
    f = lambda a, b: [mx.sin(a) * b + 1.0, mx.exp(-a * a), a - b]
    got = mx.compile(f)(mx.array(x), mx.array(y))
    want = f(mx.array(x), mx.array(y))
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.array(g), np.array(w), rtol=1e-6, atol=1e-7)


def test_broadcasting_inside_fused_region():
    a = np.random.default_rng(0).normal(size=(400, 700)).astype(np.float32)
    b = np.random.default_rng(1).normal(size=(700,)).astype(np.float32)
    c = np.random.default_rng(2).normal(size=(400, 1)).astype(np.float32)
    f = lambda a, b, c: mx.tanh(a * b + c) - b
    got = mx.compile(f)(mx.array(a), mx.array(b), mx.array(c))
    np.testing.assert_allclose(np.array(got), np.tanh(a * b + c) - b, rtol=1e-5, atol=1e-6)


def test_fusion_makes_one_node_for_gelu():
    cf = mx.compile(gelu(mx))
    cf(mx.ones(8))
    prog = program_of(cf)
    assert len(prog.instrs) == 1 and isinstance(prog.instrs[0].prim, FusedElementwise)


def test_trace_counts_pin_the_cache_key():
    calls = []

    def f(x, n):
        calls.append(1)
        return x * n

    cf = mx.compile(f)
    cf(mx.ones(3), 2)
    cf(mx.array([1.0, 2.0, 3.0]), 2)       # same shape/dtype, same constant: hit
    assert cf.trace_count == 1
    cf(mx.ones(4), 2)                        # new shape: retrace
    assert cf.trace_count == 2
    cf(mx.ones(4), 3)                        # new Python scalar: retrace
    assert cf.trace_count == 3
    cf(mx.ones(4, dtype=mx.float16), 3)     # new dtype: retrace
    assert cf.trace_count == 4
    cf(mx.ones(4), 3)
    assert cf.trace_count == 4 and len(calls) == 4


def test_shapeless_traces_once_for_all_shapes():
    cf = mx.compile(lambda x, y: mx.exp(x) * y + 1, shapeless=True)
    for shape in [(2,), (5,), (7,)]:
        x = np.random.default_rng(len(shape)).normal(size=shape).astype(np.float32)
        out = cf(mx.array(x), mx.array(2.0))
        np.testing.assert_allclose(np.array(out), np.exp(x) * 2 + 1, rtol=1e-6)
    assert cf.trace_count == 1
    cf(mx.ones((2, 3)), mx.array(2.0))       # new ndim: retrace
    assert cf.trace_count == 2


def test_shapeless_with_baked_shape_fails_loudly():
    cf = mx.compile(lambda x: mx.full((3,), 1.0) * 0 + mx.broadcast_to(x, (2, 3))
                    if hasattr(mx, "broadcast_to") else x, shapeless=True)
    cf(mx.ones(3))
    with pytest.raises(ValueError):
        mx.eval(cf(mx.ones(4)))


def test_constants_and_invalid_arguments():
    cf = mx.compile(lambda x, s="a", n=None: x)
    cf(mx.ones(1), s="b", n=None)
    with pytest.raises(ValueError, match="compile"):
        cf(mx.ones(1), object())


def test_closure_arrays_are_constants():
    w = mx.array([2.0, 3.0])
    cf = mx.compile(lambda x: x * w)
    assert cf(mx.ones(2)).tolist() == [2.0, 3.0]


def test_captured_inputs_and_outputs_state():
    state = [mx.array(1.0)]

    def step(x):
        state[0] = state[0] * 2
        return x + state[0]

    cf = mx.compile(step, inputs=state, outputs=state)
    assert cf(mx.array(0.0)).item() == 2.0
    assert state[0].item() == 2.0
    assert cf(mx.array(0.0)).item() == 4.0
    assert state[0].item() == 4.0
    assert cf.trace_count == 1


def test_disable_and_enable_compile():
    calls = []

    def f(x):
        calls.append(1)
        return x + 1

    cf = mx.compile(f)
    mx.disable_compile()
    try:
        cf(mx.ones(1))
        cf(mx.ones(1))
        assert len(calls) == 2 and cf.trace_count == 0
    finally:
        mx.enable_compile()
    cf(mx.ones(1))
    cf(mx.ones(1))
    assert cf.trace_count == 1


def test_compile_disabled_by_environment(tmp_path):
    import subprocess
    import sys
    code = ("import mlxpy.core as mx\n"
            "cf = mx.compile(lambda x: x + 1)\n"
            "cf(mx.ones(1)); print(cf.trace_count)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "MLX_DISABLE_COMPILE": "1"})
    assert out.stdout.strip() == "0", out.stderr


def test_item_inside_compile_is_a_clear_error():
    cf = mx.compile(lambda x: x * x.item())
    with pytest.raises(ValueError, match="compile"):
        cf(mx.ones(1))


def test_cache_goes_with_the_compiled_function():
    import weakref
    cf = mx.compile(lambda x: x + 1)
    cf(mx.ones(2))
    ref = weakref.ref(cf)
    del cf
    gc.collect()
    assert ref() is None


def test_compiled_function_is_transparent_to_grad_and_vmap():
    f = mx.compile(lambda x: mx.sin(x) * x)
    x = mx.array([0.3, 1.1])
    g = mx.grad(lambda x: (f(x) * 1.0).sum() if hasattr(mx, "sum") else f(x))
    if hasattr(mx, "sum"):
        np.testing.assert_allclose(np.array(g(x)), np.cos([0.3, 1.1]) * [0.3, 1.1] + np.sin([0.3, 1.1]),
                                   rtol=1e-6)
    v = mx.vmap(f)(mx.array([[0.1, 0.2], [0.3, 0.4]]))
    np.testing.assert_allclose(np.array(v), np.sin([[0.1, 0.2], [0.3, 0.4]]) * [[0.1, 0.2], [0.3, 0.4]],
                               rtol=1e-6)


def test_passes_alone():
    from mlxpy.core.transforms.autodiff import make_tracers
    body = lambda x: (x * 2.0 + x * 2.0) + x ** 3 + make_tracers([x])[0]
    cf = mx.compile(body)
    x = mx.array([1.0, 2.0])
    assert cf(x).tolist() == [6.0, 18.0]
    prog = C.trace_program(lambda h: [body(h[0])], [x])
    n0 = len(prog.instrs)
    prog = C.remove_noops(C.fold_constants(prog))
    assert len(prog.instrs) == n0 - 1              # the identity copy is gone
    prog = C.cse(prog)
    assert len(prog.instrs) == n0 - 2              # x * 2.0 computed once
    prog = C.rewrite_algebra(prog)
    names = [type(i.prim).__name__ for i in prog.instrs]
    assert "Power" not in names                    # x ** 3 became multiplications
    C.plan(C.prune(prog))
    out = C.run_program(prog, __import__("mlxpy.core.backend", fromlist=["x"]).array_module(mx.cpu),
                        [np.array([1.0, 2.0], np.float32)])
    assert out[0].tolist() == [6.0, 18.0]


def test_log_compiles_says_why(capsys):
    C.set_compile_logging(True)
    try:
        cf = mx.compile(lambda x: x + 1)
        cf(mx.ones(2))
        cf(mx.ones(3))
    finally:
        C.set_compile_logging(False)
    err = capsys.readouterr().err
    assert "first call" in err and "shape (2,) -> (3,)" in err


def test_export_to_dot():
    x = mx.array([1.0])
    y = mx.sin(x) + 1
    buf = io.StringIO()
    mx.export_to_dot(buf, y)
    text = buf.getvalue()
    assert text.startswith("digraph") and "Sin" in text and "Add" in text


@needs_mlx
def test_compiled_results_match_mlx():
    x = np.random.default_rng(3).normal(size=(64,)).astype(np.float32)
    ours = mx.compile(gelu(mx))(mx.array(x))
    theirs = mlx.compile(gelu(mlx))(mlx.array(x))
    assert_same(ours, theirs)
