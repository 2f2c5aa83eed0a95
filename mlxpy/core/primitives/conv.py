"""Convolution: the one primitive behind conv1d/2d/3d, conv_general and conv_transpose*.

Layouts are MLX's: input ``(N, *spatial, C)``, weight ``(O, *kernel, C / groups)``,
output ``(N, *out, O)``. Per spatial axis the input is first dilated (``input_dilation``
- 1 zeros between neighbours), then padded by ``padding_lo``/``padding_hi`` (negative
values crop), and the kernel, spread by ``kernel_dilation``, slides over it with
``stride``. ``flip`` reverses the kernel's spatial axes (convolution rather than
cross-correlation). Output channel ``o`` sees input channel group ``o // (O / groups)``.

Evaluation is an im2col: a strided window view of the prepared input, copied a block
at a time into a patch matrix and multiplied with the weight matrix (one BLAS call per
block), so memory stays bounded on large batches. Two layouts take other routes:
stride-1 convolutions whose output is much larger than their input (padding, input
dilation: the input-gradient rule, transposed convolutions) or that have few output
channels multiply each input element by every kernel tap and add the products where
they land; operands that are views with batch and channel axes swapped (what the
weight-gradient rule builds) are contracted over the arrays they view, read in order.
float16/bfloat16 accumulate in float32 and round once, as MLX's CPU kernels do.

The rules are convolutions themselves: the input's cotangent convolves the cotangent
with the kernel flipped and its channel axes swapped, the stride turning into input
dilation; the weight's cotangent convolves the input with the cotangent, batch and
channel axes swapped, the stride turning into kernel dilation. Batching folds the batch
into N (input batched) or into output channels (weight batched), and into groups when
both are.
"""
import itertools
import math

import mlxpy.core as mx

from .base import Primitive
from ._rules import apply, to_front
from .. import dtypes as _dt

_HALF = (_dt.float16.np, _dt.bfloat16.np)

# Patch-matrix block size, in elements: small enough to stay in cache on the host, large
# enough that each block is one efficient matrix product on a GPU.
_BLOCK_ELEMENTS = {"numpy": 1 << 20, "cupy": 1 << 26}
# Scattering products wins over gathering patches when its estimated cost is below this
# fraction of the other's; _MOVE_COST is the cost of moving one element, in
# multiply-adds (both read off timings of typical CNN layers on two cores).
_SCATTER_BELOW = 0.9
_MOVE_COST = 8
# Fewest patch rows per block (when the budget allows fewer): below this a matrix
# product runs far from peak.
_MIN_ROWS = 256


def dilated_size(size, dilation):
    """The length of `size` elements with `dilation` - 1 gaps between neighbours."""
    return (size - 1) * dilation + 1 if size > 0 else 0


