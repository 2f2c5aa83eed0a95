"""Fused elementwise regions as generated C, compiled once by the system C compiler.

A region (`transforms/fusion.py`: steps of elementwise primitives) becomes one C loop
that loads each input element once, runs every step in registers and stores the
region's outputs: no intermediate array exists and memory is crossed once, where the
NumPy path crosses it once per step. Loops are vectorized by the compiler (`#pragma
omp simd`). Transcendental functions come from glibc's libmvec, the vector versions of
libm, declared with GCC's `simd` attribute: neither -ffast-math nor -ffinite-math-only
is needed, so nan, inf and -0.0 behave as in NumPy. Arithmetic is not contracted into
fused multiply-adds, so it rounds as NumPy's does step by step; float16 steps compute
in float and round after every step, as NumPy's loops do.

Results equal the NumPy path's bit for bit. Arithmetic, comparisons, sqrt and rounding
are exact in both. A libm function is used only where it agrees with the primitive's
NumPy evaluation on a probe of edge and random values (`_probe`; with NumPy 2.4 on an
AVX-512 CPU, float32 tanh, tan, log2, log10, log1p and the inverse trigonometric
functions agree, exp, log, sin and cos do not); elsewhere the region runs on NumPy. For the same reason every element of a row goes through the same vector code:
rows are computed in blocks of `_BLOCK` elements, a row's last partial block through a
padded copy, so no scalar remainder loop calls the scalar libm. MLXPY_NATIVE_FUSION=fast
drops the agreement requirement (results then differ from NumPy's by a few ulp in
functions such as exp, log, sin and cos); MLXPY_NATIVE_FUSION=0 turns kernels off.

A kernel is specialized on the region's steps and dtypes, on the number of dimensions
left after merging contiguous ones and on each input's innermost stride (contiguous,
broadcast or strided), but not on sizes or strides, which it receives as arguments:
one compiled kernel serves every shape of a layout. Shared libraries are cached on disk
by a hash of their source, the flags and the CPU (`-march=native`), under
$MLXPY_CACHE_DIR or ~/.cache/mlxpy. Without a compiler, or when a compilation fails,
`run_fused` returns None and the region runs on NumPy.
"""
import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def _data_offset():
    """Where an ndarray object keeps its data pointer (NumPy's PyArrayObject: after the
    object header, whose size depends on the Python build), or None if not found."""
    probes = [np.arange(3.0), np.zeros(5, np.int8)]
    for offset in (16, 24, 32, 40, 48):
        if all(ctypes.c_void_p.from_address(id(x) + offset).value == x.ctypes.data
               for x in probes):
            return offset
    return None


_DATA_OFFSET = _data_offset()
_MODE = os.environ.get("MLXPY_NATIVE_FUSION", "1").lower()
enabled = _MODE not in ("0", "false", "no", "off") and _DATA_OFFSET is not None
# Whether libm functions must agree with NumPy's bit for bit to be used.
exact = _MODE != "fast"

# Elements per call of a kernel when a region is split over threads: large enough that
# a call's overhead (a few microseconds) is small, small enough that a thread slowed by
# another process leaves the rest of the work to the others. (4M-element gelu on 2
# threads: 1.6 ms at 256K, 1.8 ms at 64K, 2.1 ms at 1M.)
CHUNK_ELEMENTS = 1 << 18
# Regions smaller than this run on one thread.
PARALLEL_MIN_ELEMENTS = 1 << 18
# Elements per vectorized block: a multiple of every vector length (16 floats in 512
# bits), so a block needs no remainder loop. (At 16, GCC 12 vectorizes a block with
# 256-bit vectors and a 128-bit and scalar remainder; from 32 on, with 512-bit ones.)
_BLOCK = 64

# -- the table: each primitive's C form ------------------------------------------------

_C_TYPES = {
    "bool": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
    "int64": "int64_t", "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t",
    "uint64": "uint64_t", "float16": "uint16_t", "float32": "float", "float64": "double",
}
# Types values are computed in. Narrow integers (and bools) compute in 32 bits and wrap
# back after each step: GCC 12 leaves a loop scalar when it converts an 8-bit value it
# computed (a comparison's bool) to float.
_COMPUTE = dict(_C_TYPES, float16="float", bool="int32_t", int8="int32_t", int16="int32_t",
                uint8="uint32_t", uint16="uint32_t")
_FLOAT = ("float16", "float32", "float64")
_SIGNED = ("int8", "int16", "int32", "int64")

# libm functions with vector versions in glibc's libmvec (for float and double).
_VECTOR_MATH = ("sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh",
                "asinh", "acosh", "atanh", "exp", "expm1", "log", "log2", "log10", "log1p",
                "pow", "erf")
