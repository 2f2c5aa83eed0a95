"""Fused regions as generated C kernels (backend/cpu_fusion.py): results against the
NumPy path for every primitive the C table supports, layouts, threads, the on-disk
cache and the fallbacks."""
import os

import numpy as np
import pytest

import mlxpy.core as mx
from mlxpy.core import dtypes as D
from mlxpy.core.backend import cpu_fusion as C
from mlxpy.core.backend.numpy_backend import xp
from mlxpy.core.primitives import elementwise as E
from mlxpy.core.primitives.base import REGISTRY
from mlxpy.core.transforms import fusion
from mlxpy.core.transforms.compiler import Value
from mlxpy.core.transforms.fusion import FusedElementwise

needs_cc = pytest.mark.skipif(C.compiler() is None or not C.enabled,
                              reason="no C compiler, or native fusion turned off")


def make_region(steps, in_dtypes, shape):
    """A region of `steps`, (primitive, input indices) each reading region inputs
    only, returning every step's value."""
    built, value_dtypes = [], []
    for j, (prim, args) in enumerate(steps):
        _, dtype = prim.infer([Value(shape, in_dtypes[a]) for a in args])
        built.append((prim, [("in", a) for a in args], ("t", j)))
        value_dtypes.append(dtype)
    region = FusedElementwise(built, [("t", j) for j in range(len(built))],
                              [(shape, d) for d in value_dtypes], shape)
    region.value_dtypes = value_dtypes
    region.in_shapes = [shape] * len(in_dtypes)
    return region


def run_native(region, inputs, shape):
    size = int(np.prod(shape))
    outs = C.run_fused(region, inputs, shape, size, True)
    if outs is None and any(type(p).__name__ in C._LIBM for p, _, _ in region.steps):
        # Exact mode uses a libm routine only where it agrees with NumPy's bit for bit on
        # this machine (seen disagreeing: the GPU machines' NumPy 2.5 image).
        pytest.skip("a libm routine of this region does not match NumPy on this machine")
    assert outs is not None, "the region did not run natively"
    return outs


def _native_available():
    """Whether even a plain arithmetic region runs natively on this machine."""
    if C.compiler() is None or not C.enabled:
        return False
    shape = (1 << 17,)
    region = make_region([(E.Add(), (0, 1)), (E.Multiply(), (2, 0))],
                         [D.float32, D.float32, D.float32], shape)
    x = np.ones(shape, np.float32)
    return C.run_fused(region, [x, x, x], shape, shape[0], True) is not None


# The native path is an optimization with a NumPy fallback; on a machine where it cannot
# run at all (seen: the GPU machines' Python 3.12 / NumPy 2.5 image), there is nothing to test.
pytestmark = pytest.mark.skipif(not _native_available(),
                                reason="the native fusion path does not run on this machine")


def numpy_steps(region, inputs):
    with np.errstate(all="ignore"):
        return [prim.eval(xp, [inputs[r[1]] for r in refs]) for prim, refs, _ in region.steps]


def ulp_distance(a, b):
    """Distance in units in the last place; nan against nan is 0, nan against a
    number is huge."""
    bits = {2: np.int16, 4: np.int32, 8: np.int64}[a.itemsize]
    ia = a.view(bits).astype(np.int64)
    ib = b.view(bits).astype(np.int64)
    sign = np.int64(1) << (8 * a.itemsize - 1)
    ia = np.where(ia < 0, -(ia + sign), ia)  # monotonic in the value, -0.0 next to 0.0
    ib = np.where(ib < 0, -(ib + sign), ib)
    d = np.abs(ia - ib)
    both_nan = np.isnan(a) & np.isnan(b)
    d[both_nan] = 0
    d[np.isnan(a) != np.isnan(b)] = 1 << 40
    return d


def assert_same_bits(got, want, what):
    assert got.dtype == want.dtype and got.shape == want.shape, what
    if got.dtype.kind == "f":
        bits = np.dtype(f"u{got.itemsize}")
        same = (got.view(bits) == want.view(bits)) | (np.isnan(got) & np.isnan(want))
    else:
        same = got == want
    bad = np.nonzero(~same.reshape(-1))[0]
    assert bad.size == 0, f"{what}: {bad.size} differ, e.g. {got.reshape(-1)[bad[:3]]} " \
                          f"vs {want.reshape(-1)[bad[:3]]}"


# -- every primitive the C table supports ------------------------------------------------

