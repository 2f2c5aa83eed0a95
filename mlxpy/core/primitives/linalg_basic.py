"""Matrix products: Matmul and AddMM.

Both follow ``xp.matmul``'s shape rules (1-D operands are vectors, leading dimensions
broadcast), so one node covers vector, matrix and batched products. float16 and
bfloat16 accumulate in float32 and round once, as MLX's CPU kernels do.
"""
import math

import mlxpy.core as mx

from .base import Primitive
from ._rules import apply, to_front, unbroadcast
from .. import dtypes as _dt

_HALF = (_dt.float16.np, _dt.bfloat16.np)


def _fmt(shape):
    return "(" + ",".join(str(d) for d in shape) + ")"


def check_inner(sa, sb, where):
    """Raise MLX's errors for operands that cannot multiply (batch dimensions aside)."""
    if not sa or not sb:
        raise ValueError(f"[{where}] Got 0 dimension input. Inputs must have at least one "
                         "dimension.")
    a2 = sa if len(sa) > 1 else (1,) + sa
    b2 = sb if len(sb) > 1 else sb + (1,)
    if a2[-1] != b2[-2]:
        raise ValueError(f"[{where}] Last dimension of first input with shape {_fmt(a2)} must "
                         f"match second to last dimension of second input with shape "
                         f"{_fmt(b2)}.")


def matmul_shape(sa, sb, where="matmul"):
    """The shape of ``a @ b`` for operand shapes `sa` and `sb`; ValueError when they clash."""
    check_inner(sa, sb, where)
    from ..ops._core import broadcast_shapes
    batch = broadcast_shapes(sa[:-2], sb[:-2]) if len(sa) > 2 or len(sb) > 2 else ()
    out = batch
    if len(sa) > 1:
        out = out + (sa[-2],)
    if len(sb) > 1:
        out = out + (sb[-1],)
    return out


# -- transform helpers ---------------------------------------------------------------------
# Derivatives treat a 1-D operand as the matrix it stands for (a row for `a`, a column
# for `b`), so one pair of formulas covers vectors, matrices and batches.

def _as_matrices(a, b, g):
    """`a`, `b` and the output cotangent `g` with 1-D operands promoted to 2-D."""
    if b.ndim == 1:
        b = mx.expand_dims(b, 1)
        g = mx.expand_dims(g, -1)
    if a.ndim == 1:
        a = mx.expand_dims(a, 0)
        g = mx.expand_dims(g, -2)
    return a, b, g


def _adjoint(x):
    """The conjugate transpose of the last two axes (the plain transpose for reals)."""
    if x.dtype.kind == "c":
        x = mx.conjugate(x)
    return mx.swapaxes(x, -1, -2)


def product_vjp(a, b, g, want_a, want_b):
    """Cotangents of `a` and `b` (None where not wanted) for ``a @ b`` given `g`.

    A matrix operand shared by a batch gets the batch's summed gradient; folding the
    batch into the contraction computes that sum with one matrix product, instead of
    a product per batch element followed by a sum over a possibly huge intermediate.
    """
    a2, b2, g2 = _as_matrices(a, b, g)
    batched = g2.ndim > 2
    da = db = None
    if want_a:
        if batched and a2.ndim == 2:
            # b's batch is the output's: sum_i g_i b_i^H = [g_1 .. g_P] [b_1 .. b_P]^H.
            columns = math.prod(g2.shape[:-2]) * g2.shape[-1]
            g_rows = mx.reshape(mx.moveaxis(g2, -2, 0), (g2.shape[-2], columns))
            b_rows = mx.reshape(mx.moveaxis(b2, -2, 0), (b2.shape[-2], columns))
            da = mx.matmul(g_rows, _adjoint(b_rows))
        else:
            da = unbroadcast(mx.matmul(g2, _adjoint(b2)), a2.shape)
        da = mx.reshape(da, a.shape)
    if want_b:
        if batched and b2.ndim == 2:
            # a's batch is the output's: stack every batch's rows into one matrix.
            rows = math.prod(g2.shape[:-1])
            a_rows = mx.reshape(a2, (rows, a2.shape[-1]))
            db = mx.matmul(_adjoint(a_rows), mx.reshape(g2, (rows, g2.shape[-1])))
        else:
            db = unbroadcast(mx.matmul(_adjoint(a2), g2), b2.shape)
        db = mx.reshape(db, b.shape)
    return da, db


