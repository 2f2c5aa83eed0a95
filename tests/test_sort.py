"""sort, argsort, partition, argpartition, topk and median against real MLX."""
import doctest

import numpy as np
import pytest

import mlxpy.core as mx
from oracle import mlx, needs_mlx, to_mlx, to_numpy, assert_same, raises_like, dtype_name, \
    DTYPE_NAMES

pytestmark = needs_mlx

FLOAT_NAMES = ["float16", "bfloat16", "float32", "float64"]


def sample(shape, dtype_name, seed=0, ties=True):
    """Values with many ties (so that stability shows) unless `ties` is False."""
    rng = np.random.default_rng(seed)
    d = getattr(mx, dtype_name)
    if d.kind == "b":
        v = rng.random(shape) > 0.5
    elif d.kind == "u":
        v = rng.integers(0, 4, shape)
    elif d.kind == "c":
        v = rng.integers(-2, 3, shape) + 1j * rng.integers(-2, 3, shape)
    elif ties or d.kind == "i":
        v = rng.integers(-3, 4, shape)
    else:
        v = np.round(rng.standard_normal(shape) * 3, 2)
    return mx.array(np.asarray(v)).astype(d)


def specials(dtype_name):
    nan, inf = float("nan"), float("inf")
    v = np.array([[3.0, nan, 1.0, -inf, inf, -0.0, 0.0, nan],
                  [nan, nan, 2.0, 2.0, -1.0, 0.0, -0.0, -inf],
                  [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]])
    return mx.array(v).astype(getattr(mx, dtype_name))


SORT_CASES = [((7,), -1), ((7,), 0), ((7,), None), ((3, 5), -1), ((3, 5), 0), ((3, 5), None),
              ((2, 3, 4), 1), ((2, 3, 4), -3), ((), None), ((3, 5), 2), ((3, 5), -3), ((), -1),
              ((0,), -1), ((2, 0), 0), ((2, 0), None)]


def check(fn_ours, fn_theirs, empty=False):
    """The oracle's result, or its exception type. Empty inputs are checked for shape
    and dtype only (MLX 0.32's CPU kernels can hang on empty arrays)."""
    try:
        theirs = fn_theirs()
    except Exception:  # noqa: BLE001 - the oracle raised: we must raise the same type
        raises_like(fn_ours, fn_theirs)
        return None, None
    ours = fn_ours()
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    if empty or theirs.size == 0:
        np.asarray(ours)
        return None, None
    mlx.eval(theirs)
    return ours, theirs


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_sort_and_argsort(dtype):
    for seed, (shape, axis) in enumerate(SORT_CASES):
        x = sample(shape, dtype, seed)
        y = to_mlx(x)
        for name in ("sort", "argsort"):
            ours, theirs = check(lambda: getattr(mx, name)(x, axis=axis),
                                 lambda: getattr(mlx, name)(y, axis=axis), empty=0 in shape)
            if ours is not None:
                # Exact, indices included: both sorts are stable.
                assert_same(ours, theirs)


@pytest.mark.parametrize("dtype", FLOAT_NAMES)
def test_sort_special_values(dtype):
    x = specials(dtype)
    y = to_mlx(x)
    for axis in (-1, 0, None):
        assert_same(mx.sort(x, axis), mlx.sort(y, axis))
        assert_same(mx.argsort(x, axis), mlx.argsort(y, axis))
    x = sample((4, 6), dtype, 3, ties=False)
    assert_same(mx.argsort(x), mlx.argsort(to_mlx(x)))


def _take(x, idx, axis):
    return np.take_along_axis(x, idx.astype(np.int64), axis=axis)


def _check_partitioned(part, kth, axis, reference_sorted):
    """`part` is a partition around `kth` along `axis` of the values `reference_sorted`
    holds in order."""
    np.testing.assert_array_equal(np.sort(part, axis=axis), reference_sorted)
    pivot = np.take(part, [kth], axis=axis)
    n = part.shape[axis]
    before = np.take(part, list(range(kth)), axis=axis)
    after = np.take(part, list(range(kth + 1, n)), axis=axis)
    assert np.all(before <= pivot) and np.all(after >= pivot)
    np.testing.assert_array_equal(pivot, np.take(reference_sorted, [kth], axis=axis))


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_partition_and_argpartition(dtype):
    if dtype == "complex64":
        pytest.skip("NumPy orders complex numbers too; checked by the sort test")
    cases = [((9,), -1, [0, 4, 8, -1, -9]), ((4, 6), -1, [0, 3, -2]),
             ((4, 6), 0, [0, 2, 3, -4]), ((2, 3, 5), 1, [1]), ((4, 6), None, [0, 11, 23, -24]),
             ((), None, [0, -1])]
    for seed, (shape, axis, kths) in enumerate(cases):
        x = sample(shape, dtype, seed)
        y = to_mlx(x)
        h = to_numpy(x)
        flat_axis = 0 if axis is None else axis
        hs = np.sort(h.reshape(-1) if axis is None else h, axis=flat_axis)
        for kth in kths:
            n = hs.shape[flat_axis]
            k = kth % n
            ours, theirs = check(lambda: mx.partition(x, kth, axis),
                                 lambda: mlx.partition(y, kth, axis))
            _check_partitioned(to_numpy(ours), k, flat_axis, hs)
            ours, theirs = check(lambda: mx.argpartition(x, kth, axis),
                                 lambda: mlx.argpartition(y, kth, axis))
            idx = np.asarray(ours)
            source = h.reshape(-1) if axis is None else h
            assert np.array_equal(np.sort(idx, axis=flat_axis),
                                  np.sort(np.argsort(source, axis=flat_axis), axis=flat_axis))
            _check_partitioned(_take(source, idx, flat_axis), k, flat_axis, hs)


