"""Which eager nodes the GPU evaluation fuses (device_eval._eager_regions).

The plan itself is device-independent: these tests build graphs on the CPU and ask
for the plan as if their stream were on the GPU. The kernels themselves are tested in
test_gpu.py, where a GPU is present.
"""
import numpy as np
import pytest

import mlxpy.core as mx
from mlxpy.core import device_eval
from mlxpy.core.device import DeviceType
from mlxpy.core.graph import topo_sort


@pytest.fixture
def plan(monkeypatch):
    monkeypatch.setattr(device_eval, "_gpu", DeviceType.cpu)

    def regions(*arrays):
        order = topo_sort([a._node for a in arrays])
        found, _ = device_eval._eager_regions(order)
        by_id = {id(n): n for n in order}
        return sorted(([type(m.prim).__name__ for m in members], type(by_id[k].prim).__name__)
                      for k, members in (found or {}).items())
    return regions


def test_private_chains_fuse(plan):
    with mx.stream(mx.cpu):
        x, b = mx.ones((4, 8)), mx.ones((8,))
        mx.eval(x, b)
        y = mx.maximum(x + b, 0)
        g = (x > 0).astype(mx.float32) * y
        assert plan(y, g) == [(["Add"], "Maximum"), (["Greater", "AsType"], "Multiply")]


def test_values_someone_can_read_are_not_absorbed(plan):
    with mx.stream(mx.cpu):
        x = mx.ones((4, 8))
        mx.eval(x)
        held = x + 1
        y = mx.exp(held)                  # held has a handle
        u = mx.sin(x)
        z = mx.cos(u)
        other = u * 2                     # a graph not evaluated now reads u
        del u
        both = mx.tanh(x)
        w = both * both                   # two uses in this graph
        assert plan(y, z, w) == []
        assert other.shape == (4, 8)


def test_shape_changes_and_non_elementwise_steps_break_chains(plan):
    with mx.stream(mx.cpu):
        x = mx.ones((4, 8))
        mx.eval(x)
        y = x + mx.exp(mx.ones((8,)) * 2)   # (8,) feeding a (4, 8) step: its own region
        s = mx.sum(mx.exp(x) + 1, axis=0) * 3
        assert plan(y, s) == [(["Exp"], "Add"), (["Multiply"], "Exp")]
        np.testing.assert_allclose(np.array(s), np.full(8, 4 * (np.e + 1) * 3), rtol=1e-6)



def test_long_chains_split_into_bounded_regions_in_linear_time(plan):
    with mx.stream(mx.cpu):
        x = mx.ones((3,))
        mx.eval(x)
        for _ in range(20000):
            x = x * 1.0001
        order = topo_sort([x._node])
        found, absorbed = device_eval._eager_regions(order)
        sizes = sorted(len(m) + 1 for m in found.values())
        assert sum(sizes) == 20000 and max(sizes) == device_eval.MAX_REGION_STEPS
        assert len(absorbed) == 20000 - len(found)
        np.testing.assert_allclose(np.array(x), np.full(3, 1.0001 ** 20000), rtol=1e-3)
