"""`mx.matmul`, the `@` operator and `mx.addmm` against real MLX.

Sweeps record every mismatch (values, dtype, shape or exception type) before failing.
"""
import warnings

import numpy as np

import mlxpy.core as mx
from mlxpy.core.primitives.linalg_basic import AddMM, Matmul
from oracle import mlx, needs_mlx, to_numpy, assert_same, DTYPE_NAMES, dtype_name

pytestmark = needs_mlx

nan, inf = float("nan"), float("inf")

TOL = {"float16": (2e-3, 2e-3), "bfloat16": (1e-2, 1e-2), "float32": (1e-5, 1e-5),
       "complex64": (1e-5, 1e-5), "float64": (1e-12, 1e-12)}


def outcome(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fn()
            to_numpy(r)
            return "ok", r
    except Exception as e:  # noqa: BLE001 - compared by type
        return "raise", f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"


def compare(label, fn, problems, exact_message=False):
    """Run `fn(mx)` and `fn(mlx)`; record any difference."""
    o_kind, o = outcome(lambda: fn(mx))
    t_kind, t = outcome(lambda: fn(mlx))
    if o_kind == "raise" or t_kind == "raise":
        same = o_kind == t_kind and (o == t if exact_message else o.split(":")[0] == t.split(":")[0])
        if not same:
            problems.append(f"{label}: ours {o if o_kind == 'raise' else 'ok'} / "
                            f"mlx {t if t_kind == 'raise' else 'ok'}")
        return
    name = dtype_name(t.dtype)
    rtol, atol = TOL.get(name, (0, 0))
    try:
        assert_same(o, t, rtol=rtol, atol=atol)
    except AssertionError as e:
        problems.append(f"{label}: {str(e).strip()[:400]}")


def report(problems):
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:40])


def rand(shape, seed, name="float32"):
    """The same random values as NumPy data for both libraries (small ints for ints)."""
    rng = np.random.default_rng(seed)
    if name in ("bool_",):
        return rng.random(shape) > 0.5
    if name.startswith(("int", "uint")):
        return rng.integers(0, 4, size=shape).astype(name)
    h = rng.standard_normal(shape).astype(np.float32)
    if name == "complex64":
        h = h + 1j * rng.standard_normal(shape).astype(np.float32)
    return h


def make(m, h, name="float32"):
    """A library array of dtype `name` holding NumPy data `h`."""
    if name in ("float64",):
        return m.array(h.astype(np.float64), dtype=m.float64)
    return m.array(h).astype(getattr(m, name))


SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((4, 2, 3), (3,)), ((3,), (4, 3, 2)),
    ((2, 3), (3, 4)), ((1, 3), (3, 1)), ((2, 1, 2, 3), (5, 3, 4)), ((5, 2, 3), (3, 4)),
    ((2, 3), (6, 3, 4)), ((1,), (1,)), ((0,), (0,)), ((0, 3), (3, 2)), ((2, 0), (0, 3)),
    ((2, 3), (3, 0)), ((0, 2, 3), (3, 2)), ((3, 1, 2, 3), (1, 4, 3, 5)), ((1, 1, 4), (4, 1)),
    ((16, 33), (33, 17)), ((2, 3, 64), (64,)),
    # errors
    ((2, 3), (4, 5)), ((3,), (4,)), ((2, 2, 3), (3, 3, 4)), ((), (3,)), ((3,), ()), ((), ()),
    ((2, 2, 3), (3, 4, 4)), ((4, 3), (3,) * 1 + (2,) * 0 + (5,)),
]


def test_matmul_shapes_like_mlx():
    problems = []
    for i, (sa, sb) in enumerate(SHAPES):
        ha, hb = rand(sa, 2 * i), rand(sb, 2 * i + 1)
        compare(f"matmul{sa}@{sb}", lambda m: m.matmul(make(m, ha), make(m, hb)), problems,
                exact_message=True)
        compare(f"{sa} @ {sb}", lambda m: make(m, ha) @ make(m, hb), problems)
    report(problems)


def test_matmul_dtype_pairs_like_mlx():
    problems = []
    for da in DTYPE_NAMES:
        for db in DTYPE_NAMES:
            ha, hb = rand((2, 3), 1, da), rand((3, 4), 2, db)
            compare(f"matmul {da} @ {db}",
                    lambda m: m.matmul(make(m, ha, da), make(m, hb, db)), problems,
                    exact_message=True)
    report(problems)


