"""Reduction and scan primitives.

Reductions carry `keepdims`, so one node gives MLX's result shape either way and
no reshape node is needed after it. Arg-reductions and scans take `axis=None` to
mean "over the flattened input" (a 0-d or 1-D result), which saves the op a
flatten node.
"""
import mlxpy.core as mx
from ._rules import apply, to_front
from .base import Primitive
from .. import dtypes as _dt

# Sum and product accumulate small integer types in 32 bits, as MLX does.
_ACCUMULATE = {_dt.bool_: _dt.int32, _dt.int8: _dt.int32, _dt.int16: _dt.int32,
               _dt.uint8: _dt.uint32, _dt.uint16: _dt.uint32}
# The same table keyed by the backend dtype, for eval.
_ACCUMULATE_NP = {k.np: v.np for k, v in _ACCUMULATE.items()}
# Half-precision sums and products accumulate in float32 (MLX does; it also keeps
# bfloat16 sums from stalling).
_HALF_NP = (_dt.float16.np, _dt.bfloat16.np)
_FLOAT32_NP = _dt.float32.np
_UINT32_NP = _dt.uint32.np
_INF = float("inf")


def reduced_shape(shape, axes, keepdims):
    """`shape` with `axes` (sorted, non-negative) removed, or set to 1 with keepdims."""
    if len(axes) == len(shape):
        return (1,) * len(shape) if keepdims else ()
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _inverse(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return inv


def _merge_reduced(x, axes):
    """`x` with `axes` moved last and merged into one axis, and the permutation used
    (None when the axes already were last)."""
    kept = [i for i in range(x.ndim) if i not in axes]
    perm = kept + list(axes)
    if perm == list(range(x.ndim)):
        perm = None
    else:
        x = mx.transpose(x, perm)
    lead = x.shape[:len(kept)]
    return mx.reshape(x, lead + (_size(x.shape[len(kept):]),)), perm


def _others_product(x, axes):
    """For each element, the product of the other elements of its reduction group.

    Two exclusive cumulative products (from either end) give it without dividing, so
    one zero in a group still gets the product of the rest, as in MLX.
    """
    if len(axes) == 1:
        a = axes[0]
        return mx.multiply(mx.cumprod(x, a, inclusive=False),
                           mx.cumprod(x, a, reverse=True, inclusive=False))
    merged, perm = _merge_reduced(x, axes)
    p = _others_product(merged, (merged.ndim - 1,))
    if perm is None:
        return mx.reshape(p, x.shape)
    p = mx.reshape(p, tuple(x.shape[i] for i in perm))
    return mx.transpose(p, _inverse(perm))


def flatten_batched(x, ax):
    """`x` with its batch axis first and every other axis merged into one, for rules
    whose `axis=None` flattens: the batch axis must not be flattened with the rest."""
    x = to_front(x, ax)
    return mx.reshape(x, (x.shape[0], _size(x.shape[1:])))


class Reduce(Primitive):
    """A reduction over `axes` (a sorted tuple of distinct non-negative ints)."""
    __slots__ = ("axes", "keepdims")
    abstract = True

    def __init__(self, axes, keepdims=False):
        self.axes = axes
        self.keepdims = keepdims

    def params(self):
        return (self.axes, self.keepdims)

    def infer(self, inputs):
        n = inputs[0]
        return reduced_shape(n.shape, self.axes, self.keepdims), n.dtype

    def _kept(self, y, shape):
        """`y` (shaped like the output) with the reduced axes as size-1 axes, so that it
        broadcasts against the input of `shape`."""
        if self.keepdims:
            return y
        return mx.reshape(y, reduced_shape(shape, self.axes, True))

    def vmap(self, inputs, axes):
        b = axes[0]
        moved = tuple(a + (a >= b) for a in self.axes)
        out_axis = b if self.keepdims else b - sum(a < b for a in self.axes)
        return [apply(type(self)(moved, self.keepdims), inputs)], [out_axis]


class _Accumulating(Reduce):
    __slots__ = ()
    abstract = True
    func = ""

    def infer(self, inputs):
        n = inputs[0]
        return (reduced_shape(n.shape, self.axes, self.keepdims),
                _ACCUMULATE.get(n.dtype, n.dtype))

    def eval(self, xp, inputs):
        x = inputs[0]
        fn = getattr(xp, self.func)
        dt = x.dtype
        if dt in _HALF_NP:
            return fn(x, axis=self.axes, dtype=_FLOAT32_NP, keepdims=self.keepdims).astype(dt)
        return fn(x, axis=self.axes, dtype=_ACCUMULATE_NP.get(dt, dt), keepdims=self.keepdims)


class Sum(_Accumulating):
    __slots__ = ()
    func = "sum"

    def vjp(self, primals, cotangents, argnums, outputs):
        x = primals[0]
        return [mx.broadcast_to(self._kept(cotangents[0], x.shape), x.shape)]

    def jvp(self, primals, tangents, argnums):
        return [apply(self, tangents)]


class Prod(_Accumulating):
    """Derivatives use the product of the other elements of each group (no division),
    so zeros give MLX's exact gradients: one zero gets the product of the rest and
    every other element 0; two zeros give 0 everywhere."""
    __slots__ = ()
    func = "prod"

    def vjp(self, primals, cotangents, argnums, outputs):
        x = primals[0]
        if x.dtype.kind == "c":
            # d prod / dx has real coefficients: conj(f'(x)) = f'(conj(x)).
            x = mx.conjugate(x)
        others = _others_product(x, self.axes)
        return [mx.multiply(others, self._kept(cotangents[0], x.shape))]

    def jvp(self, primals, tangents, argnums):
        others = _others_product(primals[0], self.axes)
        return [mx.sum(mx.multiply(others, tangents[0]), axis=self.axes,
                       keepdims=self.keepdims)]


class _Extremum(Reduce):
    """vjp: MLX splits the cotangent equally among tied extrema (NaN anywhere in a
    group makes its gradient NaN, since NaN equals nothing). jvp: MLX takes the
    tangent at the first extremum (argmax/argmin), so the two differ at ties."""
    __slots__ = ()
    abstract = True
    arg = ""

    def vjp(self, primals, cotangents, argnums, outputs):
        x = primals[0]
        mask = mx.equal(x, self._kept(outputs[0], x.shape))
        count = mx.sum(mask, axis=self.axes, keepdims=True)
        return [mx.multiply(mx.divide(self._kept(cotangents[0], x.shape), count), mask)]

    def jvp(self, primals, tangents, argnums):
        x, t = primals[0], tangents[0]
        pick = getattr(mx, self.arg)
        if len(self.axes) == 1:
            a = self.axes[0]
            out = mx.take_along_axis(t, pick(x, a, keepdims=True), a)
        else:
            # MLX flattens the reduced axes (in order) and takes the first extremum.
            x, _ = _merge_reduced(x, self.axes)
            t, _ = _merge_reduced(t, self.axes)
            out = mx.take_along_axis(t, pick(x, -1, keepdims=True), -1)
        shape = reduced_shape(primals[0].shape, self.axes, self.keepdims)
        return [out if out.shape == shape else mx.reshape(out, shape)]


class Max(_Extremum):
    """NaN propagates; complex numbers compare lexicographically (real, then imaginary)."""
    __slots__ = ()
    arg = "argmax"

    def eval(self, xp, inputs):
        return xp.max(inputs[0], axis=self.axes, keepdims=self.keepdims)


class Min(_Extremum):
    __slots__ = ()
    arg = "argmin"

    def eval(self, xp, inputs):
        return xp.min(inputs[0], axis=self.axes, keepdims=self.keepdims)


class All(Reduce):
    """Boolean-valued, so its derivatives are zeros (MLX's rules treat it like a sum;
    see docs/differences.md)."""
    __slots__ = ()

    def infer(self, inputs):
        n = inputs[0]
        return reduced_shape(n.shape, self.axes, self.keepdims), _dt.bool_

    def eval(self, xp, inputs):
        return xp.all(inputs[0], axis=self.axes, keepdims=self.keepdims)

    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.zeros_like(primals[0])]

    def jvp(self, primals, tangents, argnums):
        shape = reduced_shape(primals[0].shape, self.axes, self.keepdims)
        return [mx.zeros(shape, dtype=tangents[0].dtype)]


