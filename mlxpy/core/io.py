"""Saving and loading arrays: ``.npy``, ``.npz`` and ``.safetensors``.

The three formats are small and documented, so they are read and written here
directly rather than through ``numpy.load``: nothing is ever unpickled, every dtype
(bfloat16 included) round-trips bit for bit, and a damaged file gives an error that
says what is wrong with it.

- ``.npy``: a magic string, a version, a little-endian header length, a Python-literal
  header dict (``descr``, ``fortran_order``, ``shape``), then the raw data. bfloat16 has
  no NumPy type string, so, as MLX does, it is written (and read) as ``'<V2'``.
- ``.npz``: a zip archive of ``.npy`` members, stored or deflated.
- ``.safetensors``: an 8-byte little-endian header length, a JSON header mapping each
  name to its dtype, shape and byte range, an optional ``__metadata__`` map of strings,
  then the raw little-endian data.

>>> import mlxpy.core as mx, io
>>> f = io.BytesIO()
>>> mx.save_safetensors(f, {"w": mx.array([1.5, 2.0], dtype=mx.bfloat16)}, {"step": "3"})
>>> _ = f.seek(0)
>>> mx.load(f, format="safetensors", return_metadata=True)
({'w': array([1.5, 2], dtype=bfloat16)}, {'step': '3'})
"""
import ast
import json
import os
import struct
import zipfile

import numpy as np

from . import dtypes as _dt
from .array import array as _array
from .device import resolve_stream

__all__ = ["save", "savez", "savez_compressed", "load", "save_safetensors"]


class FileFormatError(ValueError, RuntimeError):
    """A file that is not a valid ``.npy``/``.npz``/``.safetensors`` file.

    A ValueError, and also a RuntimeError, which is what MLX raises for a bad header,
    so code written against either catches it.
    """


class FileOpenError(FileNotFoundError, RuntimeError):
    """A file that cannot be opened (MLX raises RuntimeError here)."""


_NPY_MAGIC = b"\x93NUMPY"

# NumPy type strings (byte order stripped) of the dtypes mlxpy has.
_NPY_DESCR = {_dt.bool_: "b1", _dt.uint8: "u1", _dt.uint16: "u2", _dt.uint32: "u4",
              _dt.uint64: "u8", _dt.int8: "i1", _dt.int16: "i2", _dt.int32: "i4",
              _dt.int64: "i8", _dt.float16: "f2", _dt.bfloat16: "V2", _dt.float32: "f4",
              _dt.float64: "f8", _dt.complex64: "c8"}
_NPY_BY_DESCR = {v: k for k, v in _NPY_DESCR.items()}

_ST_NAME = {_dt.bool_: "BOOL", _dt.uint8: "U8", _dt.uint16: "U16", _dt.uint32: "U32",
            _dt.uint64: "U64", _dt.int8: "I8", _dt.int16: "I16", _dt.int32: "I32",
            _dt.int64: "I64", _dt.float16: "F16", _dt.bfloat16: "BF16", _dt.float32: "F32",
            _dt.float64: "F64", _dt.complex64: "C64"}
_ST_BY_NAME = {v: k for k, v in _ST_NAME.items()}


# -- helpers ---------------------------------------------------------------------------

def _is_path(file):
    return isinstance(file, (str, os.PathLike))


def _with_extension(file, ext):
    """`file` as a path string ending in `ext` (MLX appends it when missing)."""
    path = os.fspath(file)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    return path if path.endswith(ext) else path + ext


def _check_writable(file, where):
    if _is_path(file):
        return
    if not hasattr(file, "write"):
        raise TypeError(f"[{where}] file must be a path or a writable file-like object, "
                        f"got {type(file).__name__}.")


def _host_of(a, where):
    """The little-endian, C-ordered bytes source (a NumPy array) of an mx.array."""
    if not isinstance(a, _array):
        raise TypeError(f"[{where}] Expected an mx.array, got {type(a).__name__}.")
    h = np.asarray(a._host(), order="C")
    if h.dtype != a.dtype.np:
        h = h.astype(a.dtype.np)
    return h