_LIBM = {
    "Exp": "exp", "Expm1": "expm1", "Log": "log", "Log1p": "log1p", "Log2": "log2",
    "Log10": "log10", "Sin": "sin", "Cos": "cos", "Tan": "tan", "Sinh": "sinh",
    "Cosh": "cosh", "Tanh": "tanh", "ArcSin": "asin", "ArcCos": "acos", "ArcTan": "atan",
    "ArcSinh": "asinh", "ArcCosh": "acosh", "ArcTanh": "atanh", "Erf": "erf",
    "Sigmoid": "mx_sigmoid", "Power": "pow", "ArcTan2": "atan2", "LogAddExp": "mx_logaddexp",
}
# Correctly rounded in C and in NumPy alike.
_EXACT_LIBM = {"Sqrt": "sqrt", "Floor": "floor", "Ceil": "ceil", "Trunc": "trunc",
               "Remainder": "mx_remainder"}
_BINARY_LIBM = ("Power", "ArcTan2", "LogAddExp", "Remainder")
_ARITHMETIC = {"Add": "+", "Subtract": "-", "Multiply": "*"}
_COMPARISON = {"Equal": "==", "NotEqual": "!=", "Less": "<", "LessEqual": "<=",
               "Greater": ">", "GreaterEqual": ">="}
_BITWISE = {"BitwiseAnd": "&", "BitwiseOr": "|", "BitwiseXor": "^"}
_PREDICATES = {"IsNaN": "({0} != {0})", "IsInf": "(fabs{f}({0}) == INFINITY)",
               "IsFinite": "(fabs{f}({0}) < INFINITY)", "IsPosInf": "({0} == INFINITY)",
               "IsNegInf": "({0} == -INFINITY)"}


def _form(prim, dts, out_dt):
    """The C expression of one step as a format string over its argument names, or
    None where the step has no C form here. `dts` are the argument dtypes' names,
    `out_dt` the step's output dtype name."""
    name = type(prim).__name__
    d = dts[0]
    flt = d in _FLOAT
    f = "" if d == "float64" else "f"

    def rounded(e):
        # NumPy rounds a float16 result after each of its operations.
        return f"mx_h2f(mx_f2h({e}))" if d == "float16" else e

    if name == "StopGradient" or (name == "Conjugate" and d != "bool"):
        return "{0}"
    if flt and (name in _LIBM or name in _EXACT_LIBM):
        fn = _LIBM.get(name) or _EXACT_LIBM[name]
        return fn + f + ("({0}, {1})" if name in _BINARY_LIBM else "({0})")
    if name in _ARITHMETIC:
        if d == "bool":
            # NumPy's add and multiply on bool are or and and; MLX's subtract is xor.
            return {"Add": "({0} | {1})", "Multiply": "({0} & {1})",
                    "Subtract": "({0} != {1})"}[name]
        return f"({{0}} {_ARITHMETIC[name]} {{1}})"
    if name in _COMPARISON:
        if name == "Equal" and prim.equal_nan and flt:
            return "(({0} == {1}) | (({0} != {0}) & ({1} != {1})))"
        return f"({{0}} {_COMPARISON[name]} {{1}})"
    if name == "Divide" and flt:
        return "({0} / {1})"
    if name == "FloorDivide" and flt:
        return "floor" + f + "(" + rounded("{0} / {1}") + ")"
    if name in ("Maximum", "Minimum"):
        # Nan wins, and a tie (-0.0 against 0.0) gives the second operand, as in NumPy's
        # loops; the first for float16, whose loop compares with >= and <=.
        op = (">" if name == "Maximum" else "<") + ("=" if d == "float16" else "")
        nan = " || {0} != {0}" if flt else ""
        return f"(({{0}} {op} {{1}}{nan}) ? {{0}} : {{1}})"
    if name == "Negative" and d != "bool":
        return "(-{0})"
    if name == "Square":
        return "{0}" if d == "bool" else "({0} * {0})"
    if name == "Abs":
        if flt:
            return "fabs" + f + "({0})"
        return "({0} < 0 ? -{0} : {0})" if d in _SIGNED else "{0}"
    if name == "Sign":
        return "{0}" if d == "bool" else "(({0} > 0) - ({0} < 0))"
    if name == "Rsqrt" and flt:
        return "(1 / " + rounded("sqrt" + f + "({0})") + ")"
    if name == "Reciprocal" and flt:
        return "(1 / {0})"
    if name == "Round" and flt and prim.decimals == 0:
        return "rint" + f + "({0})"
    if name in _PREDICATES:
        if not flt:
            return "1" if name == "IsFinite" else "0"
        return _PREDICATES[name].replace("{f}", f)
    if name == "LogicalNot" and d == "bool":
        return "(!{0})"
    if name in ("LogicalAnd", "LogicalOr") and d == "bool":
        # (Ops cast to bool first; on other dtypes NumPy's result type is not the
        # primitive's.)
        return "({0} & {1})" if name == "LogicalAnd" else "({0} | {1})"
    if name in _BITWISE and not flt:
        return f"({{0}} {_BITWISE[name]} {{1}})"
    if name == "BitwiseInvert" and not flt:
        return "(!{0})" if d == "bool" else "(~{0})"
    if name == "Select":
        return "({0} ? {1} : {2})"
    if name == "AsType":
        if d == "float64" and out_dt == "float16":
            return None  # through float it would round twice; NumPy rounds once
        if out_dt == "bool":
            return "({0} != 0)"
        if flt and out_dt not in _FLOAT:
            return None  # out-of-range float to integer casts are undefined in C
        return "{0}"  # the step's type converts
    return None


