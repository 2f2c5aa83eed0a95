"""Convolutions: conv1d/2d/3d, conv_general and conv_transpose1d/2d/3d.

Every op validates its arguments as MLX does and lowers to one `Convolution` node.
A transposed convolution is the convolution whose derivative it is: the input dilated by
the stride, the kernel flipped, padded so the output has the transposed shape. As in
MLX, negative padding crops the input before the convolution, groups other than 1 are
for 1-D and 2-D convolutions only, and the input must be floating point (the weight is
promoted with it).
"""
import operator as _operator

import mlxpy.core as mx

from .. import dtypes as _dt
from ..array import array as _array, wrap
from ..primitives.conv import Convolution, dilated_size, output_size
from ._core import cast_node, make, stream_of

__all__ = ["conv1d", "conv2d", "conv3d", "conv_general", "conv_transpose1d",
           "conv_transpose2d", "conv_transpose3d"]


def _fmt(values):
    return "(" + ",".join(str(v) for v in values) + ")"


def _as_index(value):
    """`value` as a Python int if it is an integer (bool and NumPy integers count), else
    None."""
    try:
        return _operator.index(value)
    except TypeError:
        return None


def _int(value, where, what):
    v = _as_index(value)
    if v is None:
        raise TypeError(f"[{where}] {what} must be an integer, got {type(value).__name__}.")
    return v


def _ints(value, where, what, size=None):
    """An int (repeated `size` times) or a sequence of ints (of length `size`, if given)
    as a tuple; None for `size` keeps a single int as a 1-tuple for broadcasting later."""
    single = _as_index(value)
    if single is not None:
        return (single,) * (size or 1)
    try:
        values = tuple(_int(v, where, what) for v in value)
    except TypeError:
        expected = "an int" + (f" or a tuple of {size} ints" if size else " or a list of ints")
        raise TypeError(f"[{where}] {what} must be {expected}, got {value!r}.") from None
    if size is not None and len(values) != size:
        raise TypeError(f"[{where}] {what} must be an int or a tuple of {size} ints, got "
                        f"{value!r}.")
    return values


def _padding_pair(padding, where):
    """conv_general's padding: an int, a list of ints (symmetric), or a pair of lists
    (low, high)."""
    if isinstance(padding, (list, tuple)) and len(padding) == 2 and all(
            _as_index(p) is None for p in padding):
        lo, hi = padding
        return _ints(lo, where, "padding"), _ints(hi, where, "padding")
    both = _ints(padding, where, "padding")
    return both, both


def _per_axis(values, spatial, default, where, what):
    """Broadcast a 0- or 1-element list to every spatial axis; others must fit."""
    if len(values) <= 1:
        return (values[0] if values else default,) * spatial
    if len(values) != spatial:
        raise ValueError(f"[{where}] Invalid {what} {_fmt(values)} for {spatial}D "
                         "convolution.")
    return tuple(values)


def _check_operands(where, x, w, groups, spatial=None):
    """MLX's checks on the operands: arrays of matching ranks, floating input, channels
    that split into `groups`. Returns the number of spatial axes."""
    for name, v in (("input", x), ("weight", w)):
        if not isinstance(v, _array):
            raise TypeError(f"[{where}] {name} must be an mx.array, got {type(v).__name__}.")
    if groups <= 0:
        raise ValueError(f"[{where}] groups must be a positive integer, got {groups}.")
    nd = x.ndim - 2
    if spatial is not None and nd != spatial:
        raise ValueError(f"[{where}] Invalid input array with {x.ndim} dimensions for "
                         f"{spatial}D convolution. Expected an array with {spatial + 2} "
                         "dimensions following the format [N, ..., C_in].")
    if groups != 1 and nd not in (1, 2):
        raise ValueError(f"[{where}] Can only handle groups != 1 in 1D or 2D convolutions.")
    if not 1 <= nd <= 3:
        raise ValueError(f"[{where}] Only works for inputs with 1-3 spatial dimensions. The "
                         f"inputs must be in the format [N, ..., C_in]; got shape "
                         f"{_fmt(x.shape)}.")
    if x.dtype.kind != "f":
        raise ValueError(f"[{where}] Invalid input array with type {x.dtype.name}. "
                         "Convolution currently only supports floating point types.")
    if w.ndim != nd + 2:
        raise ValueError(f"[{where}] Invalid weight array with {w.ndim} dimensions for {nd}D "
                         f"convolution. Expected an array with {nd + 2} dimensions following "
                         "the format [C_out, ..., C_in].")
    c, o, cw = x.shape[-1], w.shape[0], w.shape[-1]
    if c % groups:
        raise ValueError(f"[{where}] The input channels must be divisible by the number of "
                         f"groups. Got input with shape {_fmt(x.shape)} and {groups} groups.")
    if groups > 1 and o % groups:
        raise ValueError(f"[{where}] If groups > 1, the output channels must be divisible "
                         f"by the number of groups. Got {o} output channels and {groups} "
                         "groups.")
    if c != groups * cw:
        raise ValueError(f"[{where}] Expected {groups * cw} input channels for weight of "
                         f"shape {_fmt(w.shape)} and {groups} groups, got input of shape "
                         f"{_fmt(x.shape)}.")
    return nd


