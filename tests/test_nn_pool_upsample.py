"""mlxpy.nn pooling and Upsample against mlx.nn: values, dtypes, input gradients,
module trees and reprs, errors, and behaviour under vmap and compile."""
import doctest

import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.nn as nn
from mlxpy.nn.layers import pooling, upsample
from oracle import assert_same, mlx, needs_mlx, raises_like, to_mlx

if mlx is not None:
    import mlx.nn as mlx_nn
    import mlx.nn.layers.upsample as mlx_upsample

pytestmark = needs_mlx

SPATIAL = {1: (9,), 2: (7, 6), 3: (5, 6, 4)}


def _input(dims, seed=0, dtype="float32", batch=2, channels=3):
    values = np.random.default_rng(seed).standard_normal((batch, *SPATIAL[dims], channels))
    x = mx.array(values.astype(np.float32))
    return x if dtype == "float32" else x.astype(getattr(mx, dtype))


def _probe_grads(ours, theirs, x, rtol=1e-5, atol=1e-6):
    """Gradients of a distinct-weighted sum of the outputs, for both libraries."""
    shape = ours(x).shape
    w = np.cos(np.arange(int(np.prod(shape)), dtype=np.float32) * 0.7).reshape(shape)
    g = mx.grad(lambda z: (ours(z) * mx.array(w)).sum())(x)
    h = mlx.grad(lambda z: (theirs(z) * mlx.array(w)).sum())(to_mlx(x))
    assert_same(g, h, rtol=rtol, atol=atol)


# -- pooling -------------------------------------------------------------------------------

# (kernel_size, stride, padding) per number of spatial dims; None stride = kernel_size.
POOL_ARGS = {
    1: [(2, None, 0), (3, 1, 1), (3, 2, 0), (4, 3, 2), ((2,), (1,), (1,)), (9, None, 0)],
    2: [(2, None, 0), (3, 1, 1), ((2, 3), (1, 2), (1, 0)), (3, 2, 0), ([2, 2], None, 1)],
    3: [(2, None, 0), (2, 1, 1), ((2, 3, 1), (1, 2, 1), (0, 1, 0))],
}
POOL_CASES = [(kind, d, *args) for kind in ("Max", "Avg") for d in (1, 2, 3)
              for args in POOL_ARGS[d]]


def _pools(kind, dims, *args):
    name = f"{kind}Pool{dims}d"
    return getattr(nn, name)(*args), getattr(mlx_nn, name)(*args)


@pytest.mark.parametrize("kind,dims,kernel,stride,padding", POOL_CASES,
                         ids=[f"{c[0]}{c[1]}d-{c[2]}-{c[3]}-{c[4]}" for c in POOL_CASES])
def test_pool_values_grads_and_tree(kind, dims, kernel, stride, padding):
    ours, theirs = _pools(kind, dims, kernel, stride, padding)
    assert repr(ours) == repr(theirs)
    assert dict(ours) == dict(theirs)
    assert ours.parameters() == {}
    x = _input(dims)
    assert_same(ours(x), theirs(to_mlx(x)))
    _probe_grads(ours, theirs, x)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("kind", ["Max", "Avg"])
def test_pool_half_precision(kind, dtype):
    ours, theirs = _pools(kind, 2, 3, 2, 1)
    x = _input(2, dtype=dtype)
    assert_same(ours(x), theirs(to_mlx(x)))


@pytest.mark.parametrize("kind", ["Max", "Avg"])
def test_pool_integer_input_dtypes(kind):
    ours, theirs = _pools(kind, 1, 2)
    x = mx.arange(12).reshape(1, 6, 2)
    assert_same(ours(x), theirs(to_mlx(x)))


def test_max_pool_gradient_splits_ties_like_mlx():
    ours, theirs = _pools("Max", 1, 2, 1)
    _probe_grads(ours, theirs, mx.ones((1, 5, 2)))