# -- C source --------------------------------------------------------------------------

_PRELUDE = r"""
#include <math.h>
#include <stdint.h>
%(declarations)s
/* float16 is stored as its bits and computed in float. GCC 12 does not vectorize
   _Float16 conversions; these integer forms vectorize and round as NumPy's
   npy_half (to nearest, ties to even). */
typedef union { float f; uint32_t u; } mx_bits;
static inline float mx_h2f(uint16_t h) {
  uint32_t em = h & 0x7fffu;
  /* Shifted into float's fields, a half is its value times 2^-112: subnormals too. */
  mx_bits v = { .u = em << 13 };
  v.f *= 0x1p112f;
  if (em >= 0x7c00u) v.u = (em << 13) | 0x7f800000u;  /* inf and nan */
  v.u |= (uint32_t)(h & 0x8000u) << 16;
  return v.f;
}
static inline uint16_t mx_f2h(float f) {
  mx_bits v = { .f = f };
  uint32_t a = v.u & 0x7fffffffu;
  uint32_t sign = (v.u >> 16) & 0x8000u;
  /* Normal halves: drop 13 bits, rounding to nearest even, and rebias the exponent;
     a carry out of the significand rounds up into the next binade or to inf. */
  uint32_t normal = ((a + 0xfffu + ((a >> 13) & 1u)) >> 13) - (112u << 10);
  /* Below 2^-14: adding 0.5 (whose ulp is 2^-24, a subnormal half's unit) rounds. */
  mx_bits t = { .u = a };
  t.f += 0.5f;
  uint32_t subnormal = t.u - 0x3f000000u;
  uint32_t big = a > 0x7f800000u ? 0x7e00u | ((a >> 13) & 0x3ffu) : 0x7c00u;
  uint32_t r = a >= 0x47800000u ? big : a >= 0x38800000u ? normal : subnormal;
  return (uint16_t)(r | sign);
}
/* The primitives' own formulas (elementwise.py), both branches computed so that
   loops vectorize. */
static inline float mx_sigmoidf(float x) {
  float e = expf(-fabsf(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}
static inline double mx_sigmoid(double x) {
  double e = exp(-fabs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}
static inline float mx_logaddexpf(float a, float b) {
  float d = a - b;
  float r = (d > 0 ? a : b) + log1pf(expf(-fabsf(d)));
  return a == b ? a + 0.693147180559945309417232121458176568f : (d != d ? d : r);
}
static inline double mx_logaddexp(double a, double b) {
  double d = a - b;
  double r = (d > 0 ? a : b) + log1p(exp(-fabs(d)));
  return a == b ? a + 0.693147180559945309417232121458176568 : (d != d ? d : r);
}
static inline float mx_remainderf(float a, float b) {
  float r = fmodf(a, b);
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
static inline double mx_remainder(double a, double b) {
  double r = fmod(a, b);
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
"""


def _prelude(vector_math):
    lines = []
    if vector_math:
        lines.append("#define MX_SIMD __attribute__((simd(\"notinbranch\"), const))")
        for fn in _VECTOR_MATH:
            args = 2 if fn in ("pow", "atan2") else 1
            for ct, name in (("float", fn + "f"), ("double", fn)):
                lines.append(f"MX_SIMD {ct} {name}({', '.join([ct] * args)});")
    return _PRELUDE % {"declarations": "\n".join(lines)}


# Steps whose result on float16 (or bool) values is a float16 value already.
_HALF_EXACT = ("StopGradient", "Conjugate", "Maximum", "Minimum", "Select", "Negative", "Abs",
               "Sign", "Floor", "Ceil", "Trunc", "Round")


def _rounds(prim, arg_dts):
    """Whether a float16 step's float result must be rounded to float16."""
    name = type(prim).__name__
    if name == "AsType":
        return arg_dts[0] not in ("float16", "bool", "int8", "uint8")
    return name not in _HALF_EXACT or any(d not in ("float16", "bool") for d in arg_dts)


