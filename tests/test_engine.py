"""The engine: laziness, evaluation, graph detaching, buffer freeing, memory accounting."""
import gc

import numpy as np
import pytest

import mlxpy.core as mx
from mlxpy.core.graph import topo_sort
from oracle import mlx, needs_mlx


def test_nothing_computes_before_eval():
    x = mx.array([1.0, 2.0])
    y = mx.exp(x) * 2
    assert y._node.data is None
    mx.eval(y)
    assert y._node.data is not None
    np.testing.assert_allclose(np.array(y), np.exp([1.0, 2.0]) * 2, rtol=1e-6)


def test_implicit_evaluation_points():
    x = mx.array([3.0]) * 2
    assert x.item() == 6.0
    assert x.tolist() == [6.0]
    assert float(mx.array(2.0) + 1) == 3.0
    assert int(mx.array(2) + 1) == 3
    assert bool(mx.array(1) > 0)
    assert "6" in repr(mx.array([3.0]) * 2)
    assert np.array(mx.array([1, 2]) + 1).tolist() == [2, 3]


def test_evaluation_detaches_graph():
    x = mx.array([1.0])
    y = mx.sin(x) + 1
    mx.eval(y)
    assert y._node.prim is None and y._node.inputs is None


def test_eval_takes_pytrees_and_ignores_other_leaves():
    a = mx.array(1) + 1
    b = mx.array(2) * 3
    c = mx.array(4) - 1
    assert mx.eval(1, "a", None, [a, (b,)], {"k": c, "n": object()}) is None
    assert all(t._node.data is not None for t in (a, b, c))


def test_long_chain_evaluates_without_recursion_error():
    x = mx.array(0.0)
    for _ in range(100_000):
        x = x + 1.0
    mx.eval(x)
    assert x.item() == 100_000.0


def test_topo_sort_orders_inputs_first_and_deduplicates():
    a = mx.array(1.0)
    b = a + 1
    c = b * b
    d = c + b
    order = topo_sort([d._node, c._node])
    ids = [id(n) for n in order]
    assert len(ids) == len(set(ids)) == 3
    assert ids.index(id(b._node)) < ids.index(id(c._node)) < ids.index(id(d._node))


def test_multiple_roots_share_work():
    x = mx.array([1.0, 2.0])
    s = mx.sin(x)
    outs = [s + 1, s * 2]
    mx.eval(outs)
    np.testing.assert_allclose(np.array(outs[1]), 2 * np.sin([1.0, 2.0]), rtol=1e-6)


def test_active_memory_tracks_live_buffers():
    gc.collect()
    base = mx.get_active_memory()
    x = mx.ones((1000, 1000)) + 1
    mx.eval(x)
    assert mx.get_active_memory() - base >= 4_000_000
    del x
    gc.collect()
    assert mx.get_active_memory() - base < 4_000_000


def test_intermediates_are_freed_during_evaluation():
    n = 1 << 20  # 4 MiB of float32
    x = mx.ones((n,))
    mx.eval(x)
    gc.collect()
    mx.reset_peak_memory()
    base = mx.get_active_memory()
    y = x
    for _ in range(20):
        y = mx.sin(y) + 1.0
    mx.eval(y)
    # Without freeing, 40 intermediate buffers would be live at the end (160 MiB);
    # freed as their consumers run, only a few are live at any time.
    assert mx.get_peak_memory() - base < 4 * 4 * n


def test_peak_memory_and_reset():
    mx.reset_peak_memory()
    start = mx.get_peak_memory()
    a = mx.zeros((256, 1024)) + 1
    mx.eval(a)
    assert mx.get_peak_memory() >= start + a.nbytes
    del a
    gc.collect()
    mx.reset_peak_memory()
    assert mx.get_peak_memory() == mx.get_active_memory()


@pytest.mark.usefixtures("on_cpu")
def test_memory_limits_return_previous_values():
    old = mx.set_memory_limit(1 << 30)
    assert mx.set_memory_limit(old) == 1 << 30
    old_cache = mx.set_cache_limit(0)
    assert mx.set_cache_limit(old_cache) == 0
    if not mx.is_available(mx.gpu):
        assert mx.get_cache_memory() == 0  # NumPy keeps no cache; CuPy's pool does
    mx.clear_cache()
    with pytest.raises(TypeError):
        mx.set_memory_limit(-1)


@needs_mlx
def test_memory_function_names_match_mlx():
    for name in ["clear_cache", "get_active_memory", "get_cache_memory", "get_memory_limit",
                 "get_peak_memory", "reset_peak_memory", "set_cache_limit", "set_memory_limit"]:
        assert hasattr(mlx, name) and hasattr(mx, name), name


def test_placeholder_evaluation_is_a_clear_error():
    from mlxpy.core.graph import Node
    from mlxpy.core.array import wrap
    p = wrap(Node((2,), mx.float32, None, (), mx.default_stream(mx.cpu)))
    with pytest.raises(ValueError, match="placeholder"):
        mx.eval(p + 1)