FLOATS = ("float16", "float32", "float64")
# 8-bit integers stand for the narrow ones (computed in 32 bits and wrapped after each
# step), 32 and 64 bits for the wide ones, signed and not.
INTS = ("int8", "int32", "int64", "uint8", "uint64")


def edge_values(dtype, rng):
    """Edge values of a dtype, then random ones; not a multiple of the block length."""
    npd = np.dtype(dtype)
    if npd.kind == "f":
        info = np.finfo(npd)
        edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, -0.5, 2.0, 3.0, -2.5,
                 float(info.tiny), -float(info.tiny), float(info.smallest_subnormal),
                 -float(info.smallest_subnormal), float(info.max), -float(info.max),
                 float(info.eps), 1e-3, -7.25, 88.5, -103.0, 1e4, 0.999]
        rand = np.concatenate([rng.uniform(-4, 4, 120), rng.uniform(-1, 1, 40),
                               np.exp(rng.uniform(-30, 30, 40)) * rng.choice([-1, 1], 40)])
        with np.errstate(over="ignore"):
            return np.concatenate([edges, rand]).astype(npd)
    if npd.kind == "b":
        return np.array([False, True] * 50 + [True], dtype=npd)
    info = np.iinfo(npd)
    edges = [0, 1, 2, info.max, info.min, info.max - 1, info.min + 1]
    if info.min < 0:
        edges += [-1, -2]
    rand = rng.integers(info.min, info.max, 150, dtype=npd, endpoint=True)
    return np.concatenate([np.array(edges, dtype=npd), rand])


def pairs(x, rng):
    """All pairs of the first 25 values, then random pairs."""
    head = x[:25]
    a = np.concatenate([np.repeat(head, len(head)), x])
    b = np.concatenate([np.tile(head, len(head)), rng.permutation(x)])
    return a, b


def supported_steps(dtype):
    """Every elementwise primitive with a C form for `dtype` inputs, with its input
    indices: 0 and 1 are `dtype` values, 2 a bool condition (for Select)."""
    steps = []
    for name, cls in sorted(REGISTRY.items()):
        if not issubclass(cls, (E.Unary, E.Binary, E.Select)):
            continue
        prims = [cls(dtype=t) for t in (D.float16, D.float32, D.float64, D.int8, D.int32,
                                        D.uint8, D.int64, D.bool_)] if cls is E.AsType else \
            [cls(), cls(True)] if cls is E.Equal else [cls()]
        for prim in prims:
            if cls is E.Select:
                args, dts = [2, 0, 1], ["bool", dtype, dtype]
            elif issubclass(cls, E.Binary):
                args, dts = [0, 1], [dtype, dtype]
            else:
                args, dts = [0], [dtype]
            out = getattr(prim, "dtype", None)
            out = out.name if out is not None else (
                "bool" if issubclass(cls, (E.Comparison, E.Predicate)) else dtype)
            if C._form(prim, dts, out) is not None:
                steps.append((prim, args))
    return steps


def table_inputs(dtype):
    rng = np.random.default_rng(7)
    a, b = pairs(edge_values(dtype, rng), rng)
    cond = rng.random(a.size) < 0.5
    return [a, b, cond]


@needs_cc
@pytest.mark.parametrize("dtype", FLOATS + INTS + ("bool",))
def test_every_c_form_equals_numpy_bit_for_bit(monkeypatch, dtype):
    """Exact mode: arithmetic, comparisons, casts, and the libm functions that passed
    the probe give NumPy's bits; the region runs natively."""
    monkeypatch.setattr(C, "exact", True)
    steps = supported_steps(dtype)
    if dtype in FLOATS:
        C._require_agreement([(p, [("in", a) for a in args], None) for p, args in steps],
                             [dtype, dtype, "bool"], [])
        steps = [(p, args) for p, args in steps
                 if type(p).__name__ not in C._LIBM or C._agrees[(type(p).__name__, dtype)]]
    inputs = table_inputs(dtype)
    in_dtypes = [D.from_numpy(x.dtype) for x in inputs]
    for group in vectorizable_groups(steps):
        region = make_region(group, in_dtypes, inputs[0].shape)
        got = run_native(region, inputs, inputs[0].shape)
        for (prim, _), g, w in zip(group, got, numpy_steps(region, inputs)):
            assert_same_bits(g, w, f"{prim.name} on {dtype}")