def test_matmul_half_precision_rounds_once():
    # float16/bfloat16 products accumulate in float32 and round once, as MLX's kernels:
    # the results must be bit-identical, not just close.
    problems = []
    for name in ("float16", "bfloat16"):
        for sa, sb in [((8, 64), (64, 8)), ((3, 5, 200), (200, 2)), ((50,), (50,))]:
            ha, hb = rand(sa, 3), rand(sb, 4)
            o = mx.matmul(make(mx, ha, name), make(mx, hb, name))
            t = mlx.matmul(make(mlx, ha, name), make(mlx, hb, name))
            if not np.array_equal(to_numpy(o), to_numpy(t)):
                problems.append(f"{name} {sa}@{sb}: max diff "
                                f"{np.abs(to_numpy(o) - to_numpy(t)).max()}")
    report(problems)


def test_matmul_special_values():
    problems = []
    h = np.array([[0.0, -0.0, 1.0], [nan, 1.0, 2.0], [inf, -inf, 1.0], [1e30, 1e30, 0.0]],
                 dtype=np.float32)
    # (complex64 is left out: BLAS's cgemm and MLX's loop disagree on nan vs inf
    # imaginary parts once a product overflows)
    for name in ("float32", "float64", "float16"):
        compare(f"special {name}", lambda m: m.matmul(make(m, h, name), make(m, h.T.copy(), name)),
                problems)
    report(problems)


def test_matmul_rejects_non_arrays():
    problems = []
    a = np.ones((2, 2), dtype=np.float32)
    for label, f in [("lists", lambda m: m.matmul([[1.0, 2]], [[3.0], [4]])),
                     ("scalar right", lambda m: m.matmul(m.array(a), 2.0)),
                     ("scalar left", lambda m: m.matmul(2.0, m.array(a))),
                     ("list right", lambda m: m.matmul(m.array(a), [[1, 2], [3, 4]])),
                     ("numpy right", lambda m: m.matmul(m.array(a), a)),
                     ("@ list", lambda m: m.array(a) @ [[1, 2], [3, 4]]),
                     ("@ scalar", lambda m: m.array(a) @ 2.0),
                     ("keywords", lambda m: m.matmul(a=m.array(a), b=m.array(a)))]:
        compare(label, f, problems)
    report(problems)


def test_matmul_is_lazy_and_one_node():
    a = mx.array([[1.0, 2.0], [3.0, 4.0]]) * 1
    b = mx.array([1.0, 1.0]) * 1
    c = mx.matmul(a, b, stream=mx.cpu)
    n = c._node
    assert n.data is None and isinstance(n.prim, Matmul) and n.inputs == [a._node, b._node]
    assert c.tolist() == [3.0, 7.0]
    d = mx.array([[1, 2]], dtype=mx.int8)
    e = mx.matmul(d, mx.array([[1.0], [1.0]], dtype=mx.float16))
    assert e.dtype is mx.float16 and e.tolist() == [[3.0]]
    x = mx.ones((2, 3))
    y = x
    x @= mx.ones((3, 2))
    assert x.shape == (2, 2) and y.shape == (2, 2), "@= rebinds the handle, as other in-place ops"
    assert Matmul() == Matmul() and hash(Matmul()) == hash(Matmul())
    assert AddMM(2.0, 1.0) == AddMM(2.0, 1.0) and AddMM(2.0, 1.0) != AddMM(1.0, 2.0)
    assert AddMM(2.0, 0.5).params() == (2.0, 0.5)


# -- addmm -----------------------------------------------------------------------------

