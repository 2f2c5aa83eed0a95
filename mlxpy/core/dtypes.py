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
    """The dtype MLX gives a binary op on arrays of dtypes `a` and `b`.

    >>> import mlxpy.core as mx
    >>> mx.promote_types(mx.uint64, mx.int8)
    mlxpy.core.float32
    """
    return PROMOTION[a, b]


def result_type(*arrays_and_dtypes):
    """The dtype that promoting the given arrays and dtypes together gives.

    >>> import mlxpy.core as mx
    >>> mx.result_type(mx.array([1], dtype=mx.int8), mx.float16)
    mlxpy.core.float16
    """
    if not arrays_and_dtypes:
        raise ValueError("[result_type] At least one array or dtype is required.")
    out = None
    for x in arrays_and_dtypes:
        d = x if isinstance(x, Dtype) else getattr(x, "dtype", None)
        if not isinstance(d, Dtype) or isinstance(x, DtypeCategory):
            raise ValueError("[result_type] Inputs must be arrays or dtypes.")
        out = d if out is None else PROMOTION[out, d]
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
    """True when `a` (a Dtype or category) is `b` or lies below it in MLX's hierarchy.

    >>> import mlxpy.core as mx
    >>> mx.issubdtype(mx.int8, mx.signedinteger), mx.issubdtype(mx.float16, mx.integer)
    (True, False)
    """
    for x, which in ((a, "first"), (b, "second")):
        if x is None:
            raise TypeError(f"[issubdtype] The {which} input is None; expected a Dtype or "
                            "DtypeCategory.")
        if not isinstance(x, (Dtype, DtypeCategory)):
            raise ValueError(f"[issubdtype] Received invalid type for {which} input.")
    if isinstance(b, Dtype):
        return a is b
    return b in _category_chain(a.category if isinstance(a, Dtype) else a)


_ISDTYPE_KINDS = {
    "bool": ("b",), "signed integer": ("i",), "unsigned integer": ("u",),
    "integral": ("i", "u"), "real floating": ("f",), "complex floating": ("c",),
    "numeric": ("i", "u", "f", "c"),
}


def isdtype(dtype, kind):
    """Array-API style check: `kind` is a Dtype, a kind name, or a tuple of those.

    >>> import mlxpy.core as mx
    >>> mx.isdtype(mx.uint8, ("bool", "integral")), mx.isdtype(mx.bool_, "numeric")
    (True, False)
    """
    if not isinstance(dtype, Dtype):
        raise TypeError(f"[isdtype] dtype must be a Dtype, got {type(dtype).__name__}.")
    if kind is None:
        raise TypeError("[isdtype] kind must be a Dtype, a string or a tuple of those, not None.")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for k in kinds:
        if isinstance(k, Dtype):
            if dtype is k:
                return True
        elif isinstance(k, str):
            if k not in _ISDTYPE_KINDS:
                raise ValueError(f"[isdtype] Unknown data type kind: '{k}'.")
            if dtype.kind in _ISDTYPE_KINDS[k]:
                return True
        else:
            raise ValueError("[isdtype] `kind` must be a dtype, a string, or a tuple of "
                             "dtypes and strings.")
    return False


def can_cast(from_, to):
    """True when promoting `from_` (an array or Dtype) with `to` gives `to`, MLX's rule:
    int32 -> float32 counts as castable, float32 -> int32 does not.

    >>> import mlxpy.core as mx
    >>> mx.can_cast(mx.int32, mx.float32), mx.can_cast(mx.float32, mx.int32)
    (True, False)
    """
    if not isinstance(to, Dtype):
        raise TypeError(f"[can_cast] `to` must be a Dtype, got {type(to).__name__}.")
    d = from_ if isinstance(from_, Dtype) else getattr(from_, "dtype", None)
    if not isinstance(d, Dtype):
        raise ValueError("[can_cast] `from_` must be an array or a dtype.")
    return PROMOTION[d, to] is to


class finfo:
    """Machine limits of a floating (or complex) dtype.

    >>> import mlxpy.core as mx
    >>> mx.finfo(mx.float16)
    finfo(min=-65504, max=65504, dtype=float16)
    """

    def __init__(self, dtype):
        dtype = _as_dtype(dtype, "finfo")
        if not is_inexact(dtype):
            raise ValueError(f"[finfo] dtype {dtype.name} is not inexact.")
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
    """Limits of an integer dtype.

    >>> import mlxpy.core as mx
    >>> mx.iinfo(mx.int8)
    iinfo(min=-128, max=127, dtype=int8)
    """

    def __init__(self, dtype):
        dtype = _as_dtype(dtype, "iinfo")
        if not is_integer(dtype):
            raise ValueError(f"[iinfo] Only integer types supported but {dtype.name} was "
                             "provided.")
        info = np.iinfo(dtype.np)
        self.dtype = dtype
        self.min = int(info.min)
        self.max = int(info.max)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype.name})"


def _as_dtype(dtype, where):
    if isinstance(dtype, Dtype):
        return dtype
    raise TypeError(f"[{where}] Expected an mlxpy Dtype, got {type(dtype).__name__}.")
