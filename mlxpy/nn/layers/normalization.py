"""Normalization layers: layer, RMS, group, instance and batch normalization."""
import mlxpy.core as mx

from .base import Module

__all__ = ["LayerNorm", "RMSNorm", "GroupNorm", "InstanceNorm", "BatchNorm"]


def _check_eps(layer, eps):
    if eps <= 0.0:
        raise ValueError(f"[{layer}] 'eps' must be positive but got {eps}.")


def _scale_shift(layer, x):
    return layer.weight * x + layer.bias if "weight" in layer else x


class LayerNorm(Module):
    """Normalizes the last axis to zero mean and unit variance, then (with `affine`) scales by
    `weight` (ones) and shifts by `bias` (zeros; only with `bias=True`).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> norm = nn.LayerNorm(2)
    >>> norm(mx.array([[1.0, 3.0]]))
    array([[-0.999995, 0.999995]], dtype=float32)
    >>> norm
    LayerNorm(2, eps=1e-05, affine=True)
    """

    def __init__(self, dims, eps=1e-5, affine=True, bias=True):
        super().__init__()
        _check_eps("LayerNorm", eps)
        if affine:
            self.weight = mx.ones((dims,))
            if bias:
                self.bias = mx.zeros((dims,))
        self.eps = eps
        self.dims = dims

    def _extra_repr(self):
        return f"{self.dims}, eps={self.eps}, affine={'weight' in self}"

    def __call__(self, x):
        return mx.fast.layer_norm(x, self.get("weight"), self.get("bias"), self.eps)


class RMSNorm(Module):
    """Divides by the root mean square of the last axis (accumulated in float32), then scales
    by `weight` (ones).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.RMSNorm(2, eps=0.0001)
    RMSNorm(2, eps=0.0001)
    >>> nn.RMSNorm(2)(mx.array([[3.0, 4.0]])).shape
    (1, 2)
    """

    def __init__(self, dims, eps=1e-5):
        super().__init__()
        _check_eps("RMSNorm", eps)
        self.weight = mx.ones((dims,))
        self.eps = eps

    def _extra_repr(self):
        return f"{self.weight.shape[0]}, eps={self.eps}"

    def __call__(self, x):
        return mx.fast.rms_norm(x, self["weight"], self.eps)


class GroupNorm(Module):
    """Splits the last (feature) axis into `num_groups` groups and normalizes each group over
    it and the spatial axes (all but the first and last). `pytorch_compatible` groups
    contiguous features as PyTorch does; otherwise feature `f` is in group `f % num_groups`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> norm = nn.GroupNorm(2, 4)
    >>> norm(mx.ones((3, 5, 4))).shape
    (3, 5, 4)
    >>> norm
    GroupNorm(2, 4, eps=1e-05, affine=True, pytorch_compatible=False)
    """

    def __init__(self, num_groups, dims, eps=1e-5, affine=True, pytorch_compatible=False):
        super().__init__()
        _check_eps("GroupNorm", eps)
        if num_groups <= 0:
            raise ValueError(f"[GroupNorm] The number of groups ({num_groups}) must be a "
                             "positive integer.")
        if dims <= 0:
            raise ValueError(f"[GroupNorm] The number of features ({dims}) must be a positive "
                             "integer.")
        if dims % num_groups != 0:
            raise ValueError(f"[GroupNorm] The number of features ({dims}) must be evenly "
                             f"divisible by the number of groups ({num_groups}).")
        if affine:
            self.bias = mx.zeros((dims,))
            self.weight = mx.ones((dims,))
        self.num_groups = num_groups
        self.dims = dims
        self.eps = eps
        self.pytorch_compatible = pytorch_compatible

    def _extra_repr(self):
        return (f"{self.num_groups}, {self.dims}, eps={self.eps}, affine={'weight' in self}, "
                f"pytorch_compatible={self.pytorch_compatible}")

    def _contiguous_groups(self, x):
        batch, *rest, dims = x.shape
        groups = self.num_groups
        size = dims // groups
        x = x.reshape(batch, -1, groups, size).transpose(0, 2, 1, 3).reshape(batch, groups, -1)
        x = mx.fast.layer_norm(x, None, None, self.eps)
        x = x.reshape(batch, groups, -1, size).transpose(0, 2, 1, 3)
        return x.reshape(batch, *rest, dims)

    def _strided_groups(self, x):
        batch, *rest, dims = x.shape
        x = x.reshape(batch, -1, self.num_groups)
        mean = mx.mean(x, axis=1, keepdims=True)
        var = mx.var(x, axis=1, keepdims=True)
        x = (x - mean) * mx.rsqrt(var + self.eps)
        return x.reshape(batch, *rest, dims)

    def __call__(self, x):
        normalize = self._contiguous_groups if self.pytorch_compatible else self._strided_groups
        return _scale_shift(self, normalize(x))