def test_max_pool_pads_with_negative_infinity_and_avg_with_zero():
    x = -mx.ones((1, 2, 1))
    assert nn.MaxPool1d(2, padding=1)(x).tolist() == [[[-1.0], [-1.0]]]
    assert nn.AvgPool1d(2, padding=1)(x).tolist() == [[[-0.5], [-0.5]]]


POOL_CONSTRUCTOR_ERRORS = [
    ("MaxPool1d", (0,)), ("AvgPool2d", ((2, -1),)), ("MaxPool3d", (2, 0)),
    ("MaxPool1d", (2, None, -1)), ("AvgPool1d", ((2, 2),)), ("MaxPool2d", (2.0,)),
    ("AvgPool3d", ((2, 2),)), ("MaxPool2d", (2, (1, 1, 1))), ("AvgPool2d", (2, None, "1")),
]


@pytest.mark.parametrize("name,args", POOL_CONSTRUCTOR_ERRORS,
                         ids=[f"{n}{a}" for n, a in POOL_CONSTRUCTOR_ERRORS])
def test_pool_constructor_errors(name, args):
    err = raises_like(lambda: getattr(nn, name)(*args), lambda: getattr(mlx_nn, name)(*args))
    assert str(err).startswith(f"[{name}]")


@pytest.mark.parametrize("shape,dims", [((6, 3), 1), ((2, 6, 3), 2), ((2, 4, 4, 3), 1)])
def test_pool_input_rank_errors(shape, dims):
    ours, theirs = _pools("Max", dims, 2)
    err = raises_like(lambda: ours(mx.ones(shape)), lambda: theirs(mlx.ones(shape)))
    assert "MaxPool" in str(err)


def test_pool_window_larger_than_input_gives_empty_output():
    # (never evaluated in MLX: MLX may hang on empty reductions)
    assert nn.MaxPool1d(8)(mx.ones((2, 6, 3))).shape == (2, 0, 3)


def test_pool_under_vmap_and_compile():
    pool = nn.MaxPool2d(3, 1, 1)
    x = mx.array(np.random.default_rng(3).standard_normal((4, 1, 5, 5, 2)).astype(np.float32))
    looped = mx.stack([pool(x[i]) for i in range(4)])
    assert_same(mx.vmap(pool)(x), looped)
    grad = mx.compile(mx.grad(lambda z: (pool(z) ** 2).sum()))
    want = mlx.grad(lambda z: (mlx_nn.MaxPool2d(3, 1, 1)(z) ** 2).sum())
    assert_same(grad(x[0]), want(to_mlx(x[0])))


# -- upsampling ----------------------------------------------------------------------------

METHODS = [("upsample_nearest", {}), ("upsample_linear", {}),
           ("upsample_linear", {"align_corners": True}),
           ("upsample_linear", {"antialias": True}), ("upsample_cubic", {}),
           ("upsample_cubic", {"align_corners": True}), ("upsample_cubic", {"antialias": True})]
SCALES = [2.0, 1.5, 0.5, 0.75, 3.0, 1.0]
UPSAMPLE_CASES = [(d, s, m, kw) for d in (1, 2, 3) for s in SCALES for m, kw in METHODS
                  if d < 3 or s in (2.0, 0.75)]


@pytest.mark.parametrize("dims,scale,method,kwargs", UPSAMPLE_CASES,
                         ids=[f"{c[0]}d-{c[1]}-{c[2]}-{'-'.join(c[3])}" for c in UPSAMPLE_CASES])
def test_upsample_functions_values_and_grads(dims, scale, method, kwargs):
    x = _input(dims, batch=1, channels=2)
    scales = (scale,) * dims

    def ours(z):
        return getattr(upsample, method)(z, scales, **kwargs)

    def theirs(z):
        return getattr(mlx_upsample, method)(z, scales, **kwargs)

    assert_same(ours(x), theirs(to_mlx(x)))
    _probe_grads(ours, theirs, x, rtol=1e-4, atol=1e-5)


