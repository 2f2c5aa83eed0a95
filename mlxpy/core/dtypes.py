"""Dtypes, dtype categories and MLX's type promotion.

>>> import mlxpy.core as mx
>>> mx.promote_types(mx.int8, mx.uint8)
mlxpy.core.int16
"""
import enum

import ml_dtypes
import numpy as np


class DtypeCategory(enum.Enum):
    complexfloating = 0
    floating = 1
    inexact = 2
    signedinteger = 3
    unsignedinteger = 4
    integer = 5
    number = 6
    generic = 7

    def __repr__(self):
        return f"DtypeCategory.{self.name}"

    __str__ = __repr__


# Each category's parent in MLX's hierarchy; `issubdtype` climbs this chain.
_CATEGORY_PARENT = {
    DtypeCategory.complexfloating: DtypeCategory.inexact,
    DtypeCategory.floating: DtypeCategory.inexact,
    DtypeCategory.inexact: DtypeCategory.number,
    DtypeCategory.signedinteger: DtypeCategory.integer,
    DtypeCategory.unsignedinteger: DtypeCategory.integer,
    DtypeCategory.integer: DtypeCategory.number,
    DtypeCategory.number: DtypeCategory.generic,
    DtypeCategory.generic: None,
}


class Dtype:
    """An array element type. Instances are singletons, compared by identity."""

    __slots__ = ("name", "size", "np", "category", "kind", "_rank")

    def __init__(self, name, np_dtype, category, kind, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.size = self.np.itemsize
        self.category = category
        # kind is one of 'b', 'u', 'i', 'f', 'c' (like NumPy's, bfloat16 included in 'f').
        self.kind = kind
        self._rank = rank

    def __repr__(self):
        return f"mlxpy.core.{self.name}"

    __str__ = __repr__

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __hash__(self):
        return self._rank

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other


_C = DtypeCategory
bool_ = Dtype("bool", np.bool_, _C.generic, "b", 0)
uint8 = Dtype("uint8", np.uint8, _C.unsignedinteger, "u", 1)
uint16 = Dtype("uint16", np.uint16, _C.unsignedinteger, "u", 2)
uint32 = Dtype("uint32", np.uint32, _C.unsignedinteger, "u", 3)
uint64 = Dtype("uint64", np.uint64, _C.unsignedinteger, "u", 4)
int8 = Dtype("int8", np.int8, _C.signedinteger, "i", 5)
int16 = Dtype("int16", np.int16, _C.signedinteger, "i", 6)
int32 = Dtype("int32", np.int32, _C.signedinteger, "i", 7)
int64 = Dtype("int64", np.int64, _C.signedinteger, "i", 8)
float16 = Dtype("float16", np.float16, _C.floating, "f", 9)
bfloat16 = Dtype("bfloat16", ml_dtypes.bfloat16, _C.floating, "f", 10)
float32 = Dtype("float32", np.float32, _C.floating, "f", 11)
float64 = Dtype("float64", np.float64, _C.floating, "f", 12)
complex64 = Dtype("complex64", np.complex64, _C.complexfloating, "c", 13)

ALL_DTYPES = (bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64,
              float16, bfloat16, float32, float64, complex64)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NUMPY = {d.np: d for d in ALL_DTYPES}


def _dtype_by_name(name):
    return _BY_NAME[name]


def from_numpy(np_dtype):
    """The mlxpy dtype for a NumPy dtype; float64 stays float64, complex128 narrows."""
    d = _BY_NUMPY.get(np.dtype(np_dtype))
    if d is not None:
        return d
    np_dtype = np.dtype(np_dtype)
    if np_dtype.kind == "c":
        return complex64
    raise TypeError(f"[array] Unsupported NumPy dtype {np_dtype}.")


# MLX's promotion lattice, one row per dtype in ALL_DTYPES order: row i, column j is
# the result of promoting ALL_DTYPES[i] with ALL_DTYPES[j]. Note the MLX-specific
# corners: signed + uint64 is float32 and float64 + complex64 is complex64.
_ORDER = "b u8 u16 u32 u64 i8 i16 i32 i64 f16 bf16 f32 f64 c64".split()
_TABLE = """
b   u8  u16 u32 u64 i8  i16 i32 i64 f16 bf16 f32 f64 c64
u8  u8  u16 u32 u64 i16 i16 i32 i64 f16 bf16 f32 f64 c64
u16 u16 u16 u32 u64 i32 i32 i32 i64 f16 bf16 f32 f64 c64
u32 u32 u32 u32 u64 i64 i64 i64 i64 f16 bf16 f32 f64 c64
u64 u64 u64 u64 u64 f32 f32 f32 f32 f16 bf16 f32 f64 c64
i8  i16 i32 i64 f32 i8  i16 i32 i64 f16 bf16 f32 f64 c64
i16 i16 i32 i64 f32 i16 i16 i32 i64 f16 bf16 f32 f64 c64
i32 i32 i32 i64 f32 i32 i32 i32 i64 f16 bf16 f32 f64 c64
i64 i64 i64 i64 f32 i64 i64 i64 i64 f16 bf16 f32 f64 c64
f16 f16 f16 f16 f16 f16 f16 f16 f16 f16 f32 f32 f64 c64
bf16 bf16 bf16 bf16 bf16 bf16 bf16 bf16 bf16 f32 bf16 f32 f64 c64
f32 f32 f32 f32 f32 f32 f32 f32 f32 f32 f32 f32 f64 c64
f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 c64
c64 c64 c64 c64 c64 c64 c64 c64 c64 c64 c64 c64 c64 c64
"""
_SHORT = dict(zip(_ORDER, ALL_DTYPES))
PROMOTION = {}
for _row_dtype, _line in zip(ALL_DTYPES, _TABLE.strip().splitlines()):
    for _col_dtype, _cell in zip(ALL_DTYPES, _line.split()):
        PROMOTION[_row_dtype, _col_dtype] = _SHORT[_cell]


def promote_types(a, b):
    """The dtype MLX gives a binary op on arrays of dtypes `a` and `b`."""
    return PROMOTION[a, b]


def result_type(*dtypes):
    out = dtypes[0]
    for d in dtypes[1:]:
        out = PROMOTION[out, d]
    return out


def is_floating(d):
    return d.kind == "f"


def is_inexact(d):
    return d.kind in "fc"


def is_integer(d):
    return d.kind in "iu"


floating = DtypeCategory.floating
complexfloating = DtypeCategory.complexfloating
inexact = DtypeCategory.inexact
signedinteger = DtypeCategory.signedinteger
unsignedinteger = DtypeCategory.unsignedinteger
integer = DtypeCategory.integer
number = DtypeCategory.number
generic = DtypeCategory.generic


def _category_chain(cat):
    while cat is not None:
        yield cat
        cat = _CATEGORY_PARENT[cat]


def issubdtype(a, b):
    """True when `a` (a Dtype or category) is `b` or lies below it in MLX's hierarchy."""
    if isinstance(a, Dtype) and isinstance(b, Dtype):
        return a is b
    if isinstance(a, Dtype) and isinstance(b, DtypeCategory):
        return b in _category_chain(a.category)
    if isinstance(a, DtypeCategory) and isinstance(b, Dtype):
        return False
    if isinstance(a, DtypeCategory) and isinstance(b, DtypeCategory):
        return b in _category_chain(a)
    raise TypeError("[issubdtype] Arguments must be Dtype or DtypeCategory objects.")


_ISDTYPE_KINDS = {
    "bool": ("b",), "signed integer": ("i",), "unsigned integer": ("u",),
    "integral": ("i", "u"), "real floating": ("f",), "complex floating": ("c",),
    "numeric": ("i", "u", "f", "c"),
}


def isdtype(dtype, kind):
    """Array-API style check: `kind` is a Dtype, a kind name, or a tuple of those."""
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, Dtype):
        return dtype is kind
    if isinstance(kind, str):
        if kind not in _ISDTYPE_KINDS:
            raise ValueError(f"[isdtype] Unknown dtype kind '{kind}'.")
        return dtype.kind in _ISDTYPE_KINDS[kind]
    raise TypeError("[isdtype] kind must be a Dtype, a string or a tuple of those.")