ADDMM_SHAPES = [
    ((2, 2), (2, 3), (3, 2)), ((2,), (2, 3), (3, 2)), ((1,), (2, 3), (3, 2)), ((), (2, 3), (3, 2)),
    ((2,), (3,), (3, 2)), ((), (3,), (3,)), ((1,), (2, 3), (3,)), ((2, 1), (2, 3), (3, 1)),
    ((4, 2, 2), (4, 2, 3), (4, 3, 2)), ((4, 1, 2), (1, 2, 3), (4, 3, 2)), ((2, 2), (2, 2, 3), (3, 2)),
    ((2,), (2, 0), (0, 2)), ((0,), (2, 3), (3, 0)), ((1, 1), (2, 3), (3, 0)),
    ((2, 3), (2, 2), (2, 3)), ((8, 16), (8, 40), (40, 16)),
    # errors
    ((3, 2, 2), (2, 3), (3, 2)), ((2, 2), (3,), (3, 2)), ((2, 2), (2, 3), (3,)),
    ((2, 2), (3,), (3,)), ((2,), (2,), (2,)), ((1,), (2,), (2,)), ((1,), (3,), (3,)),
    ((2,), (3,), (3,)), ((2, 1), (2, 3), (3,)), ((2, 2), (2, 3), (3, 4)), ((5, 5), (2, 3), (3, 2)),
    ((2, 2), (0, 3), (3, 2)), ((5, 5), (2, 3), (4, 2)), ((2, 2), (), (3, 2)),
    ((4, 2, 2), (4, 2, 3), (5, 3, 2)), ((2, 2), (2, 2, 3), (3, 3, 2)),
]


def test_addmm_shapes_like_mlx():
    problems = []
    for i, (sc, sa, sb) in enumerate(ADDMM_SHAPES):
        hc, ha, hb = rand(sc, 3 * i), rand(sa, 3 * i + 1), rand(sb, 3 * i + 2)
        compare(f"addmm{sc},{sa},{sb}",
                lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb)), problems)
        compare(f"addmm{sc},{sa},{sb} alpha=0.5 beta=2",
                lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha=0.5, beta=2.0),
                problems)
    report(problems)


def test_addmm_dtypes_like_mlx():
    problems = []
    for dc in DTYPE_NAMES:
        for dab in DTYPE_NAMES:
            hc, ha, hb = rand((2, 2), 1, dc), rand((2, 3), 2, dab), rand((3, 2), 3, dab)
            compare(f"addmm {dc}, {dab}, {dab}",
                    lambda m: m.addmm(make(m, hc, dc), make(m, ha, dab), make(m, hb, dab),
                                      alpha=0.75, beta=-1.25), problems, exact_message=True)
    hc, ha, hb = rand((2, 2), 1), rand((2, 3), 2), rand((3, 2), 3)
    compare("addmm f16 c, f32 a, f16 b",
            lambda m: m.addmm(make(m, hc, "float16"), make(m, ha), make(m, hb, "float16")),
            problems)
    compare("addmm bf16 c, f16 a, f16 b",
            lambda m: m.addmm(make(m, hc, "bfloat16"), make(m, ha, "float16"),
                              make(m, hb, "float16")), problems)
    report(problems)


def test_addmm_half_precision_rounds_once():
    problems = []
    for name in ("float16", "bfloat16"):
        hc, ha, hb = rand((8, 8), 5), rand((8, 64), 6), rand((64, 8), 7)
        o = mx.addmm(make(mx, hc, name), make(mx, ha, name), make(mx, hb, name), 0.37, 1.3)
        t = mlx.addmm(make(mlx, hc, name), make(mlx, ha, name), make(mlx, hb, name), 0.37, 1.3)
        if not np.array_equal(to_numpy(o), to_numpy(t)):
            problems.append(f"{name}: max diff {np.abs(to_numpy(o) - to_numpy(t)).max()}")
    report(problems)


