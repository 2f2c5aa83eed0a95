"""Devices and streams, compared with real MLX's CPU build."""
import pytest

import mlxpy.core as mx
from oracle import mlx, needs_mlx

HAS_GPU = mx.is_available(mx.gpu)


def test_device_reprs_and_equality():
    assert repr(mx.cpu) == "DeviceType.cpu"
    assert repr(mx.Device(mx.cpu)) == "Device(cpu, 0)"
    assert mx.Device(mx.cpu) == mx.cpu
    assert mx.Device(mx.cpu, 0) == mx.Device(mx.cpu, 0)
    assert mx.Device(mx.cpu, 0) != mx.Device(mx.gpu, 0)
    assert repr(mx.default_stream(mx.cpu)) == "Stream(Device(cpu, 0), 0)"
    assert mx.default_device() == mx.cpu or HAS_GPU


@needs_mlx
def test_reprs_match_mlx():
    assert repr(mx.Device(mx.cpu)) == repr(mlx.Device(mlx.cpu))
    assert repr(mx.default_stream(mx.cpu)) == repr(mlx.default_stream(mlx.cpu))
    assert repr(mx.gpu) == repr(mlx.gpu)


def test_stream_keyword_accepts_devices_and_streams():
    s = mx.new_stream(mx.cpu)
    assert s != mx.default_stream(mx.cpu)
    for target in (mx.cpu, mx.Device(mx.cpu), s, mx.default_stream(mx.cpu)):
        y = mx.add(mx.array([1, 2]), 1, stream=target)
        assert y.tolist() == [2, 3]
    with pytest.raises(TypeError):
        mx.add(mx.array(1), 1, stream=3)


def test_stream_context_manager_restores_defaults():
    s = mx.new_stream(mx.cpu)
    before = mx.default_stream(mx.cpu)
    with mx.stream(s):
        assert mx.default_stream(mx.cpu) == s
        y = mx.ones(2) * 3
    assert mx.default_stream(mx.cpu) == before
    assert y._node.stream == s
    assert y.tolist() == [3.0, 3.0]


@pytest.mark.usefixtures("on_cpu")
def test_set_default_stream_and_clear_streams():
    s = mx.new_stream(mx.cpu)
    old = mx.default_stream(mx.cpu)
    mx.set_default_stream(s)
    try:
        assert (mx.ones(1) + 1)._node.stream == s
    finally:
        mx.set_default_stream(old)
    mx.clear_streams()
    assert mx.default_stream(mx.cpu).index == 0


def test_synchronize_and_availability():
    mx.synchronize()
    mx.synchronize(mx.cpu)
    mx.synchronize(mx.default_stream(mx.cpu))
    assert mx.is_available(mx.cpu)
    assert mx.metal.is_available() is False
    assert mx.cuda.is_available() == HAS_GPU


@pytest.mark.skipif(HAS_GPU, reason="checks the no-GPU errors")
def test_gpu_work_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="gpu"):
        mx.set_default_device(mx.gpu)
    with pytest.raises(ValueError, match="gpu"):
        mx.ones(2, stream=mx.gpu)
    with pytest.raises(ValueError, match="gpu"):
        mx.new_stream(mx.gpu)
    assert mx.default_device() == mx.cpu


@needs_mlx
@pytest.mark.skipif(HAS_GPU, reason="MLX's CPU build has no GPU")
def test_gpu_errors_match_mlx_exception_types():
    for ours, theirs in [(lambda: mx.set_default_device(mx.gpu), lambda: mlx.set_default_device(mlx.gpu)),
                         (lambda: mx.default_stream(mx.gpu), lambda: mlx.default_stream(mlx.gpu))]:
        with pytest.raises(ValueError):
            theirs()
        with pytest.raises(ValueError):
            ours()
