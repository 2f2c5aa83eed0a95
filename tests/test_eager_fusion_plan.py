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


# -- repeated graphs as programs (eager_programs.py) -----------------------------------------
#
# Device-independent too: the graph's stream counts as "the GPU" and the program runs
# through compile's NumPy runner.

def _run_as_program(order):
    from mlxpy.core import eager_programs
    from mlxpy.core.backend import array_module
    from mlxpy.core.transforms.compiler import run_program
    xp = array_module(DeviceType.cpu)
    # host_data: a shared scalar constant may have moved to a GPU in an earlier test.
    return eager_programs.run(order, DeviceType.cpu, lambda s: None, device_eval.host_data,
                              lambda prog, ins: run_program(prog, xp, ins))


def _step(x, w):
    h = mx.maximum(x @ w + 1, 0)
    held = mx.exp(h * 0.5)
    return held, (held * 2 - h).sum(axis=-1) + 0.25


def test_a_repeated_graph_runs_as_a_program_giving_what_others_can_read():
    from mlxpy.core import eager_programs
    eager_programs.clear()
    rng = np.random.default_rng(0)
    ran = []
    with mx.stream(mx.cpu):
        for _ in range(3):
            xh, wh = rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(4, 5)).astype(np.float32)
            x, w = mx.array(xh), mx.array(wh)
            held, out = _step(x, w)
            order = topo_sort([out._node, held._node])
            ran.append(_run_as_program(order))
            if not ran[-1]:
                mx.eval(held, out)
                continue
            # Only the two values someone holds are outputs; the 7 others are never seen.
            entry = next(v for v in eager_programs._programs.values()
                         if type(v) is eager_programs._Entry)
            assert len(entry.output_nodes) == 2 and len(order) == 9
            h = np.maximum(xh @ wh + 1, 0)
            np.testing.assert_allclose(np.array(held), np.exp(h * 0.5), rtol=1e-6)
            np.testing.assert_allclose(np.array(out), (np.exp(h * 0.5) * 2 - h).sum(-1) + 0.25,
                                       rtol=1e-5)
    assert ran == [False, True, True]


def test_programs_are_keyed_by_what_is_held_and_by_scalar_values():
    from mlxpy.core import eager_programs
    eager_programs.clear()
    with mx.stream(mx.cpu):
        x, w = mx.ones((3, 4)), mx.ones((4, 5))
        mx.eval(x, w)

        def order_of(scale, hold):
            h = mx.maximum(x @ w + 1, 0)
            y = mx.exp(h * scale)
            z = (y * 2 - h).sum(axis=-1) + 0.25
            return topo_sort([z._node]), (y if hold else None), z
        keys = []
        for scale, hold in ((0.5, False), (0.5, True), (0.25, False)):
            order, y, z = order_of(scale, hold)
            keys.append(eager_programs._signature(order, DeviceType.cpu)[0])
            del order
        assert len(set(keys)) == 3


def test_graphs_with_a_placeholder_or_few_nodes_run_node_by_node():
    from mlxpy.core import eager_programs
    eager_programs.clear()
    with mx.stream(mx.cpu):
        x = mx.ones((3,))
        mx.eval(x)
        small = topo_sort([(x + 1)._node])
        assert not _run_as_program(small) and not _run_as_program(small)
        large = x
        for _ in range(eager_programs.MAX_NODES // 2 + 1):
            large = mx.exp(large) - 1
        large = topo_sort([large._node])
        assert not _run_as_program(large) and not _run_as_program(large)
        cf = mx.compile(lambda a: mx.exp(a) * 2)
        big = x
        for _ in range(10):
            big = cf(big) - 1
        order = topo_sort([big._node])
        assert eager_programs._signature(order, DeviceType.cpu) is None