def test_partition_special_values():
    for dtype in FLOAT_NAMES:
        x = specials(dtype)
        y = to_mlx(x)
        for kth in (0, 3, 5, 7):
            ours = to_numpy(mx.partition(x, kth))
            want = to_numpy(mlx.sort(y))
            np.testing.assert_array_equal(ours[:, kth], want[:, kth])
            np.testing.assert_array_equal(np.sort(ours, axis=-1), want)
            idx = np.asarray(mx.argpartition(x, kth)).astype(np.int64)
            np.testing.assert_array_equal(_take(to_numpy(x), idx, 1)[:, kth], want[:, kth])


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_topk(dtype):
    cases = [((8,), -1, [0, 1, 3, 8]), ((3, 5), -1, [0, 2, 5]), ((3, 5), 0, [1, 3]),
             ((2, 3, 4), 1, [2]), ((3, 5), None, [0, 4, 15]), ((), None, [0, 1]),
             ((3, 5), -1, [6, -1]), ((3, 5), 2, [1]), ((), -1, [1])]
    for seed, (shape, axis, ks) in enumerate(cases):
        x = sample(shape, dtype, seed, ties=False)
        y = to_mlx(x)
        for k in ks:
            ours, theirs = check(lambda: mx.topk(x, k, axis), lambda: mlx.topk(y, k, axis))
            if ours is not None:
                # Neither order is specified: compare the sorted selections.
                ax = -1 if axis is None else axis
                assert_same(mx.sort(ours, ax), mlx.sort(theirs, ax))


def test_topk_special_values():
    for dtype in FLOAT_NAMES:
        x = specials(dtype)
        y = to_mlx(x)
        for k in (1, 3, 8):
            assert_same(mx.sort(mx.topk(x, k)), mlx.sort(mlx.topk(y, k)))


MEDIAN_CASES = [((7,), None), ((6,), 0), ((4, 6), None), ((4, 6), 1), ((4, 6), -2),
                ((4, 6), (0, 1)), ((2, 3, 4), (0, 2)), ((2, 3, 4), (2, 0)), ((2, 3, 4), 1),
                ((), None), ((4, 6), ()), ((4, 6), (1, 1)), ((4, 6), 2), ((0, 3), 0),
                ((0, 3), 1)]


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_median(dtype):
    for seed, (shape, axis) in enumerate(MEDIAN_CASES):
        x = sample(shape, dtype, seed, ties=False)
        y = to_mlx(x)
        for keepdims in (False, True):
            ours, theirs = check(lambda: mx.median(x, axis, keepdims),
                                 lambda: mlx.median(y, axis, keepdims), empty=0 in shape)
            if ours is not None:
                assert_same(ours, theirs)


def test_median_nan_propagates():
    for dtype in FLOAT_NAMES:
        x = specials(dtype)
        y = to_mlx(x)
        for axis in (None, 0, 1):
            assert_same(mx.median(x, axis), mlx.median(y, axis))


def test_argument_errors():
    x = sample((3, 4), "float32")
    y = to_mlx(x)
    calls = [
        ("sort", (), dict(axis=2)), ("sort", (), dict(axis=1.0)), ("argsort", (), dict(axis=-3)),
        ("partition", (4,), {}), ("partition", (-5,), {}), ("partition", (1.0,), {}),
        ("partition", (12,), dict(axis=None)), ("argpartition", (3,), dict(axis=0)),
        ("argpartition", (0,), dict(axis=5)), ("topk", (5,), {}), ("topk", (-1,), {}),
        ("topk", (1.5,), {}), ("topk", (13,), dict(axis=None)), ("topk", (1,), dict(axis=(0,))),
        ("median", (), dict(axis=())), ("median", (), dict(axis=(0, -2))),
        ("median", (), dict(axis=3)),
    ]
    for name, args, kwargs in calls:
        e = raises_like(lambda: getattr(mx, name)(x, *args, **kwargs),
                        lambda: getattr(mlx, name)(y, *args, **kwargs))
        if not isinstance(e, TypeError):
            assert str(e).startswith(f"[{name}]"), str(e)
    for name, args in (("sort", ()), ("argsort", ()), ("partition", (0,)), ("topk", (1,)),
                       ("median", ())):
        raises_like(lambda: getattr(mx, name)([3, 1], *args),
                    lambda: getattr(mlx, name)([3, 1], *args))


def test_integer_like_arguments():
    x = sample((3, 4), "int32")
    y = to_mlx(x)
    assert_same(mx.sort(x, axis=np.int64(0)), mlx.sort(y, axis=np.int64(0)))
    assert_same(mx.sort(mx.topk(x, np.int64(2))), mlx.sort(mlx.topk(y, np.int64(2))))
    assert_same(mx.sort(mx.partition(x, np.int32(1)), -1), mlx.sort(y, -1))


def test_primitives_have_frozen_params():
    from mlxpy.core.primitives import sort as P
    assert P.Sort(0) == P.Sort(0) and hash(P.Sort(None)) == hash(P.Sort(None))
    assert P.Sort(0) != P.ArgSort(0)
    assert P.Partition(2, 1).params() == (2, 1) and P.Partition(2, 1) != P.ArgPartition(2, 1)


def test_docstrings_run():
    from mlxpy.core.ops import sort
    result = doctest.testmod(sort, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 6 and result.failed == 0
