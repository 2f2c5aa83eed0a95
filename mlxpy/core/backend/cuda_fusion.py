"""Fused elementwise regions as generated CUDA kernels.

A region (`transforms/fusion.py`: steps of elementwise primitives) becomes one CUDA C
kernel: every thread takes groups of four consecutive elements (one element below
`ELEMENTWISE_BELOW` elements), loads each input the cheapest way its layout allows,
runs every step in registers and stores the region's outputs. Kernels are compiled through CuPy's `RawKernel` and cached by their source; a
region also remembers, per input layout, the kernel and launch it chose, so a replay
costs a dictionary lookup and a launch.

Input layouts:
- "vec":     contiguous, the region's full size, aligned: one 4-element (e.g. 16-byte
             for float32) load per group;
- "lin":     contiguous and full size but not aligned: element loads at the same index;
- "scalar":  one element, loaded once per thread;
- "strided": anything else (broadcast or non-contiguous views): the element's offset is
             computed from its index and the input's strides.
Indices are 32-bit unless the region or an input span needs 64.

A step whose primitive has no CUDA form here (complex numbers, shifts, integer
division, rounding to decimals, ...) makes `run_fused` return None, and the region runs
step by step on CuPy instead.
"""
import numpy as np
import cupy as cp

from .. import dtypes as _dt

VEC = 4
THREADS = 256
# One group of VEC elements per thread up to this many blocks (then a grid-stride loop):
# many resident blocks keep enough loads in flight to reach the copy bandwidth.
MAX_BLOCKS = 1 << 20
# Below this many elements a region runs one element per thread (the kernel's tail loop
# over the whole range): a small region is bound by the latency of its dependent steps,
# not by bandwidth, and four elements in one thread run their out-of-line calls one
# after the other (the 100-op chain on 16 elements: 4 threads x 4 elements serially).
ELEMENTWISE_BELOW = 1 << 16

_C_TYPES = {
    "bool": "bool", "int8": "signed char", "int16": "short", "int32": "int",
    "int64": "long long", "uint8": "unsigned char", "uint16": "unsigned short",
    "uint32": "unsigned int", "uint64": "unsigned long long", "float16": "__half",
    "float32": "float", "float64": "double",
}
# Computation type of each storage type: float16 is computed in float and rounded
# back after every step, as NumPy rounds after every operation.
_COMPUTE = dict(_C_TYPES, float16="float")

_FLOAT = ("float16", "float32", "float64")
_SIGNED = ("int8", "int16", "int32", "int64")
_UNSIGNED = ("bool", "uint8", "uint16", "uint32", "uint64")

_PRELUDE_BASE = r"""
#include <cuda_fp16.h>
__device__ __forceinline__ float mx_ld(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T mx_ld(T v) { return v; }
__device__ __forceinline__ float mx_r16(float v) { return __half2float(__float2half_rn(v)); }
template <typename T> __device__ __forceinline__ T mx_max(T a, T b) {
  return (a > b || a != a) ? a : b; }
template <typename T> __device__ __forceinline__ T mx_min(T a, T b) {
  return (a < b || a != a) ? a : b; }
template <typename T> __device__ __forceinline__ T mx_imax(T a, T b) { return a > b ? a : b; }
template <typename T> __device__ __forceinline__ T mx_imin(T a, T b) { return a < b ? a : b; }
template <typename T> __device__ __forceinline__ T mx_inf();
template <> __device__ __forceinline__ float mx_inf<float>() { return __int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double mx_inf<double>() {
  return __longlong_as_double(0x7ff0000000000000LL); }
template <typename T> __device__ __forceinline__ T mx_sigmoid(T x) {
  T e = exp(-fabs(x));
  return x >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e); }
template <typename T> __device__ __forceinline__ T mx_logaddexp(T a, T b) {
  if (a == b) return a + log(T(2));
  T m = a > b ? a : b;
  T d = a > b ? b - a : a - b;
  return (d != d) ? a + b : m + log1p(exp(d)); }
template <typename T> __device__ __forceinline__ T mx_fmod_floor(T a, T b) {
  T r = fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r; }
"""