def test_upsample_mixed_scales_per_axis():
    x = _input(2, batch=1)
    for mode in ("nearest", "linear", "cubic"):
        for align in (False, True):
            if mode == "nearest" and align:
                continue
            ours = nn.Upsample((2, 1.5), mode, align)
            theirs = mlx_nn.Upsample((2, 1.5), mode, align)
            assert_same(ours(x), theirs(to_mlx(x)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_upsample_half_precision_dtypes(mode, dtype):
    x = _input(2, dtype=dtype, batch=1)
    for scale in (2, 1.5):
        assert_same(nn.Upsample(scale, mode)(x), mlx_nn.Upsample(scale, mode)(to_mlx(x)))


UPSAMPLE_MODULES = [((2,), {}), ((2.5, "linear"), {}), (((2, 3), "cubic", True), {}),
                    ((0.5, "linear"), {"antialias": True}), (([1, 2],), {}),
                    ((3, "cubic"), {"antialias": True})]


@pytest.mark.parametrize("args,kwargs", UPSAMPLE_MODULES, ids=[str(a) for a, _ in UPSAMPLE_MODULES])
def test_upsample_module_repr_and_state(args, kwargs):
    ours, theirs = nn.Upsample(*args, **kwargs), mlx_nn.Upsample(*args, **kwargs)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert dict(ours) == dict(theirs)
    for attr in ("scale_factor", "mode", "align_corners", "antialias"):
        assert getattr(ours, attr) == getattr(theirs, attr)
    assert ours.parameters() == {}


UPSAMPLE_ERRORS = [
    ((2, "bicubic"), {}, None), ((2,), {"antialias": True}, None),
    ((2, "linear", True), {"antialias": True}, None),
    ((2,), {}, (4, 3)), (((2, 2),), {}, (1, 4, 3)), (((2,),), {}, (1, 4, 4, 3)),
]


@pytest.mark.parametrize("args,kwargs,shape", UPSAMPLE_ERRORS,
                         ids=[str(i) for i in range(len(UPSAMPLE_ERRORS))])
def test_upsample_errors(args, kwargs, shape):
    if shape is None:
        err = raises_like(lambda: nn.Upsample(*args, **kwargs),
                          lambda: mlx_nn.Upsample(*args, **kwargs))
    else:
        err = raises_like(lambda: nn.Upsample(*args, **kwargs)(mx.ones(shape)),
                          lambda: mlx_nn.Upsample(*args, **kwargs)(mlx.ones(shape)))
    assert str(err).startswith("[Upsample]")


def test_upsample_function_scale_count_error():
    for method in ("upsample_nearest", "upsample_linear", "upsample_cubic"):
        raises_like(lambda: getattr(upsample, method)(mx.ones((1, 4, 4, 2)), (2.0,)),
                    lambda: getattr(mlx_upsample, method)(mlx.ones((1, 4, 4, 2)), (2.0,)))


def test_upsample_under_vmap_and_compile():
    up = nn.Upsample(1.5, "cubic")
    x = mx.array(np.random.default_rng(4).standard_normal((3, 1, 4, 5, 2)).astype(np.float32))
    looped = mx.stack([up(x[i]) for i in range(3)])
    assert_same(mx.vmap(up)(x), looped)
    assert_same(mx.compile(up)(x[0]), mlx_nn.Upsample(1.5, "cubic")(to_mlx(x[0])))


def test_docstring_examples():
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    objects = [(m.__name__, m) for m in (pooling, upsample)]
    objects += [(n, getattr(pooling, n)) for n in pooling.__all__]
    objects += [(n, getattr(upsample, n)) for n in
                ("Upsample", "upsample_nearest", "upsample_linear", "upsample_cubic")]
    for name, obj in objects:
        assert obj.__doc__ and ">>>" in obj.__doc__, f"{name} has no example"
        runner.run(parser.get_doctest(obj.__doc__, {}, name, None, 0))
    assert runner.failures == 0