def vectorizable_groups(steps, size=12):
    """Regions of a few steps (a compilation takes time superlinear in a loop's size),
    Remainder apart: fmod has no vector form, and in a loop that does not vectorize the
    libm functions would be called in scalar form, which exact mode refuses."""
    rest = [s for s in steps if type(s[0]) is not E.Remainder]
    groups = [rest[k:k + size] for k in range(0, len(rest), size)]
    return [g for g in groups + [[s for s in steps if type(s[0]) is E.Remainder]] if g]


@needs_cc
@pytest.mark.parametrize("dtype", FLOATS)
def test_every_c_form_within_a_few_ulp_in_fast_mode(monkeypatch, dtype):
    """MLXPY_NATIVE_FUSION=fast: every libm function from libmvec, within a few ulp of
    NumPy, with NumPy's nan, inf and signed zeros."""
    monkeypatch.setattr(C, "exact", False)
    steps = [s for s in supported_steps(dtype) if type(s[0]).__name__ in C._LIBM]
    inputs = table_inputs(dtype)
    results = []
    for group in vectorizable_groups(steps):
        region = make_region(group, [D.from_numpy(x.dtype) for x in inputs], inputs[0].shape)
        results += zip(group, run_native(region, inputs, inputs[0].shape),
                       numpy_steps(region, inputs))
    # Subnormal results are left out: libmvec's erf loses relative accuracy there (mlxpy's
    # own erf is correctly rounded).
    for (prim, _), g, w in results:
        if g.dtype.kind != "f":
            assert_same_bits(g, w, f"{prim.name} on {dtype}")
            continue
        d = ulp_distance(g, w)
        finite_normal = np.abs(w) >= np.finfo(w.dtype).tiny
        assert (np.isnan(g) == np.isnan(w)).all(), prim.name
        assert (np.signbit(g) == np.signbit(w))[~np.isnan(w)].all(), prim.name
        assert d[finite_normal | (w == 0) | np.isinf(w)].max(initial=0) <= 8, \
            f"{prim.name} on {dtype}: {d.max()} ulp"


@needs_cc
def test_libm_functions_used_only_where_they_agree(monkeypatch):
    """A function whose probe disagrees with NumPy keeps its region on NumPy."""
    monkeypatch.setattr(C, "exact", True)
    region = make_region([(E.Tanh(), [0]), (E.Add(), [0, 1])], [D.float32] * 2, (300,))
    x = np.linspace(-3, 3, 300, dtype=np.float32)
    C._require_agreement(region.steps, ["float32"] * 2, [])
    monkeypatch.setitem(C._agrees, ("Tanh", "float32"), False)
    assert C.run_fused(region, [x, x], (300,), 300, True) is None
    assert region._native is False
    # FusedElementwise.eval then runs the NumPy path.
    monkeypatch.setattr(fusion, "NATIVE_CACHED_MIN_WORK", 1)
    assert_same_bits(region.eval(xp, [x, x])[0], np.tanh(x), "tanh")


def test_same_bits_treats_signed_zeros_apart_and_nans_alike():
    a = np.array([0.0, np.nan, 1.0], np.float32)
    assert C._same_bits(a, np.array([0.0, -np.nan, 1.0], np.float32))
    assert not C._same_bits(a, np.array([-0.0, np.nan, 1.0], np.float32))
    assert not C._same_bits(a, a.astype(np.float64))


# -- float16 conversions ------------------------------------------------------------------

@needs_cc
def test_float16_conversions_round_as_numpy():
    """Every half to float, and floats around every half boundary (ties, subnormals,
    overflow) to half."""
    halves = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    rng = np.random.default_rng(3)
    mid = (halves[np.isfinite(halves)].astype(np.float32))
    floats = np.concatenate([
        mid, np.nextafter(mid, np.float32(np.inf)), np.nextafter(mid, np.float32(-np.inf)),
        ((mid[:-1].astype(np.float64) + mid[1:]) / 2).astype(np.float32),  # ties
        rng.integers(0, 1 << 32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32),
        np.array([65504, 65519.99, 65520, 65536, 1e9, np.inf, -np.inf, np.nan], np.float32)])
    up = make_region([(E.AsType(D.float32), [0])], [D.float16], halves.shape)
    assert_same_bits(run_native(up, [halves], halves.shape)[0], halves.astype(np.float32),
                     "float16 -> float32")
    down = make_region([(E.AsType(D.float16), [0])], [D.float32], floats.shape)
    with np.errstate(over="ignore"):
        want = floats.astype(np.float16)
    assert_same_bits(run_native(down, [floats], floats.shape)[0], want, "float32 -> float16")