def _load(dt, expr):
    return f"mx_h2f({expr})" if dt == "float16" else f"({_COMPUTE[dt]}){expr}"


def _store(dt, expr):
    return f"mx_f2h({expr})" if dt == "float16" else f"({_C_TYPES[dt]}){expr}"


def _function(name, steps, exprs, in_dts, value_dts, classes, nd, out_refs):
    """C source of `void name(arrays, dims, strides, start, end)`: the region's steps on
    elements start..end of the (collapsed) output, in C order. `arrays` holds the
    addresses of the input and output ndarray objects, whose data pointers the kernel
    reads (`_DATA_OFFSET`): from Python, `id(x)` costs 30 ns where `x.ctypes.data`
    costs 1.5 us.

    `classes` says per input how it moves along the innermost dimension: "c" (stride
    1), "b" (stride 0: loaded once per row) or "s" (any other stride)."""
    B = _BLOCK
    lines = [f"void {name}(const uintptr_t* arrays, const int64_t* dims,"
             " const int64_t* strides, int64_t start, int64_t end) {"]
    for k, d in enumerate(in_dts):
        lines.append(f"  const {_C_TYPES[d]}* p{k} = *(const {_C_TYPES[d]}* const*)"
                     f"(arrays[{k}] + {_DATA_OFFSET});")
    for j, r in enumerate(out_refs):
        c = _C_TYPES[value_dts[r[1]]]
        lines.append(f"  {c}* o{j} = *({c}* const*)(arrays[{len(in_dts) + j}] + {_DATA_OFFSET});")
    lines += [f"  int64_t coord[{nd}];",
              "  int64_t rest = start;",
              f"  for (int d = {nd - 1}; d >= 0; --d) {{ coord[d] = rest % dims[d];"
              " rest /= dims[d]; }",
              f"  const int64_t inner = dims[{nd - 1}];"]
    for k, cls in enumerate(classes):
        if cls == "s":
            lines.append(f"  const int64_t s{k} = strides[{k * nd + nd - 1}];")
    lines += ["  int64_t i = start;",
              "  while (i < end) {",
              f"    int64_t len = inner - coord[{nd - 1}];",
              "    if (len > end - i) len = end - i;"]
    for k, (d, cls) in enumerate(zip(in_dts, classes)):
        offset = " + ".join(f"coord[{a}] * strides[{k * nd + a}]" for a in range(nd))
        lines.append(f"    const {_C_TYPES[d]}* restrict q{k} = p{k} + ({offset});")
        if cls == "b":
            lines.append(f"    const {_COMPUTE[d]} a{k} = {_load(d, f'q{k}[0]')};")
    for j, r in enumerate(out_refs):
        lines.append(f"    {_C_TYPES[value_dts[r[1]]]}* restrict w{j} = o{j} + i;")

    # Blocks of B elements. A row's last partial block reads padded copies of its
    # inputs and writes a scratch block, so that it runs the same vector code as the
    # others; strided inputs are always copied, which keeps the loop a plain one.
    staged = [k for k, cls in enumerate(classes) if cls != "b"]
    lines += ["    for (int64_t j = 0; j < len; j += %d) {" % B,
              "      const int64_t m = len - j < %d ? len - j : %d;" % (B, B)]
    for k in staged:
        lines.append(f"      {_COMPUTE[in_dts[k]]} x{k}[{B}];")
    for j, r in enumerate(out_refs):
        lines.append(f"      {_C_TYPES[value_dts[r[1]]]} r{j}[{B}];")
    copy = [k for k in staged
            if classes[k] == "s" or _COMPUTE[in_dts[k]] != _C_TYPES[in_dts[k]]]
    pad = [k for k in staged if k not in copy]
    if copy:
        lines.append(f"      for (int u = 0; u < {B}; ++u) {{")
        for k in copy:
            index = f"(j + u) * s{k}" if classes[k] == "s" else "j + u"
            lines.append(f"        x{k}[u] = u < m ? {_load(in_dts[k], f'q{k}[{index}]')} : 0;")
        lines.append("      }")
    if pad:
        lines.append(f"      if (m < {B}) {{")
        lines.append(f"        for (int u = 0; u < {B}; ++u) {{")
        for k in pad:
            lines.append(f"          x{k}[u] = u < m ? q{k}[j + u] : 0;")
        lines += ["        }", "      }"]
    for k in pad:
        lines.append(f"      const {_COMPUTE[in_dts[k]]}* restrict v{k} = m < {B} ? x{k} : q{k} + j;")
    for j, r in enumerate(out_refs):
        lines.append(f"      {_C_TYPES[value_dts[r[1]]]}* restrict d{j} = m < {B} ? r{j} : w{j} + j;")
    lines += ["      #pragma omp simd", f"      for (int u = 0; u < {B}; ++u) {{"]
    for k in staged:
        src = f"x{k}[u]" if k in copy else f"v{k}[u]"
        lines.append(f"        const {_COMPUTE[in_dts[k]]} a{k} = {src};")
    for (prim, refs, ref), form in zip(steps, exprs):
        args = [f"a{r[1]}" if r[0] == "in" else f"t{r[1]}" for r in refs]
        dt = value_dts[ref[1]]
        e = form.format(*args)
        arg_dts = [in_dts[r[1]] if r[0] == "in" else value_dts[r[1]] for r in refs]
        if dt == "float16" and _rounds(prim, arg_dts):
            e = f"mx_h2f(mx_f2h({e}))"
        elif _COMPUTE[dt] != _C_TYPES[dt] and dt != "float16":
            e = f"({_C_TYPES[dt]})({e})"  # wraps as NumPy's narrow integers do
        lines.append(f"        const {_COMPUTE[dt]} t{ref[1]} = ({_COMPUTE[dt]})({e});")
    for j, r in enumerate(out_refs):
        lines.append(f"        d{j}[u] = {_store(value_dts[r[1]], f't{r[1]}')};")
    lines += ["      }", f"      if (m < {B}) {{", "        for (int u = 0; u < m; ++u) {"]
    lines += [f"          w{j}[j + u] = r{j}[u];" for j in range(len(out_refs))]
    lines += ["        }", "      }", "    }",
              "    i += len;",
              f"    coord[{nd - 1}] += len;",
              f"    for (int d = {nd - 1}; d > 0 && coord[d] == dims[d]; --d) {{"
              " coord[d] = 0; ++coord[d - 1]; }",
              "  }",
              "}"]
    return "\n".join(lines) + "\n"