class Any(All):
    __slots__ = ()

    def eval(self, xp, inputs):
        return xp.any(inputs[0], axis=self.axes, keepdims=self.keepdims)


class ArgReduce(Primitive):
    """Index (uint32) of the extreme value along `axis`; ties and NaNs: the first one."""
    __slots__ = ("axis", "keepdims")
    abstract = True
    func = ""

    def __init__(self, axis, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def params(self):
        return (self.axis, self.keepdims)

    def infer(self, inputs):
        shape = inputs[0].shape
        if self.axis is None:
            return ((1,) * len(shape) if self.keepdims else ()), _dt.uint32
        return reduced_shape(shape, (self.axis,), self.keepdims), _dt.uint32

    def eval(self, xp, inputs):
        x = inputs[0]
        if x.dtype == _dt.bfloat16.np:
            x = x.astype(_FLOAT32_NP)
        keepdims = self.keepdims and x.ndim > 0
        out = getattr(xp, self.func)(x, axis=self.axis, keepdims=keepdims)
        return out.astype(_UINT32_NP)

    # An index has no derivative: zeros of the input (vjp) and of the uint32 output
    # (jvp), with MLX's dtypes.
    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.zeros_like(primals[0])]

    def jvp(self, primals, tangents, argnums):
        return [mx.zeros(self.infer([primals[0]._node])[0], dtype=mx.uint32)]

    def vmap(self, inputs, axes):
        x, b = inputs[0], axes[0]
        if self.axis is None:
            out = apply(type(self)(1, False), [flatten_batched(x, b)])
            if self.keepdims:
                out = mx.reshape(out, out.shape + (1,) * (x.ndim - 1))
            return [out], [0]
        a = self.axis + (b <= self.axis)
        return [apply(type(self)(a, self.keepdims), [x])], [b - (not self.keepdims and a < b)]