def _direct_batching(a, ax_a, b, ax_b):
    """``(a, b, out_axis)`` when the plain product of (possibly rearranged) `a` and `b`
    already is the batched product, with its batch axis at `out_axis`; else None.

    A batched `a` against a matrix or vector `b` without batch dimensions: every axis
    of `a` but the last is a row axis, so the batch axis rides along wherever it is.
    Symmetrically for a batched `b` against a plain `a`, where every axis of `b` but
    the second to last is a column or batch axis.
    """
    if ax_b is None and b.ndim <= 2 and ax_a != a.ndim - 1:
        return a, b, ax_a
    if ax_a is None and a.ndim <= 2:
        if b.ndim == 2:  # a batch of vectors: the columns of one matrix
            if ax_b == 0:
                b = mx.swapaxes(b, 0, 1)
            return a, b, a.ndim - 1
        if ax_b < b.ndim - 2:
            return a, b, ax_b
    return None


def _example_shape(x, ax):
    return x.shape if ax is None else x.shape[:ax] + x.shape[ax + 1:]


def _pad_batched(x, ax, rank):
    """Batched `x` (batch axis first) with singleton axes after the batch axis so that
    its per-example rank is `rank`: matmul then broadcasts batch dimensions per example."""
    if ax is None or x.ndim - 1 >= rank:
        return x
    return mx.reshape(x, (x.shape[0],) + (1,) * (rank - x.ndim + 1) + x.shape[1:])


def _general_batching(a, ax_a, b, ax_b):
    """Operands batched at the front, 1-D ones promoted to matrices, ranks aligned.

    Returns ``(a, b, squeeze)``: the product of the returned operands has the batch
    axis first, and `squeeze` lists the axes to drop from it afterwards (the promoted
    vector dimensions).
    """
    rank_a = a.ndim - (ax_a is not None)
    rank_b = b.ndim - (ax_b is not None)
    a = to_front(a, ax_a)
    b = to_front(b, ax_b)
    squeeze = []
    if rank_a == 1:
        a = mx.expand_dims(a, -2)
        squeeze.append(-2)
    if rank_b == 1:
        b = mx.expand_dims(b, -1)
        squeeze.append(-1)
    rank = max(rank_a, rank_b, 2)
    return _pad_batched(a, ax_a, rank), _pad_batched(b, ax_b, rank), squeeze


class Matmul(Primitive):
    """``a @ b`` for two inputs of one inexact dtype."""
    __slots__ = ()

    def infer(self, inputs):
        a, b = inputs
        return matmul_shape(a.shape, b.shape), a.dtype

    def eval(self, xp, inputs):
        a, b = inputs
        dtype = a.dtype
        if dtype in _HALF:
            return xp.matmul(a.astype(xp.float32), b.astype(xp.float32)).astype(dtype)
        return xp.matmul(a, b)

    def vjp(self, primals, cotangents, argnums, outputs):
        a, b = primals
        da, db = product_vjp(a, b, cotangents[0], 0 in argnums, 1 in argnums)
        return [da if k == 0 else db for k in argnums]

    def jvp(self, primals, tangents, argnums):
        a, b = primals
        parts = [mx.matmul(t, b) if k == 0 else mx.matmul(a, t)
                 for k, t in zip(argnums, tangents)]
        return [parts[0] if len(parts) == 1 else mx.add(parts[0], parts[1])]

    def vmap(self, inputs, axes):
        a, b = inputs
        ax_a, ax_b = axes
        direct = _direct_batching(a, ax_a, b, ax_b)
        if direct is not None:
            a, b, out_axis = direct
            return [apply(self, [a, b])], [out_axis]
        a, b, squeeze = _general_batching(a, ax_a, b, ax_b)
        out = apply(self, [a, b])
        if squeeze:
            out = mx.squeeze(out, axis=squeeze)
        return [out], [0]