def test_float64_to_float16_has_no_c_form():
    # Through float it would round twice.
    assert C._form(E.AsType(D.float16), ["float64"], "float16") is None


# -- layouts and threads -------------------------------------------------------------------

def layout_region():
    steps = [(E.Multiply(), [0, 1]), (E.Add(), [0, 2]), (E.Maximum(), [1, 2]),
             (E.Tanh(), [0])]
    return steps


@needs_cc
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "reversed", "broadcast",
                                    "strided", "scalar", "size_one_dims", "empty"])
def test_layouts_equal_numpy(layout):
    rng = np.random.default_rng(1)
    base = rng.normal(size=(37, 129)).astype(np.float32)
    other = rng.normal(size=(129, 37)).astype(np.float32)
    shape = base.shape
    if layout == "contiguous":
        ins = [base, base * 2, base + 1]
    elif layout == "transposed":
        ins = [other.T, base, other.T[::-1]]
    elif layout == "reversed":
        ins = [base[::-1, ::-1], base[:, ::-1], base]
    elif layout == "broadcast":
        ins = [base, np.broadcast_to(base[0], shape), np.broadcast_to(base[:, :1], shape)]
    elif layout == "strided":
        big = rng.normal(size=(74, 387)).astype(np.float32)
        ins = [big[::2, ::3], big[1::2, 1::3], base]
    elif layout == "scalar":
        ins = [base, np.float32(2.5), np.array(-1.5, np.float32)]
    elif layout == "size_one_dims":
        shape = (1, 37, 1, 129)
        ins = [base.reshape(shape), base[None, :, None, :] * 3,
               np.broadcast_to(base[:, :1].reshape(1, 37, 1, 1), shape)]
    else:
        shape = (0, 129)
        ins = [base[:0], base[:0], base[:0]]
    ins = [np.asarray(x) if np.ndim(x) else x for x in ins]
    region = make_region(layout_region(), [D.float32] * 3, shape)
    region.in_shapes = [np.shape(x) for x in ins]
    got = run_native(region, ins, shape)
    want = numpy_steps(region, [np.asarray(x) for x in ins])
    for g, w in zip(got, want):
        assert g.shape == shape
        assert_same_bits(g, np.broadcast_to(w, shape).astype(np.float32), layout)


@needs_cc
def test_thread_split_in_chunks_across_rows(monkeypatch):
    """Chunks start and end in the middle of rows; every element is written once."""
    monkeypatch.setattr(C, "PARALLEL_MIN_ELEMENTS", 0)
    monkeypatch.setattr(C, "CHUNK_ELEMENTS", 1000)
    monkeypatch.setattr(C, "threads", lambda: 3)
    rng = np.random.default_rng(2)
    shape = (101, 257)
    ins = [rng.normal(size=shape).astype(np.float32), rng.normal(size=257).astype(np.float32),
           rng.normal(size=(101, 1)).astype(np.float32)]
    region = make_region(layout_region(), [D.float32] * 3, shape)
    got = run_native(region, ins, shape)
    for g, w in zip(got, numpy_steps(region, ins)):
        assert_same_bits(g, np.broadcast_to(w, shape), "threads")


@needs_cc
@pytest.mark.usefixtures("on_cpu")
def test_compiled_gelu_runs_natively_and_equals_uncompiled():
    x = np.random.default_rng(0).normal(size=(300, 301)).astype(np.float32)
    f = lambda x: 0.5 * x * (1 + mx.tanh(0.79788456 * (x + 0.044715 * x ** 3)))
    cf = mx.compile(f)
    got = cf(mx.array(x))
    mx.eval(got)
    region = next(iter(cf._cache.values()))[0].instrs[0].prim
    assert isinstance(region, FusedElementwise)
    if C._agrees[("Tanh", "float32")] or not C.exact:
        assert any(p is not None for p in region._native.values())
    else:
        assert region._native is False  # this machine's tanh differs from NumPy's
    # Uncompiled, x ** 3 is a power; compiled, x * x * x (rewrite_algebra): compare
    # with the same arithmetic in NumPy.
    want = 0.5 * x * (1 + np.tanh(np.float32(0.79788456) * (x + np.float32(0.044715) * (x * x * x))))
    assert_same_bits(np.array(got), want, "gelu")