class ArgMax(ArgReduce):
    __slots__ = ()
    func = "argmax"


class ArgMin(ArgReduce):
    __slots__ = ()
    func = "argmin"


class Scan(Primitive):
    """A cumulative reduction along `axis` (None: the flattened input).

    `reverse` scans from the end; `inclusive=False` shifts the result by one so that
    element i combines only the elements before it, starting from the identity.
    """
    # float16 scans accumulate in float16 one element at a time, as on the CPU; a
    # parallel GPU scan rounds differently.
    host_dtypes = (_dt.float16,)
    __slots__ = ("axis", "reverse", "inclusive")
    abstract = True

    def __init__(self, axis, reverse=False, inclusive=True):
        self.axis = axis
        self.reverse = reverse
        self.inclusive = inclusive

    def params(self):
        return (self.axis, self.reverse, self.inclusive)

    def infer(self, inputs):
        n = inputs[0]
        shape = n.shape
        if self.axis is None:
            size = 1
            for d in shape:
                size *= d
            shape = (size,)
        return shape, n.dtype

    def eval(self, xp, inputs):
        x = inputs[0]
        axis = self.axis
        if axis is None:
            x = x.reshape(-1)
            axis = 0
        if self.reverse:
            x = xp.flip(x, axis)
        y = self.scan(xp, x, axis)
        if not self.inclusive:
            y = _shift_in(xp, y, axis, self.identity(xp, y.dtype))
        if self.reverse:
            y = xp.flip(y, axis)
        return y

    def scan(self, xp, x, axis):
        raise NotImplementedError

    def identity(self, xp, dtype):
        raise NotImplementedError

    # Rules see a real axis: with axis=None they work on the flattened input (the
    # output already is flat) and reshape the input's gradient back.
    def vjp(self, primals, cotangents, argnums, outputs):
        x = primals[0]
        if self.axis is not None:
            return [self.scan_vjp(x, cotangents[0], outputs[0], self.axis)]
        g = self.scan_vjp(mx.reshape(x, (x.size,)), cotangents[0], outputs[0], 0)
        return [mx.reshape(g, x.shape)]

    def jvp(self, primals, tangents, argnums):
        x, t = primals[0], tangents[0]
        if self.axis is None:
            return [self.scan_jvp(mx.reshape(x, (x.size,)), mx.reshape(t, (t.size,)), 0)]
        return [self.scan_jvp(x, t, self.axis)]

    def scan_vjp(self, x, g, out, axis):
        raise NotImplementedError

    def scan_jvp(self, x, t, axis):
        raise NotImplementedError

    def along(self, axis, inclusive=None):
        """This scan along `axis` (inclusive or not)."""
        return type(self)(axis, self.reverse, self.inclusive if inclusive is None else inclusive)

    def vmap(self, inputs, axes):
        x, b = inputs[0], axes[0]
        if self.axis is None:
            return [apply(self.along(1), [flatten_batched(x, b)])], [0]
        return [apply(self.along(self.axis + (b <= self.axis)), [x])], [b]


