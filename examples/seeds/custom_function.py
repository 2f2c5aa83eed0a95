"""`mx.custom_function`: your own vjp, jvp and vmap rules for a function.

From the `mx.custom_function` reference. Its example as published does not run: the vjp
names its parameter `cotangent` but uses `cotan` (a `NameError` at the first gradient),
and its vmap rule swaps the axes of an unbatched `y` and reports an output batched along
axis 0 as unbatched (`ax or ay` is `None` when `ax` is 0 and `ay` is `None`). Here it is
corrected, then the reference's second example: arrays a custom function captures from
outside are constants, so no gradient reaches them.

Run: python examples/seeds/custom_function.py
"""
import mlxpy.core as mx


@mx.custom_function
def f(x, y):
    return mx.sin(x) * y


@f.vjp
def f_vjp(primals, cotangent, output):
    x, y = primals
    return cotangent * mx.cos(x) * y, cotangent * mx.sin(x)


@f.jvp
def f_jvp(primals, tangents):
    x, y = primals
    dx, dy = tangents
    return dx * mx.cos(x) * y + dy * mx.sin(x)


@f.vmap
def f_vmap(inputs, axes):
    x, y = inputs
    ax, ay = axes
    if ax is not None and ay is not None and ay != ax:
        y = y.swapaxes(ay, ax)
    return mx.sin(x) * y, (ax if ax is not None else ay)


x, y = mx.array(0.5), mx.array(2.0)
print("f(x, y):", f(x, y))
dx, dy = mx.grad(f, argnums=(0, 1))(x, y)
print("vjp: df/dx =", dx.item(), "(2 cos 0.5) | df/dy =", dy.item(), "(sin 0.5)")
_, (tangent,) = mx.jvp(f, [x, y], [mx.array(1.0), mx.array(0.0)])
print("jvp along x:", tangent.item())
print("vmap over x:", mx.vmap(f, in_axes=(0, None))(mx.array([0.0, 0.5]), y))
# Both batched, y along its second axis: the rule moves y's batch axis to x's.
xs = mx.array([[0.0, 0.5], [1.0, 1.5], [2.0, 2.5]])
ys = mx.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
batched = mx.vmap(f, in_axes=(0, 1))(xs, ys)
plain = mx.vmap(lambda x, y: mx.sin(x) * y, in_axes=(0, 1))(xs, ys)
print("vmap over both:", batched)
print("same as vmap of the plain function:", mx.allclose(batched, plain).item())


def g(x, y):
    @mx.custom_function
    def h(x):
        return x * y

    @h.vjp
    def h_vjp(x, dx, hx):
        # Only x, its cotangent and the output arrive: nothing about the captured y.
        raise ValueError("Abort!")

    return h(x)


x, y = mx.array(2.0), mx.array(3.0)
print("g(x, y):", g(x, y))
try:
    mx.grad(g)(x, y)
except ValueError as e:
    print("grad with respect to x calls the vjp, which raises:", e)
print("grad with respect to the captured y:", mx.grad(g, argnums=1)(x, y))