# No contraction of a * b + c into one fused multiply-add: every step rounds as it
# would run alone (CuPy's kernels, NumPy, MLX's eager ops), so a fused region gives the
# bits the same ops give one by one (uniform draws, linspace and initializers stay
# bit-identical). The kernels are memory-bound; the extra rounding costs nothing there.
_OPTIONS = ("--std=c++17", "--fmad=false")

def _form(prim, dts, out_dt):
    """The C expression of one step over argument names, or None if it has none here.

    `dts` are the argument dtypes' names, `out_dt` the step's output dtype name."""
    name = type(prim).__name__
    d = dts[0]
    flt = d in _FLOAT
    if any(x.startswith("complex") or x == "bfloat16" for x in dts + [out_dt]):
        return None
    if name in _FLOAT_UNARY and flt:
        return _FLOAT_UNARY[name]
    if name in _ANY_BINARY:
        if d == "bool" and name in _BOOL_BINARY:
            return _BOOL_BINARY[name]
        if d == "bool" and name in ("Subtract",):
            return None
        return _ANY_BINARY[name]
    if name in _FLOAT_BINARY and flt:
        return _FLOAT_BINARY[name]
    if name in ("Maximum", "Minimum"):
        fn = ("mx_max" if name == "Maximum" else "mx_min") if flt else (
            "mx_imax" if name == "Maximum" else "mx_imin")
        return fn + "({0}, {1})"
    if name == "Negative":
        return None if d == "bool" else "(-{0})"
    if name == "Square":
        return "({0} && {0})" if d == "bool" else "({0} * {0})"
    if name == "Abs":
        if flt:
            return "fabs({0})"
        return "({0} < 0 ? -{0} : {0})" if d in _SIGNED else "{0}"
    if name in ("Floor", "Ceil", "Trunc"):
        return _FLOAT_UNARY[name] if flt else "{0}"
    if name in ("IsNaN", "IsInf"):
        return ("isnan({0})" if name == "IsNaN" else "isinf({0})") if flt else "false"
    if name == "IsFinite":
        return "isfinite({0})" if flt else "true"
    if name in ("LogicalAnd", "LogicalOr"):
        return "((bool){0} && (bool){1})" if name == "LogicalAnd" else "((bool){0} || (bool){1})"
    if name == "LogicalNot":
        return "(!(bool){0})"
    if name in ("BitwiseAnd", "BitwiseOr", "BitwiseXor") and not flt:
        op = {"BitwiseAnd": "&", "BitwiseOr": "|", "BitwiseXor": "^"}[name]
        return f"({{0}} {op} {{1}})"
    if name == "BitwiseInvert" and not flt:
        return "(!{0})" if d == "bool" else "(~{0})"
    if name == "Select":
        return "((bool){0} ? {1} : {2})"
    if name == "StopGradient":
        return "{0}"
    if name == "Round" and flt and getattr(prim, "decimals", 0) == 0:
        return "rint({0})"
    if name == "AsType":
        if out_dt == "bool":
            return "({0} != 0)"
        if flt and out_dt not in _FLOAT:
            return None  # nan and overflow casts differ between devices: leave to CuPy
        return "{0}"  # the store converts
    return None


_FLOAT_UNARY = {
    "Sqrt": "sqrt({0})", "Rsqrt": "(1 / sqrt({0}))", "Reciprocal": "(1 / {0})",
    "Exp": "exp({0})", "Expm1": "expm1({0})", "Log": "log({0})", "Log1p": "log1p({0})",
    "Log2": "log2({0})", "Log10": "log10({0})", "Sin": "sin({0})", "Cos": "cos({0})",
    "Tan": "tan({0})", "Sinh": "sinh({0})", "Cosh": "cosh({0})", "Tanh": "tanh({0})",
    "ArcSin": "asin({0})", "ArcCos": "acos({0})", "ArcTan": "atan({0})",
    "ArcSinh": "asinh({0})", "ArcCosh": "acosh({0})", "ArcTanh": "atanh({0})",
    "Erf": "erf({0})", "ErfInv": "erfinv({0})", "Sigmoid": "mx_sigmoid({0})",
    "Floor": "floor({0})", "Ceil": "ceil({0})", "Trunc": "trunc({0})",
}
_ANY_BINARY = {
    "Add": "({0} + {1})", "Subtract": "({0} - {1})", "Multiply": "({0} * {1})",
    "Equal": "({0} == {1})", "NotEqual": "({0} != {1})", "Less": "({0} < {1})",
    "LessEqual": "({0} <= {1})", "Greater": "({0} > {1})", "GreaterEqual": "({0} >= {1})",
}
_BOOL_BINARY = {"Add": "({0} || {1})", "Multiply": "({0} && {1})"}
_FLOAT_BINARY = {
    "Divide": "({0} / {1})", "Power": "pow({0}, {1})", "ArcTan2": "atan2({0}, {1})",
    "LogAddExp": "mx_logaddexp({0}, {1})", "Remainder": "mx_fmod_floor({0}, {1})",
    "FloorDivide": "floor({0} / {1})",
}