def can_cast(from_, to):
    """True when `from_` promotes to `to`, MLX's rule (int32 -> float32 counts as castable)."""
    return PROMOTION[_as_dtype(from_, "can_cast"), _as_dtype(to, "can_cast")] is to


class finfo:
    """Machine limits of a floating dtype."""

    def __init__(self, dtype):
        dtype = _as_dtype(dtype, "finfo")
        if not is_inexact(dtype):
            raise ValueError(f"[finfo] dtype {dtype} is not inexact.")
        info = ml_dtypes.finfo(dtype.np) if dtype is bfloat16 else np.finfo(np.float32 if dtype is complex64 else dtype.np)
        # MLX reports a complex dtype's limits through its real component type.
        self.dtype = float32 if dtype is complex64 else dtype
        self.bits = info.bits if dtype is not complex64 else 32
        self.min = float(info.min)
        self.max = float(info.max)
        self.eps = float(info.eps)
        self.smallest_normal = float(info.smallest_normal)

    def __repr__(self):
        return f"finfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype.name})"


class iinfo:
    """Limits of an integer dtype."""

    def __init__(self, dtype):
        dtype = _as_dtype(dtype, "iinfo")
        if not is_integer(dtype):
            raise ValueError(f"[iinfo] dtype {dtype} is not integral.")
        info = np.iinfo(dtype.np)
        self.dtype = dtype
        self.min = int(info.min)
        self.max = int(info.max)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype.name})"


def _as_dtype(dtype, where):
    if isinstance(dtype, Dtype):
        return dtype
    if hasattr(dtype, "dtype") and isinstance(dtype.dtype, Dtype):
        return dtype.dtype
    raise TypeError(f"[{where}] Expected an mlxpy Dtype or array, got {type(dtype).__name__}.")