def _to_bytes(h):
    """Raw little-endian bytes of a native NumPy array (only big-endian hosts swap)."""
    if h.dtype.byteorder == ">" or (h.dtype.byteorder == "=" and np.little_endian is False):
        h = h.byteswap()
    return h.tobytes()


def _open_for_write(file, ext, where):
    _check_writable(file, where)
    if _is_path(file):
        path = _with_extension(file, ext)
        try:
            return open(path, "wb"), True
        except OSError as e:
            raise FileOpenError(e.errno, f"[{where}] Failed to open file {path}", path) from None
    return file, False


def _wrap_host(h, dtype):
    """An mx.array holding the NumPy array `h` of mlxpy dtype `dtype`."""
    if dtype is _dt.bfloat16:
        h = h.view(_dt.bfloat16.np)
    # The dtype is explicit: a NumPy float64 array alone would become float32.
    return _array(h, dtype)


# -- .npy -------------------------------------------------------------------------------

def _npy_header(h, dtype):
    order = "|" if dtype.size == 1 else "<"
    shape = repr(tuple(int(d) for d in h.shape))
    text = f"{{'descr': '{order}{_NPY_DESCR[dtype]}', 'fortran_order': False, 'shape': {shape}, }}"
    # NumPy pads the header with spaces so that the data starts 64-byte aligned.
    body_len = len(text) + 1
    for version, prefix in (((1, 0), 10), ((2, 0), 12)):
        total = prefix + body_len
        pad = (-total) % 64
        size = body_len + pad
        if version == (1, 0) and size >= 2 ** 16:
            continue
        fmt = "<H" if version == (1, 0) else "<I"
        return (_NPY_MAGIC + bytes(version) + struct.pack(fmt, size)
                + (text + " " * pad + "\n").encode("latin1"))


def _write_npy(f, a, where):
    h = _host_of(a, where)
    f.write(_npy_header(h, a.dtype))
    f.write(_to_bytes(h))


def save(file, arr):
    """Save one array to a ``.npy`` file (the extension is appended when missing).

    `file` is a path or a writable binary file object.

    >>> import mlxpy.core as mx, io
    >>> f = io.BytesIO()
    >>> mx.save(f, mx.arange(3))
    >>> _ = f.seek(0)
    >>> mx.load(f, format="npy")
    array([0, 1, 2], dtype=int32)
    """
    if not isinstance(arr, _array):
        raise TypeError(f"[save] Expected an mx.array, got {type(arr).__name__}.")
    f, owned = _open_for_write(file, ".npy", "save")
    try:
        _write_npy(f, arr, "save")
    finally:
        if owned:
            f.close()


def _npy_dtype(descr, name):
    if not isinstance(descr, str) or len(descr) < 2:
        raise ValueError(f"[load] Unsupported array type {descr!r} in file {name} "
                         "(only plain numeric types can be loaded; nothing is unpickled).")
    order, code = descr[0], descr[1:]
    dtype = _NPY_BY_DESCR.get(code)
    if order not in "<>|=" or dtype is None:
        if descr in ("<c16", ">c16"):
            raise ValueError(f"[load] complex128 (in file {name}) is not supported; "
                             "mlxpy has complex64 only.")
        raise ValueError(f"[load] Unsupported array type {descr!r} in file {name} "
                         "(only plain numeric types can be loaded; nothing is unpickled).")
    big = order == ">" or (order == "=" and not np.little_endian)
    np_dtype = np.dtype("u2" if dtype is _dt.bfloat16 else dtype.np)
    return dtype, np_dtype.newbyteorder(">" if big else "<")


def _parse_npy_header(head, name):
    try:
        header = ast.literal_eval(head)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise FileFormatError(f"[load] Invalid header in file {name}: the header is not "
                              "a Python literal.") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise FileFormatError(f"[load] Invalid header in file {name}: expected the keys "
                              "'descr', 'fortran_order' and 'shape'.")
    shape = header["shape"]
    if (not isinstance(shape, tuple)
            or not all(type(d) is int and d >= 0 for d in shape)):
        raise FileFormatError(f"[load] Invalid header in file {name}: bad shape {shape!r}.")
    if not isinstance(header["fortran_order"], bool):
        raise FileFormatError(f"[load] Invalid header in file {name}: bad fortran_order.")
    return header["descr"], header["fortran_order"], shape