def _shift_in(xp, y, axis, first):
    """`y` moved one step along `axis`, with `first` filling the vacated slot."""
    out = xp.empty_like(y)
    lead = (slice(None),) * axis
    out[lead + (slice(0, 1),)] = first
    out[lead + (slice(1, None),)] = y[lead + (slice(None, -1),)]
    return out


def _lowest(xp, dtype):
    kind = dtype.kind
    if kind == "b":
        return False
    if kind in "iu":
        return xp.iinfo(dtype).min
    return complex(-float("inf"), -float("inf")) if kind == "c" else -float("inf")


def _highest(xp, dtype):
    kind = dtype.kind
    if kind == "b":
        return True
    if kind in "iu":
        return xp.iinfo(dtype).max
    return complex(float("inf"), float("inf")) if kind == "c" else float("inf")


def _shifted(y, axis, reverse, fill):
    """`y` moved one step along `axis` in scan order, `fill` entering at the start:
    turns an inclusive scan's per-element data into the exclusive scan's."""
    n = y.shape[axis]
    if n == 0:
        return y
    lead = (slice(None),) * axis
    pad = mx.full(y.shape[:axis] + (1,) + y.shape[axis + 1:], fill, dtype=y.dtype)
    if reverse:
        return mx.concatenate([y[lead + (slice(1, n),)], pad], axis)
    return mx.concatenate([pad, y[lead + (slice(0, n - 1),)]], axis)


def _scatter_add_along(values, index, axis):
    """Zeros shaped like `values`, with each value added at `index` (same shape) along
    `axis`; repeated indices accumulate."""
    shape = values.shape
    key = []
    for a, d in enumerate(shape):
        if a == axis:
            key.append(index)
        else:
            key.append(mx.reshape(mx.arange(d), [d if k == a else 1 for k in range(len(shape))]))
    return mx.zeros(shape, dtype=values.dtype).at[tuple(key)].add(values)