# -- the compiler and the on-disk cache ---------------------------------------------------

# No flag here changes a result: errno and floating-point traps are never looked at
# (-fno-trapping-math lets floor, ceil and trunc vectorize), multiply-adds stay
# separate, and signed integers wrap as NumPy's do.
_FLAGS = ["-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off",
          "-fwrapv", "-fopenmp-simd", "-fPIC", "-shared", "-std=gnu11", "-w"]
# Not builtins, so that GCC calls each as declared (in vector form) instead of merging
# sin and cos of one value into a scalar sincos call. No sinking of a call into the
# branch of a select that uses it (mx_logaddexp), and no partial redundancy elimination
# (which turns a select into branches, e.g. of float16 maximum next to a copy): either
# would leave the loop scalar. `_math_imports` catches whatever else does.
_FLAGS += [f"-fno-builtin-{n}" for fn in _VECTOR_MATH for n in (fn, fn + "f")]
_FLAGS += ["-fno-tree-sink", "-fno-tree-pre"]
_lock = threading.Lock()
_libraries = {}    # source -> ctypes library, or None where compiling failed
_config = {}       # "cc", "vector_math", "machine": found once per process


def compiler():
    """The C compiler's path ($CC, else cc or gcc), or None."""
    if "cc" not in _config:
        names = [os.environ["CC"]] if os.environ.get("CC") else ["cc", "gcc"]
        _config["cc"] = next((p for p in map(shutil.which, names) if p), None)
    return _config["cc"]


