"""Helpers for testing mlxpy.nn layers against mlx.nn: mirror an MLX module's weights into
the mlxpy twin, then compare outputs and parameter gradients on the same inputs."""
import numpy as np

import mlxpy.core as mx
import mlxpy.nn as nn
from mlxpy.utils import tree_flatten, tree_unflatten
from oracle import assert_same, mlx

if mlx is not None:
    import mlx.nn as mlx_nn
    from mlx.utils import tree_flatten as mlx_tree_flatten


def param_shapes(module):
    """[(key, shape)] of a module's parameters, in tree order, for either library."""
    flatten = tree_flatten if isinstance(module, nn.Module) else mlx_tree_flatten
    return [(key, tuple(value.shape)) for key, value in flatten(module.parameters())]


def mirror(ours, theirs):
    """Check both modules have the same parameter keys and shapes (in the same order), then
    copy MLX's values into ours."""
    assert param_shapes(ours) == param_shapes(theirs)
    weights = [(key, mx.array(np.array(value))) for key, value in
               mlx_tree_flatten(theirs.parameters())]
    ours.update(tree_unflatten(weights))
    return ours


def _convert(value, lib):
    if isinstance(value, np.ndarray):
        return lib.array(value)
    return value


def probe_loss(outputs, lib=mx):
    """A scalar that depends on every output element with a distinct weight, so gradients
    carry each element's contribution."""
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    total = 0
    for out in outputs:
        weights = np.cos(np.arange(out.size, dtype=np.float32) * 0.7).reshape(out.shape)
        total = total + (out * lib.array(weights)).sum()
    return total


def check_forward(ours, theirs, *inputs, rtol=None, atol=None, **kwargs):
    """Same outputs (tuple outputs compared element by element) for NumPy `inputs`."""
    def call(model, lib):
        return model(*(_convert(x, lib) for x in inputs),
                     **{k: _convert(v, lib) for k, v in kwargs.items()})
    got, want = call(ours, mx), call(theirs, mlx)
    assert_same(got, want, rtol=rtol, atol=atol)
    return got


def check_grads(ours, theirs, *inputs, rtol=1e-4, atol=1e-5, **kwargs):
    """Same loss value and same gradient tree w.r.t. the trainable parameters, using each
    library's `nn.value_and_grad`."""
    def loss(lib, model):
        lib_kwargs = {k: _convert(v, lib) for k, v in kwargs.items()}
        return lambda *args: probe_loss(model(*args, **lib_kwargs), lib)

    ours_value, ours_grads = nn.value_and_grad(ours, loss(mx, ours))(
        *(_convert(x, mx) for x in inputs))
    their_value, their_grads = mlx_nn.value_and_grad(theirs, loss(mlx, theirs))(
        *(_convert(x, mlx) for x in inputs))
    assert_same(ours_value, their_value, rtol=rtol, atol=atol)
    ours_flat, their_flat = tree_flatten(ours_grads), mlx_tree_flatten(their_grads)
    assert [k for k, _ in ours_flat] == [k for k, _ in their_flat]
    for (key, g), (_, h) in zip(ours_flat, their_flat):
        try:
            assert_same(g, h, rtol=rtol, atol=atol)
        except AssertionError as e:
            raise AssertionError(f"gradient of {key}: {e}") from None
    return ours_grads


def seeded_twins(ours_cls, theirs_cls, *args, seed=7, **kwargs):
    """Both modules built right after the same `random.seed`."""
    mx.random.seed(seed)
    ours = ours_cls(*args, **kwargs)
    mlx.random.seed(seed)
    theirs = theirs_cls(*args, **kwargs)
    return ours, theirs


def assert_same_init(ours, theirs):
    """Bit-identical initial parameters."""
    assert param_shapes(ours) == param_shapes(theirs)
    for (key, a), (_, b) in zip(tree_flatten(ours.parameters()),
                                mlx_tree_flatten(theirs.parameters())):
        np.testing.assert_array_equal(np.array(a), np.array(b), err_msg=key)


def _normalized_default(value):
    if callable(value) and not isinstance(value, type):
        return "<callable>"  # MLX's compiled activations have no stable name or repr
    return str(value).replace("mlxpy.core.", "").replace("mlx.core.", "")


def assert_same_signature(ours, theirs):
    """Same parameter names, kinds and defaults (a function's, or a class's __init__)."""
    import inspect

    def describe(fn):
        return [(p.name, p.kind, _normalized_default(p.default))
                for p in inspect.signature(fn).parameters.values()]
    assert describe(ours) == describe(theirs), f"{ours.__qualname__}"