class CumSum(Scan):
    """Accumulates in the input dtype (so float16 and uint8 overflow as in MLX); bool
    counts in int32."""
    __slots__ = ()

    def scan_vjp(self, x, g, out, axis):
        return mx.cumsum(g, axis, reverse=not self.reverse, inclusive=self.inclusive)

    def scan_jvp(self, x, t, axis):
        return mx.cumsum(t, axis, reverse=self.reverse, inclusive=self.inclusive)

    def infer(self, inputs):
        shape, dtype = Scan.infer(self, inputs)
        return shape, (_dt.int32 if dtype is _dt.bool_ else dtype)

    def scan(self, xp, x, axis):
        dt = x.dtype
        return xp.cumsum(x, axis=axis, dtype=(_dt.int32.np if dt.kind == "b" else dt))

    def identity(self, xp, dtype):
        return 0


class CumProd(Scan):
    """Derivatives follow MLX's: divide by the input up to the scan's first zero, treat
    that zero as a 1 for its own derivative, and give 0 beyond it (a zero there makes
    every product that involves it 0)."""
    __slots__ = ()

    def _zero_masks(self, x, out, axis):
        """(first, seen): where the first zero of the scan sits, and every element from
        there on, in scan order (from the inclusive products)."""
        other = mx.cumprod(x, axis, reverse=self.reverse, inclusive=not self.inclusive)
        incl, excl = (out, other) if self.inclusive else (other, out)
        seen = mx.equal(incl, 0)
        return mx.logical_and(seen, mx.not_equal(excl, 0)), seen

    def scan_vjp(self, x, g, out, axis):
        if x.dtype.kind == "c":
            # Real coefficients: conj(f'(x)) = f'(conj(x)). (MLX leaves the conjugate out
            # here, unlike in prod; see docs/differences.md.)
            x, out = mx.conjugate(x), mx.conjugate(out)
        reverse, inclusive = self.reverse, self.inclusive
        first, seen = self._zero_masks(x, out, axis)

        def gather_back(products):
            return mx.cumsum(mx.multiply(products, g), axis, reverse=not reverse,
                             inclusive=inclusive)

        with_one = mx.cumprod(mx.where(first, 1, x), axis, reverse=reverse, inclusive=inclusive)
        regular = mx.divide(gather_back(out), mx.where(seen, 1, x))
        return mx.where(first, gather_back(with_one), mx.where(seen, 0, regular))

    def scan_jvp(self, x, t, axis):
        # The transpose of the vjp above: before the first zero, out * scan(t / x); once
        # the zero is in the window, only its tangent counts, times the other factors.
        reverse, inclusive = self.reverse, self.inclusive

        def scan_sum(v):
            return mx.cumsum(v, axis, reverse=reverse, inclusive=inclusive)

        out = mx.cumprod(x, axis, reverse=reverse, inclusive=inclusive)
        first, seen = self._zero_masks(x, out, axis)
        with_one = mx.cumprod(mx.where(first, 1, x), axis, reverse=reverse, inclusive=inclusive)
        regular = mx.multiply(out, scan_sum(mx.divide(t, mx.where(seen, 1, x))))
        through_zero = mx.multiply(with_one, scan_sum(mx.where(first, t, 0)))
        return mx.where(mx.equal(out, 0), through_zero, regular)

    def scan(self, xp, x, axis):
        if x.dtype.kind == "b":
            return xp.logical_and.accumulate(x, axis=axis)
        return xp.cumprod(x, axis=axis, dtype=x.dtype)

    def identity(self, xp, dtype):
        return 1


class _CumExtremum(Scan):
    """Each output copies one element: the latest one, in scan order, that equals the
    running extremum (MLX's choice at ties). Outputs with no such element (the
    exclusive scan's first, or a NaN run that starts the scan) get no derivative."""
    __slots__ = ()
    abstract = True

    def _sources(self, x, out, axis):
        """(index, found): the element each output copies (0 where none) and a mask of
        the outputs that copy one."""
        reverse = self.reverse
        n = x.shape[axis]
        running = out if (self.inclusive and out is not None) else apply(
            self.along(axis, True), [x])
        position = mx.reshape(mx.arange(n), [n if a == axis else 1 for a in range(x.ndim)])
        none = n if reverse else -1
        marked = mx.where(mx.equal(x, running), position, none)
        if reverse:
            index = mx.cummin(marked, axis, reverse=True)
        else:
            index = mx.cummax(marked, axis)
        if not self.inclusive:
            index = _shifted(index, axis, reverse, none)
        found = mx.not_equal(index, none)
        return mx.where(found, index, 0), found

    def scan_vjp(self, x, g, out, axis):
        index, found = self._sources(x, out, axis)
        return _scatter_add_along(mx.where(found, g, 0), index, axis)

    def scan_jvp(self, x, t, axis):
        index, found = self._sources(x, None, axis)
        return mx.where(found, mx.take_along_axis(t, index, axis), 0)


