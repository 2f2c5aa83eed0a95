"""take_along_axis and its adjoint, scatter-add along an axis, as one CUDA kernel each.

CuPy's own take_along_axis builds an index grid of arange arrays and then gathers, a
dozen kernel launches (about 190 us of host time for a 1024 x 10 gather); the
scatter-add behind take_along_axis's gradient took twice that. Here the gather is one
launch over the result positions, the scatter-add one launch over the update positions
after a copy of its target:

- take: out[i] = x[position of i, with the axis coordinate replaced by idx[i]];
  indices clamp into [-n, n - 1] and negatives count from the end, as the NumPy path's
  `clamped_index` does;
- scatter-add: out = copy of x, then out[position, idx] += values[i] with atomics;
  negative indices count from the end and out-of-range ones are dropped, as the NumPy
  path does. Atomic order is unspecified, so float sums of repeated positions may
  differ from the CPU's in the last bits (as CuPy's add.at does).

Shapes and strides are kernel arguments, so one kernel per (rank, element size, index
type) serves every shape. Inputs of any strides work; broadcast axes get stride 0.
A dtype or rank the kernels do not cover returns None and the caller takes its general
path.
"""
import numpy as np
import cupy as cp

THREADS = 256
MAX_RANK = 8
MAX_BLOCKS = 1 << 16

# Gathers move bits: one unsigned type per element size.
_MOVE = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long long"}
_INDEX = {np.dtype(np.int8): "signed char", np.dtype(np.int16): "short",
          np.dtype(np.int32): "int", np.dtype(np.int64): "long long",
          np.dtype(np.uint8): "unsigned char", np.dtype(np.uint16): "unsigned short",
          np.dtype(np.uint32): "unsigned int"}
# Element types CUDA's atomicAdd takes (64-bit integers through their unsigned form:
# two's complement addition is the same).
_ATOMIC = {np.dtype(np.float32): ("float", "float"), np.dtype(np.float64): ("double", "double"),
           np.dtype(np.int32): ("int", "int"), np.dtype(np.uint32): ("unsigned int", "unsigned int"),
           np.dtype(np.int64): ("long long", "unsigned long long"),
           np.dtype(np.uint64): ("unsigned long long", "unsigned long long")}

_kernels = {}


def _dims_params(rank, arrays):
    return "".join(f", long long d{k}" + "".join(f", long long {a}{k}" for a in arrays)
                   for k in range(rank))


def _coords(rank, arrays, axis_skip=None):
    """C lines turning the linear position i into offsets `o<a>` of each array, the axis
    coordinate left out for arrays in axis_skip (they add the index themselves)."""
    lines = ["    long long r = i, c;"]
    lines += [f"    long long o{a} = 0;" for a in arrays]
    for k in range(rank - 1, -1, -1):
        lines.append(f"    c = r % d{k}; r /= d{k};")
        for a in arrays:
            if axis_skip is not None and a in axis_skip:
                lines.append(f"    if ({k} != axis) o{a} += c * {a}{k};")
            else:
                lines.append(f"    o{a} += c * {a}{k};")
    return lines


def _take_kernel(rank, item, index_type):
    key = ("take", rank, item, index_type)
    k = _kernels.get(key)
    if k is None:
        t = _MOVE[item]
        src = "\n".join([
            f'extern "C" __global__ void mlxpy_take(const {t}* __restrict__ x, '
            f"const {index_type}* __restrict__ idx, {t}* __restrict__ out, long long n, "
            f"int axis, long long an, long long xa{_dims_params(rank, 'xj')}) {{",
            "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;",
            "       i += (long long)blockDim.x * gridDim.x) {",
            *_coords(rank, "xj", axis_skip="x"),
            "    long long q = (long long)idx[oj];",
            "    q = q < -an ? -an : (q > an - 1 ? an - 1 : q);",
            "    if (q < 0) q += an;",
            "    out[i] = x[ox + q * xa];",
            "  }",
            "}"])
        k = _kernels[key] = cp.RawKernel(src, "mlxpy_take")
    return k


def _scatter_add_kernel(rank, value_type, atomic_type, index_type):
    key = ("scatter_add", rank, value_type, index_type)
    k = _kernels.get(key)
    if k is None:
        src = "\n".join([
            f'extern "C" __global__ void mlxpy_scatter_add({value_type}* __restrict__ out, '
            f"const {index_type}* __restrict__ idx, const {value_type}* __restrict__ v, "
            f"long long n, int axis, long long an, long long oa{_dims_params(rank, 'ojv')}) {{",
            "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;",
            "       i += (long long)blockDim.x * gridDim.x) {",
            *_coords(rank, "ojv", axis_skip="o"),
            "    long long q = (long long)idx[oj];",
            "    if (q < 0) q += an;",
            "    if (q < 0 || q >= an) continue;",
            f"    atomicAdd(({atomic_type}*)(out + oo + q * oa), ({atomic_type})v[ov]);",
            "  }",
            "}"])
        k = _kernels[key] = cp.RawKernel(src, "mlxpy_scatter_add")
    return k


def _strides(a, shape):
    """Element strides of `a` read as an array of `shape` (broadcast axes: 0)."""
    lead = len(shape) - a.ndim
    item = a.itemsize
    out = [0] * lead
    for d, s in zip(a.shape, a.strides):
        out.append(0 if d == 1 else s // item)
    return out


def _grid(n):
    return (max(1, min((n + THREADS - 1) // THREADS, MAX_BLOCKS)),)


def take_along(x, idx, axis, shape):
    """x and idx read along `axis` into a new array of `shape` (x and idx broadcast to
    it off the axis), or None where these kernels do not apply."""
    rank = len(shape)
    index_type = _INDEX.get(idx.dtype)
    an = x.shape[axis]
    if index_type is None or x.itemsize not in _MOVE or not 0 < rank <= MAX_RANK or an == 0:
        return None
    out = cp.empty(shape, x.dtype)
    n = out.size
    if n == 0:
        return out
    xs = _strides(x, shape)
    js = _strides(idx, shape)
    args = [x, idx, out, np.int64(n), np.int32(axis), np.int64(an), np.int64(xs[axis])]
    for d, a, b in zip(shape, xs, js):
        args += (np.int64(d), np.int64(a), np.int64(b))
    _take_kernel(rank, x.itemsize, index_type)(_grid(n), (THREADS,), tuple(args))
    return out


def scatter_add_along(x, idx, values, axis, shape):
    """A copy of x with `values` added at `idx` along `axis`, idx and values broadcast to
    `shape` (x's shape but on the axis), or None where these kernels do not apply."""
    rank = len(shape)
    index_type = _INDEX.get(idx.dtype)
    types = _ATOMIC.get(x.dtype)
    if index_type is None or types is None or values.dtype != x.dtype or \
            not 0 < rank <= MAX_RANK:
        return None
    out = cp.array(x, order="C")
    n = 1
    for d in shape:
        n *= d
    if n == 0 or out.size == 0:
        return out
    os_ = _strides(out, out.shape)
    js = _strides(idx, shape)
    vs = _strides(values, shape)
    args = [out, idx, values, np.int64(n), np.int32(axis), np.int64(out.shape[axis]),
            np.int64(os_[axis])]
    for d, a, b, c in zip(shape, os_, js, vs):
        args += (np.int64(d), np.int64(a), np.int64(b), np.int64(c))
    _scatter_add_kernel(rank, *types, index_type)(_grid(n), (THREADS,), tuple(args))
    return out