class _Plan:
    """A compiled kernel for one input layout, and how to launch it."""
    __slots__ = ("kernel", "n", "groups", "blocks", "out_specs", "index_type", "vec_inputs",
                 "args_tail", "shape", "grid", "block")


_kernels = {}
_ndarray = cp.ndarray


class _Shape:
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape
def _layout(x, shape, size):
    """(mode, element strides) of input `x` within a region of `shape`."""
    if x.size == 1:
        return "scalar", None
    if x.shape == shape and x.flags.c_contiguous:
        align = VEC * x.itemsize
        return ("vec" if x.data.ptr % align == 0 else "lin"), None
    nd = len(shape)
    xs = (1,) * (nd - x.ndim) + tuple(x.shape)
    st = (0,) * (nd - x.ndim) + tuple(s // x.itemsize for s in x.strides)
    strides = tuple(0 if xs[k] == 1 else st[k] for k in range(nd))
    return "strided", strides


def run_fused(region, inputs, max_layouts=None):
    """The region's outputs as CuPy arrays, or None when a step has no CUDA form (or
    when the region has `max_layouts` kernels already and these inputs need another)."""
    cache = region._cuda
    if cache is None:
        cache = region._cuda = {}
    elif cache is False:
        return None
    # A region's input dtypes are fixed by its program; the layout is in the strides
    # and shapes. Alignment is checked per vector-loaded input (slicing can offset a
    # view), and a misaligned one gets a plan of its own.
    key = (*[x.strides for x in inputs], *[x.shape for x in inputs])
    plan = cache.get(key)
    if plan is not None and plan.vec_inputs:
        for k, align in plan.vec_inputs:
            x = inputs[k]
            # A buffer of its own is 256-byte aligned; only a view can be offset.
            if x.base is not None and x.data.ptr % align:
                key = key + ("misaligned",)
                plan = cache.get(key)
                break
    if plan is None:
        if max_layouts is not None and len(cache) >= max_layouts:
            return None
        shape = region.infer([_Shape(x.shape) for x in inputs])[0][0]
        plan = _build(region, inputs, shape)
        if plan is None:
            region._cuda = False
            return None
        cache[key] = plan
    shape = plan.shape
    outs = [_ndarray(shape, d) for d in plan.out_specs]
    if plan.n:
        plan.kernel(plan.grid, plan.block, (*inputs, *outs, *plan.args_tail))
    if len(outs) == len(region.outputs):
        return outs
    return _with_input_outputs(region, inputs, shape, outs)


def _with_input_outputs(region, inputs, shape, outs):
    """The region's outputs in order: computed ones, and region inputs passed through."""
    result = []
    it = iter(outs)
    for ref in region.outputs:
        if ref[0] == "in":
            x = inputs[ref[1]]
            result.append(cp.broadcast_to(x, shape) if x.shape != shape else x)
        else:
            result.append(next(it))
    return result


def _analyze(region, inputs, shape, size):
    """(input dtypes, value dtypes, C expression per step, input layouts, index span)
    of a region for these inputs, or None when a dtype or step has no CUDA form."""
    value_dts = [d.name for d in region.value_dtypes]
    in_dts = [_dt_name(x.dtype) for x in inputs]
    if any(d not in _C_TYPES for d in in_dts + value_dts):
        return None
    exprs = []
    for prim, refs, out in region.steps:
        arg_dts = [in_dts[r[1]] if r[0] == "in" else value_dts[r[1]] for r in refs]
        form = _form(prim, arg_dts, value_dts[out[1]])
        if form is None:
            return None
        exprs.append(form)
    exprs = _outline_large_calls(exprs)
    layouts = [_layout(x, shape, size) for x in inputs]
    span = max([size] + [sum(abs(s) * (d - 1) for s, d in zip(st, shape)) + 1
                         for mode, st in layouts if mode == "strided"])
    return in_dts, value_dts, exprs, layouts, span


# CUDA's trigonometric functions (and a few others) inline a slow path for huge
# arguments; a kernel that inlines dozens of them, once per unrolled element, outgrows
# the instruction cache and runs several times slower than its arithmetic needs (a
# chain of 50 sin and 50 cos: 360 KB of code, 35 us for 16 elements). Past a few such
# calls, each goes through one out-of-line copy of the function instead (21 KB, a
# call's few cycles each).
_LARGE_CALLS = ("sin", "cos", "tan", "pow", "atan2", "asin", "acos", "atan", "sinh", "cosh",
                "asinh", "acosh", "atanh", "erf", "erfinv", "expm1", "log1p")
OUTLINE_AFTER = 4
_OUTLINED = "".join(
    f"template <typename T> __device__ __noinline__ T mx_call_{f}(T x) {{ return {f}(x); }}\n"
    if f not in ("pow", "atan2") else
    f"template <typename T> __device__ __noinline__ T mx_call_{f}(T x, T y) {{ return {f}(x, y); }}\n"
    for f in _LARGE_CALLS)


def _outline_large_calls(exprs):
    """exprs with calls of _LARGE_CALLS made out of line when there are many of them."""
    calls = [f for e in exprs for f in _LARGE_CALLS if e.startswith(f + "(")]
    if len(calls) <= OUTLINE_AFTER:
        return exprs
    out = []
    for e in exprs:
        for f in _LARGE_CALLS:
            if e.startswith(f + "("):
                e = "mx_call_" + e
                break
        out.append(e)
    return out


_PRELUDE = _PRELUDE_BASE + _OUTLINED


def _build(region, inputs, shape):
    size = 1
    for d in shape:
        size *= d
    analysis = _analyze(region, inputs, shape, size)
    if analysis is None:
        return None
    in_dts, value_dts, exprs, layouts, span = analysis
    # Signed indices: strides of reversed views are negative.
    index_type = "int" if span < 2 ** 31 - VEC * THREADS * 65536 else "long long"
    out_refs = [r for r in region.outputs if r[0] == "t"]
    src = _source(region, exprs, in_dts, value_dts, layouts, shape, out_refs, index_type)
    kernel = _kernels.get(src)
    if kernel is None:
        kernel = _kernels[src] = cp.RawKernel(src, "mlxpy_fused",
                                             options=_OPTIONS)
    plan = _Plan()
    plan.shape = shape
    plan.kernel = kernel
    plan.n = size
    # (The kernel derives the same count of groups from n.)
    plan.groups = size // VEC if size >= ELEMENTWISE_BELOW else 0
    work = max(plan.groups or size, 1)
    plan.blocks = max(1, min((work + THREADS - 1) // THREADS, MAX_BLOCKS))
    plan.grid = (plan.blocks,)
    plan.block = (THREADS,)
    plan.out_specs = [np.dtype(value_dts[r[1]]) for r in out_refs]
    plan.index_type = index_type
    plan.vec_inputs = [(k, VEC * inputs[k].itemsize) for k, (mode, _) in enumerate(layouts)
                       if mode == "vec"]
    it = np.int32 if index_type == "int" else np.int64
    plan.args_tail = (it(plan.n),)
    return plan


def _dt_name(npdt):
    return "float16" if npdt == np.float16 else np.dtype(npdt).name


class _Codegen:
    """The per-element code of a region for one input layout: loads and steps."""

    def __init__(self, region, exprs, in_dts, value_dts, layouts, shape):
        self.region, self.exprs = region, exprs
        self.in_dts, self.value_dts = in_dts, value_dts
        self.layouts, self.shape = layouts, shape

    def params(self):
        return [f"const {_C_TYPES[d]}* __restrict__ in{k}" for k, d in enumerate(self.in_dts)]

    def scalar_prelude(self):
        return [f"  {_COMPUTE[self.in_dts[k]]} s{k} = mx_ld(in{k}[0]);"
                for k, (mode, _) in enumerate(self.layouts) if mode == "scalar"]

    def offset(self, k, idx):
        """The element offset of input k for linear index `idx` of the region."""
        strides = self.layouts[k][1]
        shape = self.shape
        terms = []
        inner = 1
        for d in range(len(shape) - 1, -1, -1):
            if strides[d] != 0:
                coord = f"(({idx} / {inner}) % {shape[d]})" if d > 0 else f"({idx} / {inner})"
                terms.append(f"{coord} * ({strides[d]})")
            inner *= shape[d]
        return " + ".join(terms) if terms else "0"

    def load(self, k, mode, idx):
        """An element load that needs no vector register."""
        if mode in ("vec", "lin"):
            return f"mx_ld(in{k}[{idx}])"
        return f"mx_ld(in{k}[{self.offset(k, idx)}])"

    def body(self, load, indent, idx):
        out = []
        names = {}
        for k, (mode, _) in enumerate(self.layouts):
            if mode == "scalar":
                names[k] = f"s{k}"
            else:
                out.append(f"{indent}{_COMPUTE[self.in_dts[k]]} a{k} = {load(k, mode, idx)};")
                names[k] = f"a{k}"
        for (prim, refs, ref_out), form in zip(self.region.steps, self.exprs):
            args = [names[r[1]] if r[0] == "in" else f"t{r[1]}" for r in refs]
            dt = self.value_dts[ref_out[1]]
            e = form.format(*args)
            if dt == "float16":
                e = f"mx_r16((float)({e}))"
            out.append(f"{indent}{_COMPUTE[dt]} t{ref_out[1]} = ({_COMPUTE[dt]})({e});")
        return out


def _source(region, exprs, in_dts, value_dts, layouts, shape, out_refs, I):
    gen = _Codegen(region, exprs, in_dts, value_dts, layouts, shape)
    params = gen.params()
    params += [f"{_C_TYPES[value_dts[r[1]]]}* __restrict__ out{k}"
               for k, r in enumerate(out_refs)]
    params += [f"{I} n"]
    lines = [_PRELUDE]
    vec_types = sorted({in_dts[k] for k, (m, _) in enumerate(layouts) if m == "vec"} |
                       {value_dts[r[1]] for r in out_refs})
    for d in vec_types:
        c = _C_TYPES[d]
        size = np.dtype(d).itemsize
        lines.append(f"struct __align__({VEC * size}) vec_{d} {{ {c} v[{VEC}]; }};")
    lines.append('extern "C" __global__ void mlxpy_fused(' + ", ".join(params) + ") {")
    lines.append(f"  {I} stride = ({I})blockDim.x * gridDim.x;")
    lines.append(f"  {I} tid = ({I})blockIdx.x * blockDim.x + threadIdx.x;")
    lines.append(f"  {I} groups = n >= {ELEMENTWISE_BELOW} ? n / {VEC} : 0;")
    lines += gen.scalar_prelude()

    # Vector loop: groups of VEC elements.
    lines.append("  for (" + I + " g = tid; g < groups; g += stride) {")
    for k, (mode, _) in enumerate(layouts):
        if mode == "vec":
            lines.append(f"    vec_{in_dts[k]} v{k} = reinterpret_cast<const vec_{in_dts[k]}*>(in{k})[g];")
    for j, r in enumerate(out_refs):
        lines.append(f"    vec_{value_dts[r[1]]} w{j};")
    lines.append("    #pragma unroll")
    lines.append(f"    for (int j = 0; j < {VEC}; ++j) {{")
    lines.append(f"      {I} i = g * {VEC} + j;")

    def vec_load(k, mode, idx):
        return f"mx_ld(v{k}.v[j])" if mode == "vec" else gen.load(k, mode, idx)

    lines += gen.body(vec_load, "      ", "i")
    for j, r in enumerate(out_refs):
        lines.append(f"      w{j}.v[j] = ({_C_TYPES[value_dts[r[1]]]})(t{r[1]});")
    lines.append("    }")
    for j, r in enumerate(out_refs):
        lines.append(f"    reinterpret_cast<vec_{value_dts[r[1]]}*>(out{j})[g] = w{j};")
    lines.append("  }")
    # Tail: the last size % VEC elements, one per thread.
    lines.append(f"  for ({I} i = groups * {VEC} + tid; i < n; i += stride) {{")
    lines += gen.body(gen.load, "    ", "i")
    for j, r in enumerate(out_refs):
        lines.append(f"    out{j}[i] = ({_C_TYPES[value_dts[r[1]]]})(t{r[1]});")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


# -- a region followed by a reduction -------------------------------------------------------
#
# sum/max/min over the trailing axes of a region's single output, in one pass: each block
# reduces one chunk of one row (row = the kept axes, flattened) in registers and shared
# memory and writes a partial; CuPy then combines the few partials per row. The region's
# output never exists in memory.

_REDUCE_FORMS = {"Sum": ("0", "({0} + {1})", "sum"),
                 "Max": ("-mx_inf<{acc}>()", "mx_max({0}, {1})", "max"),
                 "Min": ("mx_inf<{acc}>()", "mx_min({0}, {1})", "min")}
# Below this many elements the intermediate is cheap: the plain path is used.
REDUCE_MIN_ELEMENTS = 1 << 16


class _ReducePlan:
    __slots__ = ("kernel", "rows", "cols", "parts", "out_dtype", "out_shape", "args_tail",
                 "finish")


def run_fused_reduce(region, reduce_prim, inputs):
    """reduce_prim(region(inputs)) without materializing the region, or None."""
    cache = region._cuda
    if cache is False:
        return None
    if cache is None:
        cache = region._cuda = {}
    key = ("reduce", type(reduce_prim).__name__, reduce_prim.axes, reduce_prim.keepdims,
           *[x.strides for x in inputs], *[x.shape for x in inputs])
    plan = cache.get(key)
    if plan is None:
        plan = _build_reduce(region, reduce_prim, inputs)
        cache[key] = plan if plan is not None else False
    if not plan:
        return None
    partials = _ndarray((plan.rows * plan.parts,), plan.out_dtype)
    plan.kernel((plan.rows * plan.parts,), (THREADS,), (*inputs, partials, *plan.args_tail))
    if plan.parts == 1:
        out = partials
    else:
        out = getattr(partials.reshape(plan.rows, plan.parts), plan.finish)(axis=1)
    return out.reshape(plan.out_shape)


def _build_reduce(region, reduce_prim, inputs):
    name = type(reduce_prim).__name__
    if name not in _REDUCE_FORMS or len(region.outputs) != 1 or region.outputs[0][0] != "t":
        return None
    shape = region.infer([_Shape(x.shape) for x in inputs])[0][0]
    nd = len(shape)
    axes = tuple(reduce_prim.axes)
    if not axes or axes != tuple(range(nd - len(axes), nd)):
        return None  # only trailing axes: each row is contiguous in the region
    size = 1
    for d in shape:
        size *= d
    out_dt = region.value_dtypes[region.outputs[0][1]].name
    if out_dt not in ("float32", "float64") or size < REDUCE_MIN_ELEMENTS:
        return None
    analysis = _analyze(region, inputs, shape, size)
    if analysis is None:
        return None
    in_dts, value_dts, exprs, layouts, span = analysis
    if span >= 2 ** 31 - 1:
        return None
    cols = 1
    for d in shape[nd - len(axes):]:
        cols *= d
    rows = size // cols
    # Enough blocks to fill the GPU, each with a few thousand elements at least.
    parts = max(1, min(-(-cols // (THREADS * 16)), -(-2048 // rows)))
    init, combine, finish = _REDUCE_FORMS[name]
    acc = _COMPUTE[out_dt]
    gen = _Codegen(region, exprs, in_dts, value_dts, layouts, shape)
    t_out = f"t{region.outputs[0][1]}"
    lines = [_PRELUDE,
             'extern "C" __global__ void mlxpy_fused_reduce(' + ", ".join(
                 gen.params() + [f"{acc}* __restrict__ partials", "int cols", "int parts"]) + ") {",
             f"  __shared__ {acc} buf[{THREADS}];"]
    lines += gen.scalar_prelude()
    lines += [
        "  int row = blockIdx.x / parts, part = blockIdx.x % parts;",
        "  int chunk = (cols + parts - 1) / parts;",
        "  int lo = part * chunk, hi = min(cols, lo + chunk);",
        f"  {acc} r = {init.format(acc=acc)};",
        "  for (int c = lo + threadIdx.x; c < hi; c += blockDim.x) {",
        "    int i = row * cols + c;",
    ]
    lines += gen.body(gen.load, "    ", "i")
    lines += [
        f"    r = {combine.format('r', f'({acc}){t_out}')};",
        "  }",
        "  buf[threadIdx.x] = r;",
        "  __syncthreads();",
        f"  for (int s = {THREADS // 2}; s > 0; s >>= 1) {{",
        "    if (threadIdx.x < s) buf[threadIdx.x] = " +
        combine.format("buf[threadIdx.x]", "buf[threadIdx.x + s]") + ";",
        "    __syncthreads();",
        "  }",
        "  if (threadIdx.x == 0) partials[blockIdx.x] = buf[0];",
        "}",
    ]
    src = "\n".join(lines)
    kernel = _kernels.get(src)
    if kernel is None:
        kernel = _kernels[src] = cp.RawKernel(src, "mlxpy_fused_reduce",
                                             options=_OPTIONS)
    plan = _ReducePlan()
    plan.kernel = kernel
    plan.rows, plan.cols, plan.parts = rows, cols, parts
    plan.out_dtype = np.dtype(out_dt)
    plan.out_shape = _reduced_shape(shape, axes, reduce_prim.keepdims)
    plan.args_tail = (np.int32(cols), np.int32(parts))
    plan.finish = finish
    return plan


def _reduced_shape(shape, axes, keepdims):
    if keepdims:
        return tuple(1 if k in axes else d for k, d in enumerate(shape))
    return tuple(d for k, d in enumerate(shape) if k not in axes)


class RegionReduce:
    """A program step: a fused region and the reduction that consumes its output.

    Runs as one kernel where `run_fused_reduce` can; otherwise as the two steps."""
    host_only = False
    host_dtypes = ()
    gpu_fallback = True
    name = "RegionReduce"

    def __init__(self, region, reduce_prim):
        self.region = region
        self.reduce = reduce_prim

    def params(self):
        return (id(self),)

    def eval(self, xp, inputs):
        out = run_fused_reduce(self.region, self.reduce, inputs)
        if out is None:
            out = self.reduce.eval(xp, [self.region.eval(xp, inputs)])
        return out


def fuse_reductions(steps, outputs):
    """Merge (region, reduction of its only output) step pairs of a GPU plan.

    `steps` are (prim, ins, outs, frees) in order; `outputs` the program's output slots.
    The merged step takes the region's place and inputs; the intermediate slot goes."""
    from ..transforms.fusion import FusedElementwise
    consumers = {}
    for k, (prim, ins, outs, frees) in enumerate(steps):
        for s in ins:
            consumers.setdefault(s, []).append(k)
    merged = {}
    dropped = set()
    for k, (prim, ins, outs, frees) in enumerate(steps):
        if not isinstance(prim, FusedElementwise) or len(outs) != 1 or outs[0] in outputs:
            continue
        users = consumers.get(outs[0], [])
        if len(users) != 1:
            continue
        j = users[0]
        red, red_ins, red_outs, red_frees = steps[j]
        if type(red).__name__ not in _REDUCE_FORMS or red_ins != [outs[0]]:
            continue
        step = RegionReduce(prim, red)
        merged[k] = (step, ins, red_outs, list(frees) + [s for s in red_frees if s != outs[0]])
        dropped.add(j)
    return [merged.get(k, st) for k, st in enumerate(steps) if k not in dropped]