class CumMax(_CumExtremum):
    """NaN propagates to every later element."""
    __slots__ = ()

    def scan(self, xp, x, axis):
        return xp.maximum.accumulate(x, axis=axis)

    def identity(self, xp, dtype):
        return _lowest(xp, dtype)


class CumMin(_CumExtremum):
    __slots__ = ()

    def scan(self, xp, x, axis):
        return xp.minimum.accumulate(x, axis=axis)

    def identity(self, xp, dtype):
        return _highest(xp, dtype)


class LogCumSumExp(Scan):
    """log(cumsum(exp(x))) without overflow; the op gives it floating inputs only."""
    __slots__ = ()

    def scan(self, xp, x, axis):
        if x.dtype.kind != "c":
            return xp.logaddexp.accumulate(x, axis=axis)
        # logaddexp has no complex loop: shift by the largest real part instead.
        shift = xp.max(x.real, axis=axis, keepdims=True)
        shift = xp.where(xp.isfinite(shift), shift, 0)
        return (xp.log(xp.cumsum(xp.exp(x - shift), axis=axis)) + shift).astype(x.dtype)

    def identity(self, xp, dtype):
        return -float("inf")

    # Real derivatives follow MLX: the cotangent's (tangent's) positive and negative
    # parts go through log space separately, so nothing overflows. A part with no
    # entries stands at the dtype's lowest finite value, not -inf: the scan of an all
    # -inf array has NaN derivatives, which would reach second derivatives. As in
    # MLX, the vjp is NaN where x and an output depending on it are -inf, and the
    # jvp of an output that is -inf is 0.
    def scan_vjp(self, x, g, out, axis):
        def back(v):
            return mx.logcumsumexp(v, axis, reverse=not self.reverse, inclusive=self.inclusive)

        if x.dtype.kind == "c":
            # g * conj(exp(x_j - out_i)), summed in log space with the complex log of g.
            # (MLX leaves the conjugate out; see docs/differences.md.)
            return mx.exp(mx.add(back(mx.subtract(mx.log(g), mx.conjugate(out))),
                                 mx.conjugate(x)))

        lowest = mx.finfo(x.dtype).min

        def part(mask, magnitude):
            log_g = mx.where(mask, mx.log(mx.where(mask, magnitude, 1)), lowest)
            return mx.exp(mx.add(back(mx.subtract(log_g, out)), x))

        return mx.subtract(part(mx.greater(g, 0), g), part(mx.less(g, 0), mx.negative(g)))

    def scan_jvp(self, x, t, axis):
        def scan(v):
            return mx.logcumsumexp(v, axis, reverse=self.reverse, inclusive=self.inclusive)

        out = scan(x)
        if x.dtype.kind == "c":
            d = mx.exp(mx.subtract(scan(mx.add(x, mx.log(t))), out))
        else:
            lowest = mx.finfo(x.dtype).min

            def part(mask, magnitude):
                log_t = mx.where(mask, mx.log(mx.where(mask, magnitude, 1)), lowest)
                return mx.exp(mx.subtract(scan(mx.add(x, log_t)), out))

            d = mx.subtract(part(mx.greater(t, 0), t), part(mx.less(t, 0), mx.negative(t)))
        return mx.where(mx.equal(out, -_INF), 0, d)