def _convolve(where, x, w, stride, padding_lo, padding_hi, kernel_dilation, input_dilation,
              groups, flip, stream, spatial=None):
    """Validate, promote, crop negative padding, and build the Convolution node."""
    groups = _int(groups, where, "groups")
    nd = _check_operands(where, x, w, groups, spatial)
    s = stream_of(stream, where)
    stride = _per_axis(stride, nd, 1, where, "strides")
    padding_lo = _per_axis(padding_lo, nd, 0, where, "padding")
    padding_hi = _per_axis(padding_hi, nd, 0, where, "padding")
    kernel_dilation = _per_axis(kernel_dilation, nd, 1, where, "kernel dilation")
    input_dilation = _per_axis(input_dilation, nd, 1, where, "input dilation")
    for values, what in ((stride, "Stride"), (kernel_dilation, "Kernel dilation"),
                         (input_dilation, "Input dilation")):
        if any(v <= 0 for v in values):
            raise ValueError(f"[{where}] {what} sizes must be positive. Got "
                             f"{what.lower()} {_fmt(values)}.")
    d = _dt.PROMOTION[x.dtype, w.dtype]
    nx, nw = cast_node(x._node, d, s), cast_node(w._node, d, s)
    if any(p < 0 for p in padding_lo + padding_hi):
        # MLX crops the (undilated) input by the negative amounts.
        crop = tuple(slice(max(0, -lo), nx.shape[1 + i] + min(0, hi))
                     for i, (lo, hi) in enumerate(zip(padding_lo, padding_hi)))
        nx = _crop(wrap(nx), crop, s)._node
        padding_lo = tuple(max(0, p) for p in padding_lo)
        padding_hi = tuple(max(0, p) for p in padding_hi)
    for i in range(nd):
        size = nx.shape[1 + i]
        if output_size(size, nw.shape[1 + i], stride[i], padding_lo[i], padding_hi[i],
                       kernel_dilation[i], input_dilation[i]) < 1:
            raise ValueError(
                f"[{where}] Spatial dimensions of input after padding cannot be smaller "
                f"than weight spatial dimensions. Got error at axis {i + 1} for input with "
                f"shape {_fmt(nx.shape)}, padding low {_fmt(padding_lo)}, padding high "
                f"{_fmt(padding_hi)}, and weight of shape {_fmt(nw.shape)}.")
    prim = Convolution(stride, padding_lo, padding_hi, kernel_dilation, input_dilation,
                       groups, bool(flip))
    return make(prim, [nx, nw], s)


def _crop(x, crop, stream):
    with mx.stream(stream):
        return x[(slice(None),) + crop]


def conv1d(input, weight, /, stride=1, padding=0, dilation=1, groups=1, *, stream=None):
    """1-D convolution (cross-correlation) of ``(N, L, C_in)`` with ``(C_out, K, C_in)``.

    >>> import mlxpy.core as mx
    >>> x = mx.arange(5, dtype=mx.float32).reshape(1, 5, 1)
    >>> mx.conv1d(x, mx.array([[[1.0], [0.0], [-1.0]]]))
    array([[[-2],
            [-2],
            [-2]]], dtype=float32)
    """
    where = "conv1d"
    return _convolve(where, input, weight, (_int(stride, where, "stride"),),
                     (_int(padding, where, "padding"),), (_int(padding, where, "padding"),),
                     (_int(dilation, where, "dilation"),), (1,), groups, False, stream, 1)


def _fixed(where, spatial, input, weight, stride, padding, dilation, groups, stream):
    padding = _ints(padding, where, "padding", spatial)
    return _convolve(where, input, weight, _ints(stride, where, "stride", spatial), padding,
                     padding, _ints(dilation, where, "dilation", spatial), (1,), groups,
                     False, stream, spatial)


def conv2d(input, weight, /, stride=1, padding=0, dilation=1, groups=1, *, stream=None):
    """2-D convolution of ``(N, H, W, C_in)`` with ``(C_out, KH, KW, C_in / groups)``;
    `stride`, `padding` and `dilation` are ints or pairs.

    >>> import mlxpy.core as mx
    >>> x = mx.ones((1, 4, 4, 2))
    >>> y = mx.conv2d(x, mx.ones((3, 3, 3, 2)), padding=1)
    >>> y.shape
    (1, 4, 4, 3)
    >>> y[0, :, :, 0]
    array([[8, 12, 12, 8],
           [12, 18, 18, 12],
           [12, 18, 18, 12],
           [8, 12, 12, 8]], dtype=float32)
    """
    return _fixed("conv2d", 2, input, weight, stride, padding, dilation, groups, stream)


