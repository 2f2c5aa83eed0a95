import os

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seeded():
    np.random.seed(0)
    yield


@pytest.fixture
def on_cpu():
    """Run a test on the CPU even where the GPU is the default device: for tests of
    the NumPy backend's own behaviour (shared buffers, its allocator, threaded fusion)."""
    import mlxpy.core as mx
    previous = mx.default_device()
    mx.set_default_device(mx.cpu)
    try:
        yield
    finally:
        mx.set_default_device(previous)


def pytest_collection_modifyitems(items):
    # Docstring examples show the CPU's printed output (the last printed digit of a
    # float can differ on the GPU), so doctests run on the CPU everywhere.
    for item in items:
        if item.name.startswith(("test_doctests", "test_docstring_examples")):
            item.fixturenames.append("on_cpu")
