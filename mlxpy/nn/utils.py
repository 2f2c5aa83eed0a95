"""Transforms of functions of a module's parameters: `value_and_grad`, `checkpoint`, and the
(single-process) `average_gradients`."""
from functools import wraps

import mlxpy.core as mx

__all__ = ["value_and_grad", "average_gradients", "checkpoint"]


def _with_parameters(module, fn):
    """`fn` as a function of `module`'s trainable parameters first: they are put into the
    module (as the transform's placeholders) before `fn(*args, **kwargs)` runs."""
    def call_with(parameters, *args, **kwargs):
        module.update(parameters)
        return fn(*args, **kwargs)

    return call_with


def value_and_grad(model, fn):
    """Wrap `fn` so that it returns `(fn(*args), gradients)`, the gradients taken with respect
    to `model.trainable_parameters()` (a tree of the same structure; frozen parameters are
    left out).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> model = nn.Linear(2, 1)
    >>> loss_and_grad = nn.value_and_grad(model, lambda x: model(x).sum())
    >>> loss, grads = loss_and_grad(mx.array([[1.0, 2.0]]))
    >>> grads["weight"], grads["bias"]
    (array([[1, 2]], dtype=float32), array([1], dtype=float32))
    """
    transformed = mx.value_and_grad(_with_parameters(model, fn))

    @wraps(fn)
    def value_and_grads(*args, **kwargs):
        return transformed(model.trainable_parameters(), *args, **kwargs)

    return value_and_grads


def checkpoint(module, fn=None):
    """Wrap `fn` (default: `module` itself) with `mx.checkpoint`, with the module's trainable
    parameters among the checkpointed inputs: the backward pass recomputes the intermediate
    values instead of keeping them.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> from mlxpy.nn.utils import checkpoint
    >>> model = nn.Linear(2, 2)
    >>> checkpoint(model)(mx.ones((1, 2))).shape
    (1, 2)
    """
    if fn is None:
        # The module, not its bound __call__, so a __call__ patched later is still used.
        fn = module
    checkpointed = mx.checkpoint(_with_parameters(module, fn))

    @wraps(fn)
    def checkpointed_call(*args, **kwargs):
        return checkpointed(module.trainable_parameters(), *args, **kwargs)

    return checkpointed_call


def average_gradients(gradients, group=None, all_reduce_size=32 * 1024**2,
                      communication_stream=None):
    """Average `gradients` over the processes of a distributed group. mlxpy runs a single
    process, so the average is the gradients themselves, returned unchanged.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.average_gradients({"w": mx.array([1.0])})
    {'w': array([1], dtype=float32)}
    """
    size = 1 if group is None else group.size()
    if size != 1:
        raise ValueError(f"[average_gradients] mlxpy runs a single process but the group has "
                         f"{size} members.")
    return gradients