class InstanceNorm(Module):
    """Normalizes each sample's channels (the last axis) over the spatial axes; inputs are
    `(N, ..., C)` with at least 3 axes. With `affine`, then scales by `weight` and shifts by
    `bias`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.InstanceNorm(3)(mx.ones((2, 4, 3))).shape
    (2, 4, 3)
    >>> nn.InstanceNorm(3, affine=True)
    InstanceNorm(3, eps=1e-05, affine=True)
    """

    def __init__(self, dims, eps=1e-5, affine=False):
        super().__init__()
        _check_eps("InstanceNorm", eps)
        if affine:
            self.weight = mx.ones((dims,))
            self.bias = mx.zeros((dims,))
        self.dims = dims
        self.eps = eps

    def _extra_repr(self):
        return f"{self.dims}, eps={self.eps}, affine={'weight' in self}"

    def __call__(self, x):
        if x.ndim < 3:
            raise ValueError("[InstanceNorm] Expected inputs with at least 3 dimensions "
                             f"(N, ..., C) but the input has {x.ndim} dimensions.")
        batch, channels = x.shape[0], x.shape[-1]
        spatial = x.shape[1:-1]
        # Channels to the front so each (sample, channel) row is normalized over space.
        rows = mx.transpose(x, (0, x.ndim - 1, *range(1, x.ndim - 1)))
        y = mx.fast.layer_norm(rows.reshape(batch, channels, -1), None, None, self.eps)
        y = mx.transpose(y.reshape(batch, channels, *spatial), (0, *range(2, x.ndim), 1))
        return _scale_shift(self, y)


class BatchNorm(Module):
    """Normalizes each feature (the last axis) over the batch and spatial axes of `NC`, `NLC`
    or `NHWC` inputs.

    In training mode it uses the batch statistics and (with `track_running_stats`) updates
    `running_mean` and `running_var` (unbiased) with `momentum`; in evaluation mode it uses
    the running statistics. The running statistics are parameters but never trainable.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> norm = nn.BatchNorm(2)
    >>> norm(mx.array([[1.0, 2.0], [3.0, 6.0]]))
    array([[-0.999995, -0.999999],
           [0.999995, 0.999999]], dtype=float32)
    >>> norm.running_mean
    array([0.2, 0.4], dtype=float32)
    >>> sorted(norm.trainable_parameters())
    ['bias', 'weight']
    """

    _running_stats = ["running_mean", "running_var"]

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True):
        super().__init__()
        _check_eps("BatchNorm", eps)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = mx.ones((num_features,))
            self.bias = mx.zeros((num_features,))
        if track_running_stats:
            self.running_mean = mx.zeros((num_features,))
            self.running_var = mx.ones((num_features,))
            self.freeze(keys=self._running_stats, recurse=False)

    def unfreeze(self, *args, **kwargs):
        """Unfreeze as `Module.unfreeze` does, except the running statistics, which stay
        frozen.

        >>> import mlxpy.nn as nn
        >>> sorted(nn.BatchNorm(2).unfreeze().trainable_parameters())
        ['bias', 'weight']
        """
        super().unfreeze(*args, **kwargs)
        self.freeze(keys=self._running_stats, recurse=False)
        return self

    def _extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={'weight' in self}, track_running_stats={self.track_running_stats}")

    def _batch_stats(self, x, ddof=0):
        axes = tuple(range(x.ndim - 1))
        return mx.mean(x, axis=axes), mx.var(x, axis=axes, ddof=ddof)

    def __call__(self, x):
        if x.ndim < 2 or x.ndim > 4:
            raise ValueError("[BatchNorm] Expected input tensor to have 2, 3 or 4 dimensions, "
                             f"but got {x.ndim}.")
        if self.training:
            count = 1
            for size in x.shape[:-1]:
                count *= size
            if count == 1:
                raise ValueError("[BatchNorm] Training requires more than one value per "
                                 "channel.")
        mean, var = self._batch_stats(x)
        if self.training and self.track_running_stats:
            mu = self.momentum
            _, unbiased_var = self._batch_stats(x, ddof=1)
            self.running_mean = (1 - mu) * self.running_mean + mu * mean
            self.running_var = (1 - mu) * self.running_var + mu * unbiased_var
        elif self.track_running_stats:
            mean, var = self.running_mean, self.running_var
        return _scale_shift(self, (x - mean) * mx.rsqrt(var + self.eps))
