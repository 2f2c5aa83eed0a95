"""Parameter initializers with MLX's API.

Each function takes the distribution's settings and returns an initializer: a function of an
array that returns a new array of the same shape (the input's values are not used). Random
initializers draw from the global key with the same calls as MLX, so after the same
`mx.random.seed` they give MLX's values.

>>> import mlxpy.core as mx
>>> import mlxpy.nn as nn
>>> nn.init.constant(0.5)(mx.zeros((2,)))
array([0.5, 0.5], dtype=float32)
"""
import math

import mlxpy.core as mx

__all__ = ["constant", "normal", "uniform", "identity", "glorot_normal", "glorot_uniform",
           "he_normal", "he_uniform", "sparse", "orthogonal"]


def constant(value, dtype=mx.float32):
    """An initializer that fills the array's shape with `value`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.init.constant(2, dtype=mx.int32)(mx.zeros((2, 2)))
    array([[2, 2],
           [2, 2]], dtype=int32)
    """
    def initializer(a):
        return mx.full(a.shape, value, dtype=dtype)

    return initializer


def normal(mean=0.0, std=1.0, dtype=mx.float32):
    """An initializer drawing from N(`mean`, `std`**2).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.init.normal(std=0.1)(mx.zeros((3, 2))).shape
    (3, 2)
    """
    def initializer(a):
        return mx.random.normal(shape=a.shape, scale=std, loc=mean, dtype=dtype)

    return initializer


def uniform(low=0.0, high=1.0, dtype=mx.float32):
    """An initializer drawing from U(`low`, `high`).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> w = nn.init.uniform(-1, 1)(mx.zeros((100,)))
    >>> bool((w >= -1).all() and (w < 1).all())
    True
    """
    def initializer(a):
        return mx.random.uniform(low, high, a.shape, dtype=dtype)

    return initializer


def identity(dtype=mx.float32):
    """An initializer returning the identity matrix of a square array's shape.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.init.identity()(mx.zeros((2, 2)))
    array([[1, 0],
           [0, 1]], dtype=float32)
    """
    def initializer(a):
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"[init.identity] The input array must be a square matrix but got "
                             f"shape {a.shape}.")
        return mx.eye(n=a.shape[0], dtype=dtype)

    return initializer


def _fans(a, where):
    """(fan_in, fan_out) of a weight shaped `(out, ..., in)`: the inner axes are a receptive
    field that multiplies both."""
    if a.ndim < 2:
        raise ValueError(f"[init.{where}] Glorot / He initialization requires at least 2 "
                         f"dimensional input but got input with {a.ndim} dimensions.")
    receptive_field = math.prod(a.shape[1:-1])
    return a.shape[-1] * receptive_field, a.shape[0] * receptive_field


def _fan(a, mode, where):
    fan_in, fan_out = _fans(a, where)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"[init.{where}] Invalid mode: {mode}. Valid modes are: fan_in, fan_out.")


def glorot_normal(dtype=mx.float32):
    """A Glorot (Xavier) normal initializer: `initializer(a, gain=1.0)` draws from
    N(0, std**2), `std = gain * sqrt(2 / (fan_in + fan_out))`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.init.glorot_normal()(mx.zeros((4, 3)), gain=2.0).shape
    (4, 3)
    """
    def initializer(a, gain=1.0):
        fan_in, fan_out = _fans(a, "glorot_normal")
        std = gain * math.sqrt(2.0 / (fan_in + fan_out))
        return mx.random.normal(shape=a.shape, scale=std, dtype=dtype)

    return initializer


def glorot_uniform(dtype=mx.float32):
    """A Glorot (Xavier) uniform initializer: `initializer(a, gain=1.0)` draws from
    U(-limit, limit), `limit = gain * sqrt(6 / (fan_in + fan_out))`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> w = nn.init.glorot_uniform()(mx.zeros((2, 4)))
    >>> bool((mx.abs(w) <= 1.0).all())
    True
    """
    def initializer(a, gain=1.0):
        fan_in, fan_out = _fans(a, "glorot_uniform")
        limit = gain * math.sqrt(6.0 / (fan_in + fan_out))
        return mx.random.uniform(-limit, limit, a.shape, dtype=dtype)

    return initializer


def he_normal(dtype=mx.float32):
    """A He (Kaiming) normal initializer: `initializer(a, mode="fan_in", gain=1.0)` draws
    from N(0, std**2), `std = gain / sqrt(fan)`, fan being `fan_in` or `fan_out` per `mode`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.init.he_normal()(mx.zeros((4, 3)), mode="fan_out").shape
    (4, 3)
    """
    def initializer(a, mode="fan_in", gain=1.0):
        std = gain / math.sqrt(_fan(a, mode, "he_normal"))
        return mx.random.normal(shape=a.shape, scale=std, dtype=dtype)

    return initializer


def he_uniform(dtype=mx.float32):
    """A He (Kaiming) uniform initializer: `initializer(a, mode="fan_in", gain=1.0)` draws
    from U(-limit, limit), `limit = gain * sqrt(3 / fan)`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> w = nn.init.he_uniform()(mx.zeros((2, 3)))
    >>> bool((mx.abs(w) <= 1.0).all())
    True
    """
    def initializer(a, mode="fan_in", gain=1.0):
        limit = gain * math.sqrt(3.0 / _fan(a, mode, "he_uniform"))
        return mx.random.uniform(-limit, limit, a.shape, dtype=dtype)

    return initializer


def sparse(sparsity, mean=0.0, std=1.0, dtype=mx.float32):
    """An initializer for 2-D arrays: N(`mean`, `std`**2) samples with `ceil(sparsity * cols)`
    randomly chosen entries of every row set to zero.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> w = nn.init.sparse(sparsity=0.5)(mx.zeros((3, 4)))
    >>> (w == 0).sum(axis=1)
    array([2, 2, 2], dtype=int32)
    """
    def initializer(a):
        if a.ndim != 2:
            raise ValueError(f"[init.sparse] Only arrays with 2 dimensions are supported but "
                             f"got {a.ndim}.")
        rows, cols = a.shape
        num_zeros = int(math.ceil(sparsity * cols))
        # MLX's draw order: the uniform keys that pick the zeros, then the normal values.
        order = mx.argsort(mx.random.uniform(shape=a.shape), axis=1)
        values = mx.random.normal(shape=a.shape, scale=std, loc=mean, dtype=dtype)
        values[mx.arange(rows).reshape(rows, 1), order[:, :num_zeros]] = 0
        return values

    return initializer


def orthogonal(gain=1.0, dtype=mx.float32):
    """An initializer for 2-D arrays: `gain` times a matrix with orthonormal rows or columns
    (whichever are fewer), from the QR factorization of a standard-normal square matrix.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> q = nn.init.orthogonal()(mx.zeros((3, 3)))
    >>> bool(mx.allclose(q @ q.T, mx.eye(3), atol=1e-5))
    True
    """
    def initializer(a):
        if a.ndim != 2:
            raise ValueError(f"[init.orthogonal] Orthogonal initialization requires a 2D array "
                             f"but got a {a.ndim}D array.")
        rows, cols = a.shape
        n = max(rows, cols)
        q, r = mx.linalg.qr(mx.random.normal(shape=(n, n)), stream=mx.cpu)
        # Sign-normalize so the factorization, and thus the result, is unique.
        q = q * mx.sign(mx.diag(r))
        return (q[:rows, :cols] * gain).astype(dtype)

    return initializer