@needs_cc
@pytest.mark.usefixtures("on_cpu")
def test_region_passing_an_input_through_and_several_outputs():
    x = np.random.default_rng(0).normal(size=70_000).astype(np.float32)
    f = lambda x, y: [x * y, mx.maximum(x * y, 0.0) + 1, mx.tanh(x * y)]
    got = mx.compile(f)(mx.array(x), mx.array(x[::-1].copy()))
    want = f(mx.array(x), mx.array(x[::-1].copy()))
    for g, w in zip(got, want):
        assert_same_bits(np.array(g), np.array(w), "outputs")


@needs_cc
def test_kernel_source_is_readable_c():
    region = make_region([(E.Multiply(), [0, 0]), (E.Maximum(), [0, 1])], [D.float32] * 2, (10,))
    src = C.kernel_source(region, [np.zeros(10, np.float32), np.float32(0)], (10,))
    assert "void mlxpy_fused(" in src and "(a0 * a0)" in src


# -- the compiler, the cache and the fallbacks ----------------------------------------------

@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty disk cache and no kernels loaded in this process."""
    monkeypatch.setenv("MLXPY_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(C, "_libraries", {})
    return tmp_path / "cpu_fusion"


def add_region(n=100):
    return make_region([(E.Add(), [0, 1]), (E.Multiply(), [0, 1])], [D.float32] * 2, (n,))


def test_no_compiler_falls_back_to_numpy(fresh_cache, monkeypatch):
    monkeypatch.setitem(C._config, "cc", None)
    region = add_region()
    x = np.arange(100, dtype=np.float32)
    assert C.run_fused(region, [x, x], (100,), 100, True) is None
    monkeypatch.setattr(fusion, "NATIVE_CACHED_MIN_WORK", 1)
    monkeypatch.setattr(fusion, "NATIVE_MIN_ELEMENTS", 1)
    out = region.eval(xp, [x, x])
    assert_same_bits(out[0], x + x, "add")
    assert not fresh_cache.exists() or not os.listdir(fresh_cache)


@needs_cc
def test_failed_compilation_falls_back_and_is_not_retried(fresh_cache, monkeypatch):
    failing = fresh_cache.parent / "cc"
    failing.write_text("#!/bin/sh\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setitem(C._config, "cc", str(failing))
    region = add_region()
    x = np.arange(100, dtype=np.float32)
    assert C.run_fused(region, [x, x], (100,), 100, True) is None
    assert [p.endswith(".failed") for p in os.listdir(fresh_cache)] == [True]
    # A new process (no kernels loaded) does not call the compiler again.
    monkeypatch.setattr(C, "_libraries", {})
    monkeypatch.setitem(C._config, "cc", "/nonexistent/cc")
    assert C.run_fused(add_region(), [x, x], (100,), 100, True) is None


@needs_cc
def test_kernels_are_cached_on_disk(fresh_cache, monkeypatch):
    x = np.arange(100, dtype=np.float32)
    assert C.run_fused(add_region(), [x, x], (100,), 100, True) is not None
    (library,) = [p for p in os.listdir(fresh_cache) if p.endswith(".so")]
    # Another process: the library is loaded from disk, without a compiler.
    monkeypatch.setattr(C, "_libraries", {})
    monkeypatch.setitem(C._config, "cc", None)
    out = C.run_fused(add_region(), [x, x], (100,), 100, True)
    assert_same_bits(out[1], x * x, "multiply")
    assert os.listdir(fresh_cache) == [library]


@needs_cc
def test_small_regions_use_only_compiled_kernels(fresh_cache):
    x = np.arange(100, dtype=np.float32)
    assert C.run_fused(add_region(), [x, x], (100,), 100, False) is None
    assert not fresh_cache.exists()
    C.run_fused(add_region(), [x, x], (100,), 100, True)
    assert C.run_fused(add_region(), [x, x], (100,), 100, False) is not None


def test_unsupported_dtypes_and_steps_have_no_kernel():
    x = np.ones(10, np.complex64)
    region = make_region([(E.Add(), [0, 1]), (E.Multiply(), [0, 1])], [D.complex64] * 2, (10,))
    assert C._kernel(region, [x, x], (10,)) is False
    region = make_region([(E.FloorDivide(), [0, 1])], [D.int32] * 2, (10,))
    y = np.ones(10, np.int32)
    assert C._kernel(region, [y, y], (10,)) is False