def cache_dir():
    """Where compiled kernels are kept: $MLXPY_CACHE_DIR, else ~/.cache/mlxpy."""
    root = os.environ.get("MLXPY_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "mlxpy")
    return os.path.join(root, "cpu_fusion")


def _machine():
    """What a -march=native binary depends on: the architecture and the CPU's features."""
    if "machine" not in _config:
        flags = ""
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith(("flags", "Features")):
                        flags = line
                        break
        except OSError:
            pass
        _config["machine"] = platform.machine() + platform.system() + flags
    return _config["machine"]


def _vector_math():
    # libmvec's function names follow the x86-64 vector ABI.
    if "vector_math" not in _config:
        _config["vector_math"] = platform.machine() in ("x86_64", "AMD64") and \
            platform.system() == "Linux"
    return _config["vector_math"]


def _library(source, compile_ok=True, check=None):
    """The library compiled from `source` (from the disk cache when there), or None.
    Without `compile_ok`, None unless it is compiled already. `check(path)` may
    refuse a freshly compiled library."""
    lib = _libraries.get(source, False)
    if lib is not False:
        return lib
    with _lock:
        lib = _libraries.get(source, False)
        if lib is False:
            path = _library_path(source)
            if not compile_ok and not os.path.exists(path):
                return None
            lib = _libraries[source] = _build(source, path, check)
    return lib


def _library_path(source):
    key = "\0".join((source, " ".join(_FLAGS), str(exact), _machine()))
    return os.path.join(cache_dir(), f"fused_{hashlib.sha256(key.encode()).hexdigest()[:32]}.so")


def _build(source, path, check):
    failed = path[:-3] + ".failed"
    if not os.path.exists(path):
        cc = compiler()
        if cc is None or os.path.exists(failed) or not _compile(cc, source, path, failed, check):
            return None
    try:
        return ctypes.CDLL(path)
    except OSError:
        return None


def _compile(cc, source, path, failed, check):
    """Compile into `path`; written under a private name and renamed, so that processes
    compiling the same kernel at once never load a half-written file. A source that
    cannot compile, or that `check` refuses, leaves a `failed` marker, so that it is
    not tried again."""
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        work = tempfile.mkdtemp(dir=folder, prefix="build-")
    except OSError:
        return False
    try:
        src = os.path.join(work, "kernel.c")
        lib = os.path.join(work, "kernel.so")
        with open(src, "w") as f:
            f.write(source)
        libs = ["-lmvec", "-lm"] if "MX_SIMD" in source else ["-lm"]
        done = subprocess.run([cc, *_FLAGS, src, "-o", lib, *libs], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=120)
        if done.returncode != 0 or (check is not None and not check(lib)):
            open(failed, "w").close()
            return False
        os.replace(lib, path)
        return True
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _math_imports(path):
    """{libm function: the symbols a library calls it by}: its scalar name, or the
    vector ABI's names (`_ZGVeN16v_tanhf`: 512-bit, 16 lanes); None without `nm`."""
    nm = shutil.which("nm")
    if nm is None:
        return None
    try:
        listed = subprocess.run([nm, "-D", "--undefined-only", path], capture_output=True,
                                text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # sincos: GCC merges sin and cos of one value into it.
    functions = {n for fn in _VECTOR_MATH + ("sincos", "exp2", "exp10", "cbrt", "hypot")
                 for n in (fn, fn + "f")}
    imports = {}
    for line in listed.splitlines():
        symbol = line.split()[-1].split("@")[0] if line.strip() else ""
        base = symbol.split("_")[2] if symbol.startswith("_ZGV") else symbol
        if base in functions:
            imports.setdefault(base, set()).add(symbol)
    return imports


# -- agreement with NumPy ----------------------------------------------------------------
#
# Each libm function must reach every element through the same code: one vector variant
# (no scalar remainder, no narrower variant for some blocks), and in a region's library
# the same variant as in the probe that compared it with NumPy.

_agrees = {}    # (primitive name, dtype name) -> whether its C form equals NumPy's eval
_variants = {}  # libm function -> the symbol the probes called it by


def _one_variant_each(path):
    imports = _math_imports(path)
    return imports is not None and all(
        len(symbols) == 1 and next(iter(symbols)).startswith("_ZGV")
        for symbols in imports.values())


def _probed_variants(path):
    """A region's library calls each libm function as the probes did."""
    imports = _math_imports(path)
    return imports is not None and all(
        symbols == {_variants.get(base)} for base, symbols in imports.items())


def _probe(prims):
    """Check (primitive, dtype name) pairs' C forms against the primitives' NumPy evals
    on edge and random values, compiling one library of one-step kernels."""
    from .numpy_backend import xp
    cases = []
    for prim, dt in prims:
        n_in = 2 if type(prim).__name__ in _BINARY_LIBM else 1
        steps = [(prim, [("in", k) for k in range(n_in)], ("t", 0))]
        exprs = [_form(prim, [dt] * n_in, dt)]
        cases.append((prim, dt, n_in, _function(f"probe{len(cases)}", steps, exprs, [dt] * n_in,
                                                 [dt], ["c"] * n_in, 1, [("t", 0)])))
    vector_math = _vector_math()
    source = _prelude(vector_math) + "".join(c[3] for c in cases)
    lib = _library(source, check=_one_variant_each if vector_math else None)
    if lib is not None and vector_math:
        imports = _math_imports(_library_path(source)) or {}
        for base, symbols in imports.items():
            _variants[base] = next(iter(symbols))
    for k, (prim, dt, n_in, _) in enumerate(cases):
        key = (type(prim).__name__, dt)
        if lib is None:
            _agrees[key] = False
            continue
        args = _probe_values(np.dtype(dt), n_in)
        with np.errstate(all="ignore"):
            want = prim.eval(xp, args)
        got = np.empty_like(args[0])
        arrays = (ctypes.c_size_t * (n_in + 1))(*map(id, args), id(got))
        dims = np.array([got.size], dtype=np.int64)
        strides = np.ones(n_in, dtype=np.int64)
        getattr(lib, f"probe{k}")(arrays, ctypes.c_void_p(dims.ctypes.data),
                                  ctypes.c_void_p(strides.ctypes.data), ctypes.c_int64(0),
                                  ctypes.c_int64(got.size))
        _agrees[key] = _same_bits(got, want)


def _probe_values(dtype, n_in):
    """Edge values and random values over many magnitudes; for two inputs, every pair
    of edge values and random pairs. The length is not a multiple of the block."""
    info = np.finfo(dtype)
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0,
                      3.0, 0.1, -0.1, 10.0, -10.0, 100.0, -100.0, float(info.tiny),
                      -float(info.tiny), float(info.smallest_subnormal), float(info.max),
                      -float(info.max), float(info.eps), 1 + float(info.eps),
                      1 - float(info.epsneg), -1 - float(info.eps)])
    rng = np.random.default_rng(0)
    sign = rng.choice([-1.0, 1.0], size=4096)
    random = np.concatenate([rng.uniform(-1, 1, 4096), rng.uniform(-12, 12, 4096),
                             rng.uniform(-100, 100, 2048), sign * 10 ** rng.uniform(-45, 40, 4096)])
    with np.errstate(over="ignore", under="ignore"):
        if n_in == 1:
            return [np.concatenate([edges, random]).astype(dtype)]
        a = np.concatenate([np.repeat(edges, len(edges)), random]).astype(dtype)
        b = np.concatenate([np.tile(edges, len(edges)), rng.permutation(random)]).astype(dtype)
    return [a, b]