def conv3d(input, weight, /, stride=1, padding=0, dilation=1, groups=1, *, stream=None):
    """3-D convolution of ``(N, D, H, W, C_in)`` with ``(C_out, KD, KH, KW, C_in)``.

    >>> import mlxpy.core as mx
    >>> mx.conv3d(mx.ones((1, 3, 3, 3, 1)), mx.ones((1, 2, 2, 2, 1)), stride=2).shape
    (1, 1, 1, 1, 1)
    """
    return _fixed("conv3d", 3, input, weight, stride, padding, dilation, groups, stream)


def conv_general(input, weight, /, stride=1, padding=0, kernel_dilation=1, input_dilation=1,
                 groups=1, flip=False, *, stream=None):
    """Convolution with every option: per-axis strides, padding (an int, a list, or a
    pair of lists ``(low, high)``), kernel and input dilation, groups, and `flip` (True:
    convolution proper, the kernel reversed; False: cross-correlation).

    >>> import mlxpy.core as mx
    >>> x = mx.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    >>> w = mx.array([1.0, 10.0]).reshape(1, 2, 1)
    >>> mx.conv_general(x, w, padding=([1], [0]), flip=True).reshape(-1)
    array([1, 12, 23], dtype=float32)
    >>> mx.conv_general(x, w, input_dilation=2).reshape(-1)
    array([1, 20, 2, 30], dtype=float32)
    """
    where = "conv_general"
    if not isinstance(flip, bool):
        raise TypeError(f"[{where}] flip must be a bool, got {type(flip).__name__}.")
    lo, hi = _padding_pair(padding, where)
    return _convolve(where, input, weight, _ints(stride, where, "stride"), lo, hi,
                     _ints(kernel_dilation, where, "kernel_dilation"),
                     _ints(input_dilation, where, "input_dilation"), groups, flip, stream)


def _transpose(where, spatial, input, weight, stride, padding, dilation, output_padding,
               groups, stream):
    """The transposed convolution as a convolution: input dilated by `stride`, kernel
    flipped, padded by the kernel's span less `padding` (plus `output_padding` at the
    end)."""
    stride = _ints(stride, where, "stride", spatial)
    padding = _ints(padding, where, "padding", spatial)
    dilation = _ints(dilation, where, "dilation", spatial)
    output_padding = _ints(output_padding, where, "output_padding", spatial)
    groups = _int(groups, where, "groups")
    _check_operands(where, input, weight, groups, spatial)
    span = [dilated_size(weight.shape[1 + i], dilation[i]) for i in range(spatial)]
    lo = tuple(span[i] - 1 - padding[i] for i in range(spatial))
    hi = tuple(lo[i] + output_padding[i] for i in range(spatial))
    return _convolve(where, input, weight, (1,) * spatial, lo, hi, dilation, stride, groups,
                     True, stream, spatial)


def conv_transpose1d(input, weight, /, stride=1, padding=0, dilation=1, output_padding=0,
                     groups=1, *, stream=None):
    """1-D transposed convolution of ``(N, L, C_in)`` with ``(C_out, K, C_in)``: the
    gradient of `conv1d` with respect to its input, as a layer (upsampling by `stride`).

    >>> import mlxpy.core as mx
    >>> x = mx.array([1.0, 2.0]).reshape(1, 2, 1)
    >>> mx.conv_transpose1d(x, mx.array([1.0, 10.0]).reshape(1, 2, 1), stride=2).reshape(-1)
    array([1, 10, 2, 20], dtype=float32)
    """
    where = "conv_transpose1d"
    return _transpose(where, 1, input, weight, _int(stride, where, "stride"),
                      _int(padding, where, "padding"), _int(dilation, where, "dilation"),
                      _int(output_padding, where, "output_padding"), groups, stream)


def conv_transpose2d(input, weight, /, stride=1, padding=0, dilation=1, output_padding=0,
                     groups=1, *, stream=None):
    """2-D transposed convolution of ``(N, H, W, C_in)`` with ``(C_out, KH, KW, C_in)``.

    >>> import mlxpy.core as mx
    >>> y = mx.conv_transpose2d(mx.ones((1, 3, 3, 4)), mx.ones((2, 3, 3, 4)), stride=2,
    ...                         padding=1, output_padding=1)
    >>> y.shape
    (1, 6, 6, 2)
    """
    return _transpose("conv_transpose2d", 2, input, weight, stride, padding, dilation,
                      output_padding, groups, stream)


def conv_transpose3d(input, weight, /, stride=1, padding=0, dilation=1, output_padding=0,
                     groups=1, *, stream=None):
    """3-D transposed convolution of ``(N, D, H, W, C_in)`` with
    ``(C_out, KD, KH, KW, C_in)``.

    >>> import mlxpy.core as mx
    >>> mx.conv_transpose3d(mx.ones((1, 2, 2, 2, 1)), mx.ones((1, 2, 2, 2, 1)),
    ...                     stride=2).shape
    (1, 4, 4, 4, 1)
    """
    return _transpose("conv_transpose3d", 3, input, weight, stride, padding, dilation,
                      output_padding, groups, stream)