class AddMM(Primitive):
    """``alpha * (a @ b) + beta * c`` with BLAS's gemm semantics.

    One primitive rather than a composite because (1) half-precision inputs must round
    once, after the sum, to match MLX, and (2) as in gemm, a zero `alpha` skips the
    product and a zero `beta` skips `c`, so inf/nan there do not leak into the result.
    Inputs are (c, a, b), all of the output dtype; `c` broadcasts to the output shape.
    """
    __slots__ = ("alpha", "beta")

    def infer(self, inputs):
        c, a, b = inputs
        return matmul_shape(a.shape, b.shape, "addmm"), a.dtype

    def eval(self, xp, inputs):
        c, a, b = inputs
        dtype = a.dtype
        if dtype in _HALF:
            c, a, b = c.astype(xp.float32), a.astype(xp.float32), b.astype(xp.float32)
        alpha, beta = self.alpha, self.beta
        if alpha != 0:
            out = xp.matmul(a, b)
            if out.ndim == 0:
                out = xp.asarray(out)
            if alpha != 1:
                out *= alpha
        else:
            out = xp.zeros(matmul_shape(a.shape, b.shape, "addmm"), dtype=a.dtype)
        if beta != 0:
            out += c if beta == 1 else c * beta
        return out.astype(dtype) if out.dtype != dtype else out

    # Derivatives scale the cotangent before the products, as MLX does, so a zero alpha
    # still lets nan/inf of the other operand through (0 * g, then the product).
    def vjp(self, primals, cotangents, argnums, outputs):
        c, a, b = primals
        g = cotangents[0]
        da = db = None
        if 1 in argnums or 2 in argnums:
            scaled = g if self.alpha == 1 else mx.multiply(g, self.alpha)
            da, db = product_vjp(a, b, scaled, 1 in argnums, 2 in argnums)
        grads = []
        for k in argnums:
            if k == 0:
                gc = g if self.beta == 1 else mx.multiply(g, self.beta)
                grads.append(unbroadcast(gc, c.shape))
            else:
                grads.append(da if k == 1 else db)
        return grads

    def jvp(self, primals, tangents, argnums):
        c, a, b = primals
        product = c_part = None
        for k, t in zip(argnums, tangents):
            if k == 0:
                c_part = t if self.beta == 1 else mx.multiply(t, self.beta)
                continue
            term = mx.matmul(t, b) if k == 1 else mx.matmul(a, t)
            product = term if product is None else mx.add(product, term)
        if product is not None and self.alpha != 1:
            product = mx.multiply(product, self.alpha)
        if product is None:
            out = c_part
        else:
            out = product if c_part is None else mx.add(product, c_part)
        shape = matmul_shape(a.shape, b.shape, "addmm")
        return [out if out.shape == shape else mx.broadcast_to(out, shape)]

    def vmap(self, inputs, axes):
        c, a, b = inputs
        ax_c, ax_a, ax_b = axes
        if ax_c is None:
            direct = _direct_batching(a, ax_a, b, ax_b)
            if direct is not None:
                a, b, out_axis = direct
                # c broadcasts from the right: it must not reach the batch axis.
                if c.ndim < len(matmul_shape(a.shape, b.shape)) - out_axis:
                    return [apply(self, [c, a, b])], [out_axis]
                a, b = inputs[1:]
        if ax_a is None and ax_b is None:
            # Only c is batched, but the output shape is the product's: batch a (a view).
            a = mx.broadcast_to(mx.expand_dims(a, 0), (c.shape[ax_c],) + a.shape)
            ax_a = 0
        out_rank = len(matmul_shape(_example_shape(a, ax_a), _example_shape(b, ax_b)))
        a, b, squeeze = _general_batching(a, ax_a, b, ax_b)
        c = to_front(c, ax_c)
        if squeeze:
            # c lines up with the output before the vector dimensions are promoted.
            if ax_c is not None:
                c = _pad_batched(c, ax_c, out_rank)
            elif c.ndim < out_rank:
                c = mx.reshape(c, (1,) * (out_rank - c.ndim) + c.shape)
            c = mx.expand_dims(c, squeeze)
        else:
            c = _pad_batched(c, ax_c, out_rank)
        out = apply(self, [c, a, b])
        if squeeze:
            out = mx.squeeze(out, axis=squeeze)
        return [out], [0]