def test_addmm_scalars_and_gemm_zero_rules():
    problems = []
    hc, ha, hb = rand((2, 2), 1), rand((2, 3), 2), rand((3, 2), 3)
    full = lambda m, v, s: m.full(s, v)  # noqa: E731
    for label, f in [
            ("alpha int", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha=2)),
            ("alpha bool", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha=True)),
            ("alpha np", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha=np.float64(2))),
            ("alpha array", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha=m.array(2.0))),
            ("alpha 1-elem array", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha=m.array([2.0]))),
            ("alpha 2-elem array", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha=m.array([1.0, 2.0]))),
            ("alpha np 1-elem", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha=np.array([2.0]))),
            ("alpha huge", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha=2 ** 70)),
            ("alpha str", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha="2")),
            ("alpha complex", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha=1j)),
            ("beta None", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), beta=None)),
            ("positional", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), 2.0, 3.0)),
            ("too many", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), 2.0, 3.0, 1.0)),
            ("keywords", lambda m: m.addmm(c=make(m, hc), a=make(m, ha), b=make(m, hb))),
            ("scalar c", lambda m: m.addmm(2.0, make(m, ha), make(m, hb))),
            ("list a", lambda m: m.addmm(make(m, hc), ha.tolist(), make(m, hb))),
            ("nan alpha", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), alpha=nan)),
            ("beta 0 skips nan c", lambda m: m.addmm(full(m, nan, (2, 2)), make(m, ha), make(m, hb), beta=0.0)),
            ("beta 0 skips inf c", lambda m: m.addmm(full(m, inf, (2,)), make(m, ha), make(m, hb), beta=0.0)),
            ("alpha 0 skips inf a", lambda m: m.addmm(make(m, hc), full(m, inf, (2, 3)), make(m, hb), alpha=0.0)),
            ("both 0", lambda m: m.addmm(full(m, nan, (2, 2)), full(m, inf, (2, 3)), make(m, hb), alpha=0.0, beta=0.0)),
            ("alpha 0 vector", lambda m: m.addmm(m.array(1.5), make(m, ha[0]), make(m, hb[:, 0]), alpha=0.0)),
            ("f64 thirds", lambda m: m.addmm(make(m, hc, "float64"), make(m, ha, "float64"), make(m, hb, "float64"), alpha=1 / 3, beta=1 / 7)),
            ("bf16 third", lambda m: m.addmm(make(m, hc, "bfloat16"), make(m, ha, "bfloat16"), make(m, hb, "bfloat16"), alpha=1 / 3)),
            ("complex", lambda m: m.addmm(make(m, hc, "complex64"), make(m, ha, "complex64"), make(m, hb), alpha=0.5, beta=-2.0)),
            ("complex c, f16 ab", lambda m: m.addmm(make(m, hc, "complex64"), make(m, ha, "float16"), make(m, hb, "float16"), alpha=1 / 3, beta=-2.0)),
            ("complex a, f32 c", lambda m: m.addmm(make(m, hc), make(m, ha, "complex64"), make(m, hb), alpha=0.1, beta=0.3)),
            ("complex c broadcasts up", lambda m: m.addmm(make(m, rand((3, 2, 2), 9), "complex64"), make(m, ha), make(m, hb))),
            ("complex c (1,) for vectors", lambda m: m.addmm(make(m, rand((1,), 9), "complex64"), make(m, ha[0]), make(m, hb[:, 0]))),
            ("complex c, int ab", lambda m: m.addmm(make(m, hc, "complex64"), make(m, ha, "int32"), make(m, hb, "int32"))),
            ("complex c, bad inner", lambda m: m.addmm(make(m, hc, "complex64"), make(m, ha), make(m, rand((4, 2), 1)))),
            ("complex c, bad c", lambda m: m.addmm(make(m, rand((5, 5), 1), "complex64"), make(m, ha), make(m, hb))),
            ("complex c, 0-d a", lambda m: m.addmm(make(m, hc, "complex64"), make(m, rand((), 1)), make(m, hb))),
            ("stream", lambda m: m.addmm(make(m, hc), make(m, ha), make(m, hb), stream=m.cpu))]:
        compare(label, f, problems)
    report(problems)


def test_addmm_is_one_lazy_node_and_does_not_touch_inputs():
    c = mx.array([1.0, 2.0]) * 1
    a = mx.array([[1.0, 0.0], [0.0, 1.0]]) * 1
    mx.eval(c, a)
    c_before, a_before = np.array(c), np.array(a)
    out = mx.addmm(c, a, a, alpha=2.0, beta=0.5)
    n = out._node
    assert n.data is None and isinstance(n.prim, AddMM) and n.prim.params() == (2.0, 0.5)
    assert out.tolist() == [[2.5, 1.0], [0.5, 3.0]]
    np.testing.assert_array_equal(np.array(c), c_before)
    np.testing.assert_array_equal(np.array(a), a_before)


def test_doctests():
    import doctest
    import mlxpy.core.ops.linalg_basic as module
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
