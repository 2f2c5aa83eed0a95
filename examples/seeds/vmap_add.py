"""Adding rows of one matrix to columns of another: a Python loop against `mx.vmap`.

From MLX's "Function transforms" guide, timings included. Row i of `xs` (4096 x 100) is
added to column i of `ys` (100 x 4096): `vmap` maps axis 0 of `xs` against axis 1 of `ys`.
(One version of MLX's guide loops over `range(xs.shape[1])` with `in_axes=(1, 0)`, which
adds different pairs than the loop; this is the consistent version: both equal
`xs + ys.T`, which the program checks.)

Run: python examples/seeds/vmap_add.py [--number N]
"""
import argparse
import timeit

import mlxpy.core as mx


def naive_add(xs, ys):
    return [xs[i] + ys[:, i] for i in range(xs.shape[0])]


# Vectorize over the first axis of xs and the second axis of ys.
vmap_add = mx.vmap(lambda x, y: x + y, in_axes=(0, 1))


def main(number=100):
    mx.random.seed(0)
    xs = mx.random.uniform(shape=(4096, 100))
    ys = mx.random.uniform(shape=(100, 4096))
    mx.eval(xs, ys)

    looped = mx.stack(naive_add(xs, ys))
    vectorized = vmap_add(xs, ys)
    same = mx.array_equal(looped, vectorized).item() and \
        mx.array_equal(vectorized, xs + ys.T).item()
    print("result shape:", vectorized.shape, "| loop, vmap and xs + ys.T agree:", same)

    naive_s = timeit.timeit(lambda: mx.eval(naive_add(xs, ys)), number=number)
    vmap_s = timeit.timeit(lambda: mx.eval(vmap_add(xs, ys)), number=number)
    print(f"naive loop: {naive_s:.3f} s for {number} calls")
    print(f"vmap:       {vmap_s:.3f} s for {number} calls ({naive_s / vmap_s:.0f}x faster)")
    return same, naive_s, vmap_s


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--number", type=int, default=100, help="calls timed per version")
    main(parser.parse_args().number)