def _same_bits(a, b):
    """Equal bit for bit, any nan matching any nan."""
    if not isinstance(b, np.ndarray) or a.shape != b.shape or a.dtype != b.dtype:
        return False
    bits = np.dtype(f"u{a.itemsize}")
    return bool(np.all((a.view(bits) == b.view(bits)) | (np.isnan(a) & np.isnan(b))))


def _require_agreement(steps, in_dts, value_dts):
    """Probe, once per dtype, every libm primitive of a dtype that the steps use (one
    library per dtype, so that its cache entry serves every later region)."""
    from ..primitives import elementwise as E
    for prim, refs, out in steps:
        name = type(prim).__name__
        dt = in_dts[refs[0][1]] if refs[0][0] == "in" else value_dts[refs[0][1]]
        if name in _LIBM and dt in _FLOAT and (name, dt) not in _agrees:
            _probe([(getattr(E, n)(), dt) for n in _LIBM])


# -- plans: a kernel and its arguments for one input layout ------------------------------

class _Plan:
    """A kernel for one layout of a region's inputs, with its size and stride arguments."""
    __slots__ = ("fn", "dims", "strides", "args", "out_dtypes")


def _dt_name(dtype):
    return "bool" if dtype == np.bool_ else dtype.name


def _collapse(shape, inputs):
    """(dims, per-input element strides) with size-1 dimensions dropped and dimensions
    that are contiguous in every input merged; None for a stride that is not a
    multiple of the element size."""
    nd = len(shape)
    strides = []
    for x in inputs:
        pad = nd - x.ndim
        st = [0] * nd
        for a in range(x.ndim):
            if x.shape[a] != 1:
                s, r = divmod(x.strides[a], x.itemsize)
                if r:
                    return None
                st[pad + a] = s
        strides.append(st)
    dims = []
    merged = [[] for _ in inputs]
    for a in range(nd):
        if shape[a] == 1:
            continue
        if dims and all(m[-1] == st[a] * shape[a] for m, st in zip(merged, strides)):
            dims[-1] *= shape[a]
            for m, st in zip(merged, strides):
                m[-1] = st[a]
            continue
        dims.append(shape[a])
        for m, st in zip(merged, strides):
            m.append(st[a])
    if not dims:
        dims = [1]
        merged = [[0] for _ in inputs]
    return dims, merged


def _kernel(region, inputs, shape):
    """(C source, dims, strides) of the kernel for these inputs; False where a step has
    no C form (then no layout of the region has a kernel), None where only this layout
    has none."""
    value_dts = [d.name for d in region.value_dtypes]
    in_dts = [_dt_name(x.dtype) for x in inputs]
    if any(d not in _C_TYPES for d in in_dts + value_dts):
        return False
    if not all(x.dtype.isnative and x.flags.aligned for x in inputs):
        return None
    if exact:
        _require_agreement(region.steps, in_dts, value_dts)
    exprs = []
    for prim, refs, out in region.steps:
        arg_dts = [in_dts[r[1]] if r[0] == "in" else value_dts[r[1]] for r in refs]
        form = _form(prim, arg_dts, value_dts[out[1]])
        name = type(prim).__name__
        if form is None or (exact and name in _LIBM and not _agrees[(name, arg_dts[0])]):
            return False
        exprs.append(form)
    collapsed = _collapse(shape, inputs)
    if collapsed is None:
        return None
    dims, strides = collapsed
    classes = ["c" if st[-1] == 1 else "b" if st[-1] == 0 else "s" for st in strides]
    out_refs = [r for r in region.outputs if r[0] == "t"]
    source = _prelude(_vector_math()) + _function(
        "mlxpy_fused", region.steps, exprs, in_dts, value_dts, classes, len(dims), out_refs)
    return source, dims, strides


