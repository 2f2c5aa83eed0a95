"""mx.save / savez / savez_compressed / save_safetensors / load, against real MLX."""
import io
import json
import struct
import zipfile

import ml_dtypes
import numpy as np
import pytest

import mlxpy.core as mx
from tests.oracle import mlx, needs_mlx, DTYPE_NAMES

SAFETENSOR_DTYPES = [d for d in DTYPE_NAMES if d != "float64"]  # MLX refuses F64


def _sample(name, shape=(3, 4)):
    """Values with edge cases (nan with payload bits, -0, inf, extremes) in dtype `name`."""
    d = getattr(mx, name).np if name != "bool_" else np.bool_
    n = int(np.prod(shape))
    if name == "bool_":
        h = (np.arange(n) % 3 == 0)
    elif np.dtype(d).kind in "iu":
        info = np.iinfo(d)
        edges = [int(info.min), int(info.max), 0, 1, int(info.max) - 1, int(info.min) + 1, 7]
        h = np.array((edges * (n // 7 + 1))[:n], dtype=d)
    else:
        base = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.5, -2.25, 1e-3, 65504, 3.0,
                         -7.0, 0.1] * (n // 12 + 1))[:n]
        h = base.astype(np.complex64 if name == "complex64" else d)
        if name == "complex64":
            h.imag = base[::-1]
    return h.reshape(shape)


def _mx_array(h, name):
    return mx.array(h, dtype=getattr(mx, name))


def _bits(a):
    h = np.array(a)
    return h.shape, h.tobytes()


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert _bits(a) == _bits(b)


@pytest.mark.parametrize("name", DTYPE_NAMES)
@pytest.mark.parametrize("shape", [(), (0,), (5,), (3, 4), (2, 0, 3), (2, 3, 2)])
def test_npy_roundtrip_bit_exact(tmp_path, name, shape):
    a = _mx_array(_sample(name, (int(np.prod(shape)),)).reshape(shape), name)
    mx.save(tmp_path / "x.npy", a)
    _same_bits(mx.load(tmp_path / "x.npy"), a)
    mx.savez(tmp_path / "z.npz", a, k=a)
    out = mx.load(tmp_path / "z.npz")
    assert set(out) == {"arr_0", "k"}
    _same_bits(out["arr_0"], a)
    _same_bits(out["k"], a)
    mx.savez_compressed(tmp_path / "c", a)
    _same_bits(mx.load(tmp_path / "c.npz")["arr_0"], a)
    mx.save_safetensors(tmp_path / "s", {"a": a})
    _same_bits(mx.load(tmp_path / "s.safetensors")["a"], a)


def test_transposed_and_sliced_arrays_save_in_logical_order(tmp_path):
    a = mx.arange(24).reshape(2, 3, 4).transpose(2, 0, 1)[::2]
    mx.save(tmp_path / "t", a)
    assert np.array_equal(np.array(mx.load(tmp_path / "t.npy")), np.array(a))
    assert np.array_equal(np.load(tmp_path / "t.npy"), np.array(a))


@needs_mlx
@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_npy_npz_cross_load_with_mlx(tmp_path, name):
    h = _sample(name)
    ours = _mx_array(h, name)
    mx.save(tmp_path / "ours", ours)
    mx.savez(tmp_path / "ours", w=ours)
    mx.savez_compressed(tmp_path / "ours_c", w=ours)
    for got in (mlx.load(str(tmp_path / "ours.npy")), mlx.load(str(tmp_path / "ours.npz"))["w"],
                mlx.load(str(tmp_path / "ours_c.npz"))["w"]):
        assert str(got.dtype).split(".")[-1] == ours.dtype.name or (
            name == "bool_" and got.dtype == mlx.bool_)
        assert tuple(got.shape) == ours.shape
        _compare_mlx_bits(got, ours)
    # And the other way: files MLX writes.
    theirs = mlx.load(str(tmp_path / "ours.npy"))
    mlx.save(str(tmp_path / "theirs.npy"), theirs)
    mlx.savez(str(tmp_path / "theirs.npz"), theirs, w=theirs)
    _same_bits(mx.load(tmp_path / "theirs.npy"), ours)
    loaded = mx.load(tmp_path / "theirs.npz")
    _same_bits(loaded["arr_0"], ours)
    _same_bits(loaded["w"], ours)


def _compare_mlx_bits(got, ours):
    if got.dtype == mlx.bfloat16:
        got_bits = np.array(got.view(mlx.uint16))
        assert np.array_equal(got_bits, np.array(ours).view(np.uint16))
        return
    assert np.array(got).tobytes() == np.array(ours).tobytes()


@needs_mlx
@pytest.mark.parametrize("name", SAFETENSOR_DTYPES)
def test_safetensors_cross_load_with_mlx(tmp_path, name):
    ours = _mx_array(_sample(name), name)
    mx.save_safetensors(tmp_path / "ours", {"w": ours, "s": mx.array(2.0)}, {"k": "v"})
    got, meta = mlx.load(str(tmp_path / "ours.safetensors"), return_metadata=True)
    assert meta == {"k": "v"}
    _compare_mlx_bits(got["w"], ours)
    mlx.save_safetensors(str(tmp_path / "theirs"), {"w": got["w"]}, metadata={"a": "b"})
    arrays, meta = mx.load(tmp_path / "theirs.safetensors", return_metadata=True)
    assert meta == {"a": "b"}
    _same_bits(arrays["w"], ours)
    mlx.save_safetensors(str(tmp_path / "nometa"), {"w": got["w"]})
    arrays, meta = mx.load(str(tmp_path / "nometa.safetensors"), return_metadata=True)
    assert meta == {}


def test_safetensors_float64_round_trips(tmp_path):
    a = mx.array([1.0, 1e300, -0.0], dtype=mx.float64)
    mx.save_safetensors(tmp_path / "f", {"a": a})
    _same_bits(mx.load(tmp_path / "f.safetensors")["a"], a)


def test_safetensors_layout_follows_the_spec():
    f = io.BytesIO()
    mx.save_safetensors(f, {"b": mx.array([1, 2], dtype=mx.int16),
                            "a": mx.array([1.5], dtype=mx.bfloat16)}, {"m": "x"})
    raw = f.getvalue()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n])
    assert header["__metadata__"] == {"m": "x"}
    assert header["a"] == {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}
    assert header["b"] == {"dtype": "I16", "shape": [2], "data_offsets": [2, 6]}
    data = raw[8 + n:]
    assert data == np.array([1.5], ml_dtypes.bfloat16).tobytes() + np.array([1, 2], "<i2").tobytes()


def test_bfloat16_npy_uses_mlx_void_convention():
    f = io.BytesIO()
    mx.save(f, mx.array([1.5], dtype=mx.bfloat16))
    assert b"'descr': '<V2'" in f.getvalue()
    assert (len(f.getvalue().split(b"\n")[0]) + 1) % 64 == 0  # NumPy's data alignment
    # ml_dtypes' own np.save of bfloat16 writes the same descr.
    g = io.BytesIO()
    np.save(g, np.array([1.5, -2], dtype=ml_dtypes.bfloat16))
    g.seek(0)
    out = mx.load(g, format="npy")
    assert out.dtype == mx.bfloat16 and out.tolist() == [1.5, -2.0]


def test_file_like_objects():
    for saver, fmt in [(lambda f: mx.save(f, mx.arange(3)), "npy"),
                       (lambda f: mx.savez(f, a=mx.arange(3)), "npz"),
                       (lambda f: mx.savez_compressed(f, a=mx.arange(3)), "npz"),
                       (lambda f: mx.save_safetensors(f, {"a": mx.arange(3)}), "safetensors")]:
        f = io.BytesIO()
        saver(f)
        f.seek(0)
        out = mx.load(f, format=fmt)
        out = out if fmt == "npy" else out["a"]
        assert out.tolist() == [0, 1, 2]


def test_open_file_objects_infer_format_from_name(tmp_path):
    p = tmp_path / "a.npy"
    with open(p, "wb") as f:
        mx.save(f, mx.arange(2))
    with open(p, "rb") as f:
        assert mx.load(f).tolist() == [0, 1]
    with pytest.raises(ValueError):
        mx.load(io.BytesIO(p.read_bytes()))


@needs_mlx
def test_extensions_are_appended_like_mlx(tmp_path):
    for lib, sub in ((mx, "ours"), (mlx, "theirs")):
        d = tmp_path / sub
        d.mkdir()
        lib.save(str(d / "a.txt"), lib.array([1]))
        lib.save(str(d / "b.npy"), lib.array([1]))
        lib.savez(str(d / "c.zip"), lib.array([1]))
        lib.savez_compressed(str(d / "e.npz"), lib.array([1]))
        lib.save_safetensors(str(d / "f.bin"), {"a": lib.array([1])})
        lib.save_safetensors(str(d / "g.safetensors"), {"a": lib.array([1])})
    assert sorted(p.name for p in (tmp_path / "ours").iterdir()) == \
        sorted(p.name for p in (tmp_path / "theirs").iterdir())


@needs_mlx
def test_load_errors_match_mlx_types(tmp_path):
    mx.save(tmp_path / "a.txt", mx.array([1]))
    cases = [
        lambda lib: lib.load(str(tmp_path / "a.txt")),          # unknown extension
        lambda lib: lib.load(str(tmp_path / "noext")),          # no extension
        lambda lib: lib.load(str(tmp_path / "a.txt.npy"), format="xyz"),
        lambda lib: lib.load(str(tmp_path / "a.txt.npy"), return_metadata=True),
        lambda lib: lib.load(str(tmp_path / "missing.npy")),
        lambda lib: lib.savez(str(tmp_path / "y"), lib.array([1]), arr_0=lib.array([2])),
        lambda lib: lib.save_safetensors(str(tmp_path / "s"), {"a": lib.array([1])},
                                         metadata={"a": 1}),
        lambda lib: lib.save(str(tmp_path / "x"), [1, 2]),
    ]
    for c in cases:
        with pytest.raises(Exception) as theirs:
            c(mlx)
        with pytest.raises(type(theirs.value)) as ours:
            c(mx)
        assert str(ours.value).startswith("[")


def _npy_bytes(header, data=b"", version=1):
    text = header.encode("latin1") + b"\n"
    size = struct.pack("<H" if version == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text + data


@pytest.mark.parametrize("raw,fmt", [
    (b"", "npy"),
    (b"garbage" * 10, "npy"),
    (b"\x93NUMPY\x01\x00\xff", "npy"),                                      # short length
    (_npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", b"\0" * 8), "npy"),
    (_npy_bytes("{'descr': '<i4', 'fortran_order': False, }"), "npy"),       # no shape
    (_npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (-1,), }"), "npy"),
    (_npy_bytes("__import__('os').system('true')"), "npy"),               # code, not literal
    (_npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", b"\0" * 4, 9),
     "npy"),                                                                 # bad version
    (b"garbage" * 10, "npz"),
    (b"", "safetensors"),
    (b"garbage" * 10, "safetensors"),
    (struct.pack("<Q", 5) + b"{\"a\":", "safetensors"),                     # bad json
    (struct.pack("<Q", 2) + b"[]", "safetensors"),
    (struct.pack("<Q", 60) + b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}    ',
     "safetensors"),                                                         # truncated data
    (struct.pack("<Q", 60) + b'{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}    '
     + b"\0" * 8, "safetensors"),                                            # size mismatch
    (struct.pack("<Q", 60) + b'{"a":{"dtype":"X32","shape":[2],"data_offsets":[0,8]}}    '
     + b"\0" * 8, "safetensors"),                                            # unknown dtype
])
def test_malformed_files_raise_value_error(tmp_path, raw, fmt):
    p = tmp_path / f"bad.{fmt}"
    p.write_bytes(raw)
    with pytest.raises(ValueError, match=r"^\[load"):
        mx.load(p)
    with pytest.raises(ValueError):
        mx.load(io.BytesIO(raw), format=fmt)


def test_malformed_header_is_also_a_runtime_error_as_in_mlx(tmp_path):
    p = tmp_path / "bad.npy"
    p.write_bytes(b"garbage")
    with pytest.raises(RuntimeError):
        mx.load(p)


def test_truncated_npz_member(tmp_path):
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("a.npy", _npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                                       b"\0" * 4))
    f.seek(0)
    with pytest.raises(ValueError, match="Truncated"):
        mx.load(f, format="npz")


def test_pickled_npy_is_refused_not_unpickled(tmp_path):
    np.save(tmp_path / "o.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="unpickled"):
        mx.load(tmp_path / "o.npy")
    np.save(tmp_path / "u.npy", np.array(["ab"]))
    with pytest.raises(ValueError):
        mx.load(tmp_path / "u.npy")
    np.save(tmp_path / "c.npy", np.array([1 + 1j]))
    with pytest.raises(ValueError, match="complex128"):
        mx.load(tmp_path / "c.npy")


def test_numpy_written_files(tmp_path):
    np.save(tmp_path / "f.npy", np.asfortranarray(np.arange(6).reshape(2, 3)))
    out = mx.load(tmp_path / "f.npy")
    assert out.dtype == mx.int64 and out.tolist() == [[0, 1, 2], [3, 4, 5]]
    np.save(tmp_path / "b.npy", np.arange(3, dtype=">i4"))
    assert mx.load(tmp_path / "b.npy").tolist() == [0, 1, 2]
    np.save(tmp_path / "d.npy", np.array([1.5, -2.0], dtype=">f8"))
    out = mx.load(tmp_path / "d.npy")
    assert out.dtype == mx.float64 and out.tolist() == [1.5, -2.0]
    for version in [(2, 0), (3, 0)]:
        with open(tmp_path / "v.npy", "wb") as f:
            np.lib.format.write_array(f, np.arange(3, dtype=np.float32), version=version)
        assert mx.load(tmp_path / "v.npy").tolist() == [0, 1, 2]
    np.savez(tmp_path / "n.npz", x=np.arange(3), y=np.ones((2, 2), dtype=np.float16))
    out = mx.load(tmp_path / "n.npz")
    assert out["x"].dtype == mx.int64 and out["y"].dtype == mx.float16
    # And NumPy reads ours.
    mx.savez_compressed(tmp_path / "m", a=mx.arange(4).reshape(2, 2))
    assert np.load(tmp_path / "m.npz")["a"].tolist() == [[0, 1], [2, 3]]


def test_save_argument_errors():
    f = io.BytesIO()
    with pytest.raises(TypeError, match=r"^\[save\]"):
        mx.save(f, np.arange(3))
    with pytest.raises(TypeError, match=r"^\[savez\]"):
        mx.savez(f, [1, 2])
    with pytest.raises(TypeError, match=r"^\[save_safetensors\]"):
        mx.save_safetensors(f, {"a": [1]})
    with pytest.raises(TypeError):
        mx.save_safetensors(f, {1: mx.array(1)})
    with pytest.raises(ValueError, match="Metadata"):
        mx.save_safetensors(f, {"a": mx.array(1)}, {"k": 1})
    with pytest.raises(ValueError, match="GGUF"):
        mx.load(f, format="gguf")
