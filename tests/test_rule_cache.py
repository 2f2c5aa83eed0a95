"""Recorded transform walks (mlxpy/core/transforms/rule_cache.py): a walk over a graph
already seen replays the nodes its rules built, and must give exactly what the rules
would, while the user's function still runs on every call."""
import numpy as np
import pytest

import mlxpy.core as mx
from mlxpy.core.primitives import elementwise as E
from mlxpy.core.transforms import rule_cache

rng = np.random.default_rng(0)


def values(*shape):
    return mx.array(rng.normal(size=shape).astype(np.float32))


@pytest.fixture
def count_rules(monkeypatch):
    """Counts calls of Sin's vjp, jvp and vmap rules."""
    calls = {"vjp": 0, "jvp": 0, "vmap": 0}
    for name in calls:
        rule = getattr(E.Sin, name)

        def counted(self, *args, _rule=rule, _name=name):
            calls[_name] += 1
            return _rule(self, *args)
        monkeypatch.setattr(E.Sin, name, counted)
    rule_cache._records.clear()
    return calls


def test_repeated_walks_replay_instead_of_calling_rules(count_rules):
    g = mx.grad(lambda x: (mx.sin(x) * x).sum())
    v = mx.vmap(mx.sin)
    for _ in range(3):
        x = values(5)
        np.testing.assert_allclose(np.array(g(x)), np.sin(x) + x * np.cos(x), rtol=1e-6)
        np.testing.assert_allclose(np.array(v(x)), np.sin(x), rtol=1e-6)
        t = values(5)
        np.testing.assert_allclose(np.array(mx.jvp(mx.sin, [x], [t])[1][0]),
                                   np.cos(x) * t, rtol=1e-6)
    assert count_rules == {"vjp": 1, "jvp": 1, "vmap": 1}


def test_new_shapes_dtypes_and_wiring_are_new_walks(count_rules):
    g = mx.grad(lambda x: mx.sin(x).sum())
    g(values(3))
    g(values(4))
    g(values(4).astype(mx.float16))
    mx.grad(lambda x: (mx.sin(x) * mx.sin(x)).sum())(values(4))
    assert count_rules["vjp"] == 5


def test_the_function_still_runs_on_every_call():
    seen = []

    def f(x):
        seen.append(x.shape)
        return mx.sin(x).sum()
    g = mx.vmap(mx.grad(f))
    for _ in range(3):
        g(values(2, 3))
    assert seen == [(3,)] * 3


def test_rebound_closures_and_scalar_constants_are_read_each_call():
    box = {"w": values(4), "p": 2.0}
    g = mx.grad(lambda x: ((box["w"] * x) ** box["p"]).sum())
    x = values(4)
    for w, p in [(values(4), 2.0), (values(4), 3.0), (values(4), 0.0)]:
        box["w"], box["p"] = w, p
        want = p * np.array(w) * (np.array(w) * np.array(x)) ** (p - 1) if p else 0 * x
        np.testing.assert_allclose(np.array(g(x)), np.array(want), rtol=1e-5, atol=1e-6)


def test_random_inside_a_vmapped_function_differs_per_call():
    f = mx.vmap(lambda x: x + mx.random.normal(x.shape))
    x = mx.zeros((2, 3))
    assert not np.array_equal(np.array(f(x)), np.array(f(x)))


def test_fresh_batches_reuse_the_record(count_rules):
    # Batches and non-scalar data are keyed by shape, not identity.
    w = values(6)
    pe = mx.vmap(mx.grad(lambda w, x: (mx.sin(w * x) ** 2).sum()), in_axes=(None, 0))
    for _ in range(3):
        x = values(4, 6)
        wx = np.array(w) * np.array(x)
        want = 2 * np.sin(wx) * np.cos(wx) * np.array(x)
        np.testing.assert_allclose(np.array(pe(w, x)), want, rtol=1e-5, atol=1e-6)
    assert count_rules == {"vjp": 1, "jvp": 0, "vmap": 1}


def test_custom_functions_are_never_replayed():
    calls = []

    @mx.custom_function
    def f(x):
        return mx.sin(x)

    @f.vjp
    def f_vjp(primals, cotangent, output):
        calls.append(1)
        return cotangent * 2

    g = mx.grad(lambda x: f(x).sum())
    for _ in range(3):
        np.testing.assert_allclose(np.array(g(values(3))), 2.0)
    assert len(calls) == 3


def test_nested_and_composed_transforms_match_fresh_walks():
    f = mx.grad(mx.grad(mx.grad(mx.grad(mx.sin))))
    h = lambda x, v: mx.jvp(mx.grad(lambda x: (mx.tanh(x) ** 2).sum()), [x], [v])[1][0]
    for _ in range(3):
        x = values(3)
        v = values(3)
        np.testing.assert_allclose(np.array(mx.vmap(f)(x)), np.sin(np.array(x)), rtol=1e-5)
        t = np.tanh(np.array(x))
        np.testing.assert_allclose(np.array(h(x, v)), (2 - 8 * t * t + 6 * t ** 4) * np.array(v),
                                   rtol=1e-4, atol=1e-5)


def test_fresh_cotangents_and_tangents_reuse_the_record(count_rules):
    x = values(5)
    for _ in range(3):
        g, t = values(5), values(5)
        np.testing.assert_allclose(np.array(mx.vjp(mx.sin, [x], [g])[1][0]),
                                   np.cos(np.array(x)) * np.array(g), rtol=1e-6)
        np.testing.assert_allclose(np.array(mx.jvp(mx.sin, [x], [t])[1][0]),
                                   np.cos(np.array(x)) * np.array(t), rtol=1e-6)
    assert count_rules == {"vjp": 1, "jvp": 1, "vmap": 0}


def test_constant_parts_of_a_record_are_computed_once():
    # The gradient of a sum seeds a broadcast of the constant 1: recorded as a constant.
    g = mx.grad(lambda x: (mx.sin(x) * 3.0).sum())
    for _ in range(3):
        x = values(6)
        np.testing.assert_allclose(np.array(g(x)), 3 * np.cos(np.array(x)), rtol=1e-6)
    h = mx.grad(lambda x: (x * 2.0).sum())
    assert np.array_equal(np.array(h(values(4))), np.full(4, 2.0, np.float32))
    assert np.array_equal(np.array(h(values(4))), np.full(4, 2.0, np.float32))