def _read_exact(f, n, name, what):
    data = f.read(n)
    if data is None or len(data) < n:
        got = 0 if data is None else len(data)
        raise FileFormatError(f"[load] Truncated file {name}: expected {n} bytes of {what}, "
                              f"found {got}.")
    return data


def _read_npy(f, name):
    magic = f.read(8)
    if len(magic) < 8 or magic[:6] != _NPY_MAGIC:
        raise FileFormatError(f"[load] Invalid header in file {name}: not a .npy file "
                              "(bad magic string).")
    major = magic[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", _read_exact(f, 2, name, "header length"))
    elif major in (2, 3):
        (hlen,) = struct.unpack("<I", _read_exact(f, 4, name, "header length"))
    else:
        raise FileFormatError(f"[load] Unsupported npy format version {major} in file {name}.")
    raw = _read_exact(f, hlen, name, "header")
    try:
        head = raw.decode("utf8" if major == 3 else "latin1")
    except UnicodeDecodeError:
        raise FileFormatError(f"[load] Invalid header in file {name}: cannot decode it.") from None
    descr, fortran, shape = _parse_npy_header(head, name)
    dtype, file_dtype = _npy_dtype(descr, name)
    count = 1
    for d in shape:
        count *= d
    nbytes = count * file_dtype.itemsize
    data = _read_exact(f, nbytes, name, "array data")
    h = np.frombuffer(data, dtype=file_dtype, count=count)
    if file_dtype.byteorder == ">":
        h = h.astype(file_dtype.newbyteorder("<"))
    if fortran and len(shape) > 1:
        h = h.reshape(shape[::-1]).transpose()
    h = np.array(h.reshape(shape), order="C")
    return _wrap_host(h, dtype)


# -- .npz -------------------------------------------------------------------------------

def _savez(file, args, kwargs, compress, where):
    arrays = {}
    for i, a in enumerate(args):
        arrays[f"arr_{i}"] = a
    for k, a in kwargs.items():
        if k in arrays:
            raise ValueError(f"[{where}] Cannot use un-named variables and keyword {k}")
        arrays[k] = a
    for k, a in arrays.items():
        if not isinstance(a, _array):
            raise TypeError(f"[{where}] Expected mx.array values, got {type(a).__name__} "
                            f"for {k!r}.")
    _check_writable(file, where)
    target = _with_extension(file, ".npz") if _is_path(file) else file
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    try:
        zf = zipfile.ZipFile(target, "w", compression=mode, allowZip64=True)
    except OSError as e:
        raise FileOpenError(e.errno, f"[{where}] Failed to open file {target}", target) from None
    with zf:
        for k, a in arrays.items():
            with zf.open(k + ".npy", "w", force_zip64=True) as member:
                _write_npy(member, a, where)


def savez(file, *args, **kwargs):
    """Save several arrays to an uncompressed ``.npz`` file (the extension is appended
    when missing). Positional arrays are named ``arr_0``, ``arr_1``, ...

    >>> import mlxpy.core as mx, io
    >>> f = io.BytesIO()
    >>> mx.savez(f, mx.array([1, 2]), b=mx.array(3.0))
    >>> _ = f.seek(0)
    >>> sorted(mx.load(f, format="npz").items())
    [('arr_0', array([1, 2], dtype=int32)), ('b', array(3, dtype=float32))]
    """
    _savez(file, args, kwargs, False, "savez")


def savez_compressed(file, *args, **kwargs):
    """Save several arrays to a deflate-compressed ``.npz`` file (see `savez`).

    >>> import mlxpy.core as mx, io
    >>> f = io.BytesIO()
    >>> mx.savez_compressed(f, w=mx.zeros((100,)))
    >>> _ = f.seek(0)
    >>> mx.load(f, format="npz")["w"].shape
    (100,)
    """
    _savez(file, args, kwargs, True, "savez_compressed")


def _read_npz(file, name):
    try:
        zf = zipfile.ZipFile(file, "r")
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise FileFormatError(f"[load_npz] Invalid file {name}: input must be a zip file "
                              "(.npz) or a file-like object that zipfile can open.") from None
    out = {}
    with zf:
        for info in zf.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            try:
                with zf.open(info) as member:
                    out[key] = _read_npy(member, f"{name}/{info.filename}")
            except (zipfile.BadZipFile, EOFError, OSError) as e:
                # zlib and CRC errors of a damaged archive member.
                raise FileFormatError(f"[load_npz] Damaged member {info.filename} in file "
                                      f"{name}: {e}") from None
    return out


# -- .safetensors -----------------------------------------------------------------------

def save_safetensors(file, arrays, metadata=None):
    """Save a dict of named arrays (and optional string metadata) to a ``.safetensors``
    file (the extension is appended when missing).

    >>> import mlxpy.core as mx, io
    >>> f = io.BytesIO()
    >>> mx.save_safetensors(f, {"a": mx.array([1, 2], dtype=mx.int64)})
    >>> _ = f.seek(0)
    >>> mx.load(f, format="safetensors")
    {'a': array([1, 2], dtype=int64)}
    """
    if not isinstance(arrays, dict):
        raise TypeError("[save_safetensors] arrays must be a dict of names to mx.arrays, "
                        f"got {type(arrays).__name__}.")
    if metadata is not None and (
            not isinstance(metadata, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise ValueError("[save_safetensors] Metadata must be a dictionary with string keys "
                         "and values")
    for k, a in arrays.items():
        if not isinstance(k, str):
            raise TypeError("[save_safetensors] Array names must be strings, got "
                            f"{type(k).__name__}.")
        if k == "__metadata__":
            raise ValueError("[save_safetensors] '__metadata__' is reserved and cannot name "
                             "an array.")
        if not isinstance(a, _array):
            raise TypeError(f"[save_safetensors] Expected mx.array values, got "
                            f"{type(a).__name__} for {k!r}.")
    header = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    hosts = []
    offset = 0
    for k in sorted(arrays):
        a = arrays[k]
        h = _host_of(a, "save_safetensors")
        header[k] = {"dtype": _ST_NAME[a.dtype], "shape": list(h.shape),
                     "data_offsets": [offset, offset + h.nbytes]}
        offset += h.nbytes
        hosts.append(h)
    text = json.dumps(header, separators=(",", ":")).encode("utf8")
    # The format allows trailing spaces in the header; they align the data to 8 bytes.
    text += b" " * ((-len(text)) % 8)
    f, owned = _open_for_write(file, ".safetensors", "save_safetensors")
    try:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for h in hosts:
            f.write(_to_bytes(h))
    finally:
        if owned:
            f.close()


def _read_safetensors(f, name):
    first = f.read(8)
    if len(first) < 8:
        raise FileFormatError(f"[load_safetensors] Invalid json header length file {name}: "
                              "the file is shorter than 8 bytes.")
    (hlen,) = struct.unpack("<Q", first)
    raw = f.read(hlen) if hlen <= 2 ** 31 else b""
    if len(raw) < hlen:
        raise FileFormatError(f"[load_safetensors] Invalid json header length file {name}: "
                              f"the header claims {hlen} bytes, the file is shorter.")
    try:
        header = json.loads(raw.decode("utf8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FileFormatError(f"[load_safetensors] Invalid json header in file {name}.") from None
    if not isinstance(header, dict):
        raise FileFormatError(f"[load_safetensors] Invalid json header in file {name}: "
                              "expected a JSON object.")
    meta = header.pop("__metadata__", None)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise FileFormatError(f"[load_safetensors] Invalid __metadata__ in file {name}: "
                              "expected a map of strings to strings.")
    entries = []
    end_max = 0
    for k, spec in header.items():
        dtype, shape, begin, end = _tensor_spec(k, spec, name)
        entries.append((k, dtype, shape, begin, end))
        end_max = max(end_max, end)
    data = f.read(end_max) if end_max else b""
    if len(data) < end_max:
        raise FileFormatError(f"[load_safetensors] Truncated file {name}: the header "
                              f"describes {end_max} bytes of data, found {len(data)}.")
    out = {}
    for k, dtype, shape, begin, end in entries:
        np_dtype = np.dtype("<u2" if dtype is _dt.bfloat16 else dtype.np).newbyteorder("<")
        h = np.frombuffer(data, dtype=np_dtype, count=(end - begin) // dtype.size,
                          offset=begin) if end > begin else np.zeros(0, np_dtype)
        h = np.array(h.astype(np_dtype.newbyteorder("=")).reshape(shape), order="C")
        out[k] = _wrap_host(h, dtype)
    return out, meta


def _tensor_spec(key, spec, name):
    bad = f"[load_safetensors] Invalid entry {key!r} in file {name}"
    if not isinstance(spec, dict) or not {"dtype", "shape", "data_offsets"} <= set(spec):
        raise FileFormatError(f"{bad}: expected 'dtype', 'shape' and 'data_offsets'.")
    dtype = _ST_BY_NAME.get(spec["dtype"])
    if dtype is None:
        raise ValueError(f"{bad}: unsupported dtype {spec['dtype']!r}.")
    shape = spec["shape"]
    offsets = spec["data_offsets"]
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise FileFormatError(f"{bad}: bad shape {shape!r}.")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(type(o) is int and o >= 0 for o in offsets)
            or offsets[1] < offsets[0]):
        raise FileFormatError(f"{bad}: bad data_offsets {offsets!r}.")
    count = 1
    for d in shape:
        count *= d
    if offsets[1] - offsets[0] != count * dtype.size:
        raise FileFormatError(f"{bad}: data_offsets span {offsets[1] - offsets[0]} bytes, "
                              f"the shape and dtype need {count * dtype.size}.")
    return dtype, tuple(shape), offsets[0], offsets[1]


# -- load -------------------------------------------------------------------------------

def _infer_format(file):
    if _is_path(file):
        path = os.fspath(file)
        path = os.fsdecode(path) if isinstance(path, bytes) else path
    else:
        path = getattr(file, "name", None)
        if not isinstance(path, str):
            raise ValueError("[load] Could not infer the file format of a file object "
                             "without a name: pass format='npy', 'npz' or 'safetensors'.")
    base = os.path.basename(path)
    if "." not in base:
        raise ValueError("[load] Could not infer file format from extension")
    return base.rsplit(".", 1)[1]


def load(file, /, format=None, return_metadata=False, *, stream=None):
    """Load an array (``.npy``), or a dict of arrays (``.npz``, ``.safetensors``).

    The format comes from the file name's extension unless `format` names it. With
    `return_metadata` (``.safetensors`` only) the result is ``(arrays, metadata)``.
    Files are never unpickled: only plain numeric arrays load.

    >>> import mlxpy.core as mx, io
    >>> f = io.BytesIO()
    >>> mx.save(f, mx.array([[1.0, 2.0]], dtype=mx.bfloat16))
    >>> _ = f.seek(0)
    >>> mx.load(f, format="npy")
    array([[1, 2]], dtype=bfloat16)
    """
    if stream is not None:
        resolve_stream(stream, "load")
    if format is None:
        format = _infer_format(file)
    if not isinstance(format, str):
        raise TypeError(f"[load] format must be a string, got {type(format).__name__}.")
    if format not in ("npy", "npz", "safetensors"):
        if format == "gguf":
            raise ValueError("[load] GGUF files are not supported by mlxpy.")
        raise ValueError(f"[load] Unknown file format {format}")
    if return_metadata and format != "safetensors":
        raise ValueError(f"[load] metadata not supported for format {format}")
    if not _is_path(file) and not hasattr(file, "read"):
        raise TypeError(f"[load] file must be a path or a readable file-like object, got "
                        f"{type(file).__name__}.")
    name = os.fsdecode(os.fspath(file)) if _is_path(file) else getattr(file, "name", "<stream>")
    if _is_path(file):
        try:
            f = open(name, "rb")
        except OSError as e:
            raise FileOpenError(e.errno, f"[load] Failed to open file {name}", name) from None
    else:
        f = file
    try:
        if format == "npy":
            return _read_npy(f, name)
        if format == "npz":
            return _read_npz(f, name)
        arrays, meta = _read_safetensors(f, name)
        return (arrays, meta) if return_metadata else arrays
    finally:
        if f is not file:
            f.close()
