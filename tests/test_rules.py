"""The registry sweep: every primitive's rules, checked the moment it is registered.

For each case of tests/prim_cases.py:
- the shape/dtype rule agrees with what eval produces;
- vjp and jvp agree with central finite differences in float64, and with each other
  (<vjp(u), v> == <u, jvp(v)>);
- vmap over random axes of every argument equals stacking a Python loop.
"""
import numpy as np
import pytest

import mlxpy.core as mx
from mlxpy.core.graph import graph_sort
from mlxpy.core.primitives.base import REGISTRY
from oracle import sample_domain
from prim_cases import CASES, FLOAT_DOMAINS

# Primitives whose transform rules are still being written (issues 4 and 5). This list
# only shrinks; the sweep checks everything else.
RULES_PENDING = set()

ALL = [(name, i, c) for name, cs in sorted(CASES.items()) for i, c in enumerate(cs)]
IDS = [f"{name}-{i}" for name, i, _ in ALL]


def sample(spec, rng, batch_shape=()):
    shape, dom = spec
    return sample_domain(tuple(batch_shape) + tuple(shape), dom, rng)


def to_mx(h):
    return mx.array(h, dtype=mx.float64) if h.dtype == np.float64 else mx.array(h)


def outputs_of(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def test_every_registered_primitive_has_a_case():
    missing = sorted(set(REGISTRY) - set(CASES))
    assert not missing, f"primitives without a case in tests/prim_cases.py: {missing}"


@pytest.mark.parametrize("name,i,c", ALL, ids=IDS)
def test_case_builds_its_primitive_and_shape_rule_matches_eval(name, i, c):
    rng = np.random.default_rng(i)
    args = [to_mx(sample(s, rng)) for s in c.args]
    outs = outputs_of(c.fn(*args))
    nodes = graph_sort([o._node for o in outs])
    prims = [n for n in nodes if n.prim is not None and type(n.prim).__name__ == name]
    assert prims, f"case does not build a {name} node"
    mx.eval(outs)
    for n in prims:
        data = n.data
        assert tuple(data.shape) == n.shape, f"{name}: eval shape {data.shape} != rule {n.shape}"
        assert np.dtype(data.dtype) == n.dtype.np, f"{name}: eval dtype {data.dtype} != rule {n.dtype}"


def _vmap_rtol(w):
    # A batched float32 product may sum in another order than the unbatched one (on the
    # GPU, cuBLAS picks different kernels): allow float32 rounding there.
    return 1e-5 if w.dtype in (mx.float32, mx.complex64) else 1e-6


def _vmap_atol(w):
    # ...and sums that cancel lose float32 rounding of the largest term, not their own.
    if w.dtype in (mx.float32, mx.complex64) and w.size:
        return 1e-6 * float(np.abs(np.array(w)).max())
    return 1e-9


def _float_argnums(c):
    return [k for k, (_, dom) in enumerate(c.args) if dom in FLOAT_DOMAINS]


@pytest.mark.parametrize("name,i,c", [a for a in ALL if a[2].smooth], ids=[
    f"{n}-{i}" for n, i, c in ALL if c.smooth])
def test_vjp_jvp_match_finite_differences(name, i, c):
    if name in RULES_PENDING:
        pytest.xfail(f"{name}: rules pending")
    rng = np.random.default_rng(100 + i)
    hosts = [sample(s, rng) for s in c.args]
    argnums = _float_argnums(c)
    assert argnums, "a smooth case needs a float argument"

    def f(*diff):
        full = [to_mx(h) for h in hosts]
        for k, d in zip(argnums, diff):
            full[k] = d
        return outputs_of(c.fn(*full))

    primals = [to_mx(hosts[k]) for k in argnums]
    outs = f(*primals)
    cots = [to_mx(rng.normal(size=o.shape)).astype(o.dtype) for o in outs]
    tans = [to_mx(rng.normal(size=hosts[k].shape)) for k in argnums]

    _, vjps = mx.vjp(f, primals, cots)
    _, jvps = mx.jvp(f, primals, tans)
    lhs = sum(float((np.array(g, dtype=np.complex128) * np.array(t)).real.sum()) for g, t in zip(vjps, tans))
    rhs = sum(float((np.array(u, dtype=np.complex128).conj() * np.array(j)).real.sum()) for u, j in zip(cots, jvps))

    eps = 1e-6
    plus = f(*[to_mx(hosts[k] + eps * np.array(t)) for k, t in zip(argnums, tans)])
    minus = f(*[to_mx(hosts[k] - eps * np.array(t)) for k, t in zip(argnums, tans)])
    fd = sum(float((np.array(u, dtype=np.complex128).conj() *
                    (np.array(p, dtype=np.complex128) - np.array(m)) / (2 * eps)).real.sum())
             for u, p, m in zip(cots, plus, minus))
    scale = max(1.0, abs(fd))
    assert abs(rhs - fd) <= c.tol * 10 * scale, f"{name}: jvp {rhs} vs finite differences {fd}"
    assert abs(lhs - fd) <= c.tol * 10 * scale, f"{name}: vjp {lhs} vs finite differences {fd}"
    # float64 cases agree to rounding; those through complex64 (a loose `tol`) to float32's.
    agree = 1e-8 if c.tol <= 1e-5 else 1e-5
    assert abs(lhs - rhs) <= agree * scale, f"{name}: <vjp(u), v>={lhs} != <u, jvp(v)>={rhs}"


@pytest.mark.parametrize("name,i,c", [a for a in ALL if a[2].vmap], ids=[
    f"{n}-{i}" for n, i, c in ALL if c.vmap])
def test_vmap_matches_python_loop(name, i, c):
    if name in RULES_PENDING:
        pytest.xfail(f"{name}: rules pending")
    rng = np.random.default_rng(200 + i)
    B = 3
    for trial in range(3):
        per_example = [[sample(s, rng) for s in c.args] for _ in range(B)]
        axes = []
        batched = []
        for k, spec in enumerate(c.args):
            nd = len(spec[0])
            ax = None if (trial == 1 and k % 2 == 1) else int(rng.integers(0, nd + 1))
            if trial == 2:
                ax = -1 if nd > 0 else 0
                if k % 2 == 1 and len(c.args) > 1:
                    ax = None
            if all(a is None for a in axes + [ax]) and k == len(c.args) - 1:
                ax = 0
            axes.append(ax)
            if ax is None:
                batched.append(to_mx(per_example[0][k]))
            else:
                batched.append(to_mx(np.stack([per_example[b][k] for b in range(B)], axis=ax)))
        got = outputs_of(mx.vmap(c.fn, in_axes=tuple(axes))(*batched))
        for b in range(B):
            args_b = [to_mx(per_example[0 if a is None else b][k]) for k, a in enumerate(axes)]
            want = outputs_of(c.fn(*args_b))
            for g, w in zip(got, want):
                np.testing.assert_allclose(np.array(g[b]).astype(np.complex128) if np.array(g).dtype.kind == "c" else np.array(g[b]),
                                           np.array(w), rtol=_vmap_rtol(w), atol=_vmap_atol(w),
                                           err_msg=f"{name} in_axes={axes} example {b}")