def kernel_source(region, inputs, shape):
    """The C source `run_fused` compiles for these inputs (to read), or None."""
    k = _kernel(region, inputs, shape)
    return k[0] if k else None


def _plan(region, inputs, shape, compile_ok):
    kernel = _kernel(region, inputs, shape)
    if not kernel:
        return kernel
    source, dims, strides = kernel
    check = _probed_variants if exact and "MX_SIMD" in source else None
    lib = _library(source, compile_ok, check)
    if lib is None:
        return None
    plan = _Plan()
    plan.fn = lib.mlxpy_fused
    plan.fn.restype = None
    plan.fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                        ctypes.c_int64]
    plan.dims = np.array(dims, dtype=np.int64)
    plan.strides = np.array([s for st in strides for s in st] or [0], dtype=np.int64)
    plan.args = (plan.dims.ctypes.data, plan.strides.ctypes.data)
    plan.out_dtypes = [np.dtype(region.value_dtypes[r[1]].np) for r in region.outputs
                       if r[0] == "t"]
    return plan


def run_fused(region, inputs, shape, size, compile_ok):
    """The region's outputs as NumPy arrays, or None to run it on NumPy instead.

    `compile_ok`: whether the region is large enough to be worth compiling a kernel for;
    when not, only a kernel already compiled (in this process or on disk) is used."""
    cache = region._native
    if cache is None:
        cache = region._native = {}
    # Constants may be NumPy scalars; the converted arrays must outlive the call.
    inputs = [x if type(x) is np.ndarray else np.asarray(x) for x in inputs]
    key = (*[x.strides for x in inputs], *[x.shape for x in inputs])
    plan = cache.get(key, False)
    if plan is False:
        if len(cache) > 64:
            cache.clear()  # shapeless replays of many shapes
        plan = _plan(region, inputs, shape, compile_ok)
        if plan is False:
            region._native = False
            return None
        cache[key] = plan
    if plan is None:
        return None
    outs = [np.empty(shape, dtype=d) for d in plan.out_dtypes]
    if size:
        arrays = (ctypes.c_size_t * (len(inputs) + len(outs)))(*map(id, inputs), *map(id, outs))
        fn = plan.fn
        dims, strides = plan.args
        if size < PARALLEL_MIN_ELEMENTS:
            fn(arrays, dims, strides, 0, size)
        else:
            def chunk(k):
                lo = k * CHUNK_ELEMENTS
                fn(arrays, dims, strides, lo, min(lo + CHUNK_ELEMENTS, size))

            run_parallel(chunk, -(-size // CHUNK_ELEMENTS))
    if len(outs) == len(region.outputs):
        return outs
    it = iter(outs)
    return [next(it) if r[0] == "t" else np.broadcast_to(inputs[r[1]], shape)
            for r in region.outputs]


# -- threads --------------------------------------------------------------------------

_pool = None
_pool_lock = threading.Lock()


def threads():
    """Threads a large fused region is spread over."""
    return max(1, min(os.cpu_count() or 1, 8))


def run_parallel(task, n):
    """task(0), ..., task(n - 1) on this thread and the pool's, taken in turn, so that
    a thread slowed by other work on its core does less of it. Returns when all are
    done, without waiting for a helper thread that never got to start: on a busy
    machine (or next to BLAS threads spinning after a matmul) that can take
    milliseconds."""
    helpers = min(threads(), n) - 1
    if helpers <= 0:
        for k in range(n):
            task(k)
        return
    todo = iter(range(n))
    done = threading.Semaphore(0)
    errors = []

    def work():
        for k in todo:  # a range iterator hands each k to one thread
            try:
                task(k)
            except BaseException as e:  # noqa: BLE001 - re-raised on the calling thread
                errors.append(e)
            done.release()

    pool = thread_pool()
    for _ in range(helpers):
        pool.submit(work)
    work()
    for _ in range(n):
        done.acquire()
    if errors:
        raise errors[0]


def thread_pool():
    """The process's pool of threads for fused regions (kernels and NumPy ufuncs
    release the GIL)."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=threads(),
                                           thread_name_prefix="mlxpy-fused")
    return _pool