def output_size(size, kernel, stride, lo, hi, kernel_dilation, input_dilation):
    """The output length of one spatial axis (< 1 when the kernel does not fit).

    As in MLX, the division truncates toward zero: a kernel overhanging the padded
    input by less than one stride still gives one output, the overhang reading zeros.
    """
    span = dilated_size(size, input_dilation) + lo + hi - ((kernel - 1) * kernel_dilation + 1)
    return (span // stride if span >= 0 else -(-span // stride)) + 1


def _channels_outermost(a):
    """Whether `a` views an array whose first and last axes are swapped: its channel
    axis has the largest stride."""
    return a.ndim > 2 and a.strides[-1] > a.strides[0] and a.strides[-1] == max(a.strides)


def _prefer_scatter(inputs, outputs, c, o):
    """Whether a stride-1 convolution with `inputs` input and `outputs` output positions
    (per example), `c` input and `o` output channels costs less scattered: per kernel
    tap, gathering copies outputs * c elements and multiplies them by o; scattering
    multiplies inputs * c by o and adds inputs * o products in place."""
    gather = outputs * c * (o + _MOVE_COST)
    scatter = inputs * o * (c + 3 * _MOVE_COST)
    return scatter < _SCATTER_BELOW * gather


def _block_sizes(xp, n, positions, kernel_rows, depth):
    """(examples, kernel rows) per patch block: about the array module's block budget,
    with at least _MIN_ROWS patch rows where the batch allows, in even blocks."""
    budget = _BLOCK_ELEMENTS.get(getattr(xp, "name", "numpy"), _BLOCK_ELEMENTS["numpy"])
    n_block = max(1, min(n, budget // (positions * depth)))
    if n_block * positions < _MIN_ROWS:
        n_block = min(n, -(-_MIN_ROWS // positions))
    n_block = -(-n // -(-n // n_block))
    per_kernel_row = n_block * positions * (depth // kernel_rows)
    k_block = max(1, min(kernel_rows, budget // max(1, per_kernel_row)))
    return n_block, k_block


class Convolution(Primitive):
    """A grouped, strided, dilated, padded N-d convolution of ``(input, weight)``."""
    __slots__ = ("stride", "padding_lo", "padding_hi", "kernel_dilation", "input_dilation",
                 "groups", "flip")

    def infer(self, inputs):
        x, w = inputs
        spatial = tuple(
            output_size(x.shape[1 + i], w.shape[1 + i], self.stride[i], self.padding_lo[i],
                        self.padding_hi[i], self.kernel_dilation[i], self.input_dilation[i])
            for i in range(len(self.stride)))
        return (x.shape[0],) + spatial + (w.shape[0],), x.dtype

    # -- evaluation ---------------------------------------------------------------------

    def _prepared(self, xp, x, hi):
        """The input dilated and padded (or cropped) along its spatial axes."""
        lo, dil = self.padding_lo, self.input_dilation
        spatial = range(x.ndim - 2)
        if all(dil[i] == 1 and lo[i] <= 0 and hi[i] <= 0 for i in spatial):
            # Crop only. The windows are gathered along the channel axis, so a transposed
            # input (the rules' swapped axes) is copied to row-major order first.
            return xp.ascontiguousarray(x[(slice(None),) + tuple(
                slice(-lo[i], x.shape[1 + i] + hi[i]) for i in spatial)])
        sizes = [max(0, dilated_size(x.shape[1 + i], dil[i]) + lo[i] + hi[i])
                 for i in spatial]
        buf = xp.zeros((x.shape[0], *sizes, x.shape[-1]), dtype=x.dtype)
        src, dst = [slice(None)], [slice(None)]
        for i in spatial:
            # Element j of the input lands at lo + j * dil; keep those inside the buffer.
            first = -(-max(0, -lo[i]) // dil[i])
            last = min(x.shape[1 + i], (sizes[i] - 1 - lo[i]) // dil[i] + 1)
            if last <= first:
                return buf
            src.append(slice(first, last))
            dst.append(slice(lo[i] + first * dil[i], lo[i] + (last - 1) * dil[i] + 1, dil[i]))
        buf[tuple(dst)] = x[tuple(src)]
        return buf

    def eval(self, xp, inputs):
        x, w = inputs
        dtype = x.dtype
        if dtype in _HALF:
            x, w = x.astype(xp.float32), w.astype(xp.float32)
        nd = x.ndim - 2
        kernel = w.shape[1:-1]
        out_sp = self.infer([x, w])[0][1:-1]
        # The high padding the windows need: more than asked where the last window
        # overhangs (see output_size).
        hi = tuple(max(self.padding_hi[i],
                       (out_sp[i] - 1) * self.stride[i] + (kernel[i] - 1) * self.kernel_dilation[i]
                       + 1 - dilated_size(x.shape[1 + i], self.input_dilation[i])
                       - self.padding_lo[i]) for i in range(nd))
        if x.shape[0] * math.prod(out_sp) * w.shape[0] == 0 or w.size == 0:
            return xp.zeros((x.shape[0], *out_sp, w.shape[0]), dtype=dtype)
        if self.flip:
            w = w[(slice(None),) + (slice(None, None, -1),) * nd]
        if self.groups == 1 and _channels_outermost(x) and _channels_outermost(w):
            out = self._eval_swapped(xp, x, w, out_sp, hi)
        elif self.groups == 1 and all(v == 1 for v in self.stride) and _prefer_scatter(
                math.prod(x.shape[1:-1]), math.prod(out_sp), x.shape[-1], w.shape[0]):
            out = self._eval_scatter(xp, x, w, out_sp)
        else:
            out = self._eval_im2col(xp, x, w, out_sp, hi)
        return out.astype(dtype, copy=False)

    def _windows(self, xp, xb, kernel, out_sp, kernel_first=False, groups=1):
        """A strided view of the prepared input `xb`: (N, *out, *kernel, groups, C /
        groups), or (N, *kernel, *out, groups, C / groups) with `kernel_first`, where
        element [n, *p, *k, g, c] is xb[n, *(p * stride + k * kernel_dilation), g, c]."""
        nd = len(out_sp)
        st = xb.strides
        by_out = [st[1 + i] * self.stride[i] for i in range(nd)]
        by_kernel = [st[1 + i] * self.kernel_dilation[i] for i in range(nd)]
        middle = [*kernel, *out_sp] if kernel_first else [*out_sp, *kernel]
        middle_strides = by_kernel + by_out if kernel_first else by_out + by_kernel
        cg = xb.shape[-1] // groups
        return xp.lib.stride_tricks.as_strided(
            xb, (xb.shape[0], *middle, groups, cg),
            (st[0], *middle_strides, st[-1] * cg, st[-1]))

    def _eval_im2col(self, xp, x, w, out_sp, hi):
        """Patches (example and output position by kernel tap and channel) times the
        weight matrix, a block of examples and kernel rows at a time."""
        nd = x.ndim - 2
        groups = self.groups
        n, c, o = x.shape[0], x.shape[-1], w.shape[0]
        kernel = w.shape[1:-1]
        cg, og = c // groups, o // groups
        positions = math.prod(out_sp)
        windows = self._windows(xp, self._prepared(xp, x, hi), kernel, out_sp, groups=groups)
        # The weight as (groups, kernel[0], rest of the contraction, og), contiguous so
        # that every block of kernel rows is a plain matrix.
        w_mat = xp.ascontiguousarray(
            w.reshape(groups, og, kernel[0], -1).transpose(0, 2, 3, 1))
        n_block, k_block = _block_sizes(xp, n, positions, kernel[0], math.prod(kernel) * c)
        out = xp.empty((n * positions, o) if groups == 1 else (n * positions, groups, og),
                       dtype=x.dtype)
        # Window axes in (group, example, *out, *kernel, channel) order, for grouped copies.
        order = (1 + 2 * nd, 0, *range(1, 1 + 2 * nd), 2 + 2 * nd)
        for n0 in range(0, n, n_block):
            n1 = min(n, n0 + n_block)
            rows = slice(n0 * positions, n1 * positions)
            m = (n1 - n0) * positions
            for k0 in range(0, kernel[0], k_block):
                k1 = min(kernel[0], k0 + k_block)
                block = windows[(slice(n0, n1),) + (slice(None),) * nd + (slice(k0, k1),)]
                if groups == 1:
                    patches = block.reshape(m, -1)
                    w_block = w_mat[0, k0:k1].reshape(-1, og)
                    if k0 == 0:
                        xp.matmul(patches, w_block, out=out[rows])
                    else:
                        out[rows] += xp.matmul(patches, w_block)
                    continue
                patches = block.transpose(order).reshape(groups, m, -1)
                part = xp.matmul(patches, w_mat[:, k0:k1].reshape(groups, -1, og))
                if k0 == 0:
                    out[rows] = part.transpose(1, 0, 2)
                else:
                    out[rows] += part.transpose(1, 0, 2)
        return out.reshape(n, *out_sp, o)

    def _eval_scatter(self, xp, x, w, out_sp):
        """Each input element times every kernel tap, added where that tap lands: for
        stride 1, when padding and input dilation make the output larger than the input
        (the input-gradient rule, transposed convolutions), this multiplies no zeros."""
        nd = x.ndim - 2
        kernel = w.shape[1:-1]
        n, c, o = x.shape[0], x.shape[-1], w.shape[0]
        sizes = x.shape[1:-1]
        taps = math.prod(kernel)
        # (C, *kernel, O) as one matrix: every tap's weights side by side.
        w_cat = xp.ascontiguousarray(w.transpose(nd + 1, *range(1, nd + 1), 0)).reshape(
            c, taps * o)
        budget = _BLOCK_ELEMENTS.get(getattr(xp, "name", "numpy"), _BLOCK_ELEMENTS["numpy"])
        n_block = max(1, min(n, budget // max(1, math.prod(sizes) * taps * o)))
        out = xp.zeros((n, *out_sp, o), dtype=x.dtype)
        placements = []
        for tap in itertools.product(*(range(k) for k in kernel)):
            src, dst = [], []
            for i in range(nd):
                # Input j lands at lo + j * dilation - tap * kernel_dilation in the output.
                step = self.input_dilation[i]
                shift = self.padding_lo[i] - tap[i] * self.kernel_dilation[i]
                first = max(0, -(-(-shift) // step))
                last = min(sizes[i], (out_sp[i] - 1 - shift) // step + 1)
                if last <= first:
                    break
                src.append(slice(first, last))
                dst.append(slice(shift + first * step, shift + (last - 1) * step + 1, step))
            else:
                placements.append((tap, tuple(src), tuple(dst)))
        for n0 in range(0, n, n_block):
            n1 = min(n, n0 + n_block)
            products = xp.matmul(x[n0:n1].reshape(-1, c), w_cat).reshape(
                (n1 - n0, *sizes, *kernel, o))
            for tap, src, dst in placements:
                out[(slice(n0, n1),) + dst] += products[(slice(None),) + src + tap]
        return out

    def _eval_swapped(self, xp, x, w, out_sp, hi):
        """The same product for operands whose batch and channel axes are swapped views
        (the weight-gradient rule makes them): contracting over their batch axis, which
        is the channel axis of the arrays they view, reads those arrays in order instead
        of gathering them."""
        nd = x.ndim - 2
        kernel = w.shape[1:-1]
        n, b, o = x.shape[-1], x.shape[0], w.shape[0]
        taps, positions = math.prod(kernel), math.prod(out_sp)
        # The viewed arrays: x0 (n, *spatial, b) and w0 (n, *kernel, o).
        x0 = self._prepared(xp, x.swapaxes(0, -1), hi)
        w_rows = xp.ascontiguousarray(w.swapaxes(0, -1)).reshape(n * taps, o)
        windows = self._windows(xp, x0, kernel, out_sp, kernel_first=True)
        budget = _BLOCK_ELEMENTS.get(getattr(xp, "name", "numpy"), _BLOCK_ELEMENTS["numpy"])
        n_block = max(1, min(n, budget // (taps * positions * b)))
        out = None
        for n0 in range(0, n, n_block):
            n1 = min(n, n0 + n_block)
            patches = windows[n0:n1].reshape((n1 - n0) * taps, positions * b)
            part = xp.matmul(patches.T, w_rows[n0 * taps:n1 * taps])
            if out is None:
                out = part
            else:
                out += part
        # (*out, b, o) -> (b, *out, o)
        return out.reshape(*out_sp, b, o).transpose(nd, *range(nd), nd + 1)

    # -- transform rules ----------------------------------------------------------------

    def vjp(self, primals, cotangents, argnums, outputs):
        x, w = primals
        cot = cotangents[0]
        return [self._input_cotangent(x, w, cot) if k == 0 else
                self._weight_cotangent(x, w, cot) for k in argnums]

    def _input_cotangent(self, x, w, cot):
        """Input element j feeds output p through kernel tap k where
        p * stride + k * kernel_dilation = lo + j * input_dilation: a convolution of the
        stride-dilated cotangent with the reversed kernel, stepping by input_dilation."""
        nd = x.ndim - 2
        g = self.groups
        lo, hi = [], []
        for i in range(nd):
            span = (w.shape[1 + i] - 1) * self.kernel_dilation[i] + 1
            lo.append(span - 1 - self.padding_lo[i])
            hi.append(dilated_size(x.shape[1 + i], self.input_dilation[i])
                      - dilated_size(cot.shape[1 + i], self.stride[i]) + self.padding_lo[i])
        # Swap the weight's channel roles within each group: (O, *k, cg) -> (C, *k, og).
        o, cg = w.shape[0], w.shape[-1]
        grouped = mx.reshape(w, (g, o // g) + w.shape[1:])
        w_t = mx.reshape(mx.swapaxes(grouped, 1, -1), (g * cg,) + w.shape[1:-1] + (o // g,))
        return convolution(cot, w_t, self.input_dilation, lo, hi, self.kernel_dilation,
                           self.stride, g, not self.flip)

    def _weight_cotangent(self, x, w, cot):
        """dW[o, k, c] = sum over n, p of input[n, p * stride + k * kernel_dilation, c]
        times cot[n, p, o]: a convolution whose batch is the input's channels, whose
        channels are the batch, and whose kernel is the cotangent (dilated by stride)."""
        nd = x.ndim - 2
        g = self.groups
        n, c = x.shape[0], x.shape[-1]
        cg = c // g
        hi = [(w.shape[1 + i] - 1) * self.kernel_dilation[i]
              + dilated_size(cot.shape[1 + i], self.stride[i])
              - dilated_size(x.shape[1 + i], self.input_dilation[i]) - self.padding_lo[i]
              for i in range(nd)]
        if g == 1:
            x_t = mx.swapaxes(x, 0, -1)
        else:
            # (N, *s, g, cg) -> (cg, *s, g, N): group-major channels for `groups`.
            x_t = mx.reshape(x, (n,) + x.shape[1:-1] + (g, cg))
            x_t = mx.transpose(x_t, (nd + 2,) + tuple(range(1, nd + 1)) + (nd + 1, 0))
            x_t = mx.reshape(x_t, (cg,) + x.shape[1:-1] + (g * n,))
        cot_t = mx.swapaxes(cot, 0, -1)
        grad = convolution(x_t, cot_t, self.kernel_dilation, self.padding_lo, hi, self.stride,
                           self.input_dilation, g, False)
        grad = mx.swapaxes(grad, 0, -1)
        if self.flip:
            grad = grad[(slice(None),) + (slice(None, None, -1),) * nd]
        return grad

    def jvp(self, primals, tangents, argnums):
        x, w = primals
        parts = [apply(self, [t, w]) if k == 0 else apply(self, [x, t])
                 for k, t in zip(argnums, tangents)]
        return [parts[0] if len(parts) == 1 else mx.add(parts[0], parts[1])]

    def vmap(self, inputs, axes):
        x, w = inputs
        ax_x, ax_w = axes
        g = self.groups
        if ax_w is None:
            # Batch folds into N.
            x = to_front(x, ax_x)
            b = x.shape[0]
            out = apply(self, [mx.reshape(x, (b * x.shape[1],) + x.shape[2:]), w])
            return [mx.reshape(out, (b, x.shape[1]) + out.shape[1:])], [0]
        w = to_front(w, ax_w)
        b, o = w.shape[0], w.shape[1]
        if ax_x is None:
            # Batch folds into output channels, kept inside each group: (g, b, o / g).
            w_g = mx.reshape(w, (b, g, o // g) + w.shape[2:])
            w_g = mx.reshape(mx.swapaxes(w_g, 0, 1), (g * b * (o // g),) + w.shape[2:])
            out = apply(self, [x, w_g])
            out = mx.reshape(out, out.shape[:-1] + (g, b, o // g))
            out = mx.moveaxis(out, -2, 0)
            return [mx.reshape(out, out.shape[:-2] + (o,))], [0]
        # Both batched: each example is its own set of groups.
        x = mx.moveaxis(to_front(x, ax_x), 0, -2)
        x = mx.reshape(x, x.shape[:-2] + (b * x.shape[-1],))
        w_b = mx.reshape(w, (b * o,) + w.shape[2:])
        prim = Convolution(self.stride, self.padding_lo, self.padding_hi,
                           self.kernel_dilation, self.input_dilation, g * b, self.flip)
        out = apply(prim, [x, w_b])
        out = mx.reshape(out, out.shape[:-1] + (b, o))
        return [mx.moveaxis(out, -2, 0)], [0]


def convolution(x, w, stride, padding_lo, padding_hi, kernel_dilation, input_dilation,
                groups, flip):
    """A Convolution node on arrays `x` and `w` (parameters unchecked: callers validate)."""
    prim = Convolution(tuple(int(v) for v in stride), tuple(int(v) for v in padding_lo),
                       tuple(int(v) for v in padding_hi),
                       tuple(int(v) for v in kernel_dilation),
                       tuple(int(v) for v in input_dilation), int(groups), bool(flip))
    return apply(prim, [x, w])
