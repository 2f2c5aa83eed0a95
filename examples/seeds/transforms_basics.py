"""The short examples from the curated notes on MLX's transforms.

Plain functions of arrays, evaluated lazily; `mx.grad` and `mx.value_and_grad` of a mean
squared error; `mx.vmap` of an elementwise and of a scalar-valued function; and the two
composed: `mx.vmap(mx.grad(fn))` gives one gradient per row.

Run: python examples/seeds/transforms_basics.py
"""
import mlxpy.core as mx


def my_sum(x, y):
    return x + y


c = my_sum(mx.array([1, 2, 3]), mx.array([4, 5, 6]))
mx.eval(c)
print("my_sum:", c)


def mse_loss(w, x, y):
    return mx.mean((w * x - y) ** 2)


w, x, y = mx.array(1.0), mx.array([0.5, -0.5]), mx.array([1.5, -1.5])
print("grad:", mx.grad(mse_loss)(w, x, y))
loss, grad_w = mx.value_and_grad(mse_loss)(w, x, y)
print("value_and_grad:", loss, grad_w)

print("vmap(x * 2):", mx.vmap(lambda x: x * 2)(mx.array([[1, 2], [3, 4]])))


def scalar_fn(a):
    return mx.sum(a * a)


A = mx.arange(8, dtype=mx.float32).reshape(4, 2)
print("vmap(scalar_fn):", mx.vmap(scalar_fn)(A))             # one sum of squares per row
print("vmap(grad(scalar_fn)):", mx.vmap(mx.grad(scalar_fn))(A))   # 2 * A, row by row

# The training workhorse: loss and gradient of a random least-squares problem.
mx.random.seed(0)
w = mx.random.normal((16,))
x = mx.random.normal((32, 16))
loss, grad = mx.value_and_grad(lambda w: mx.mean((x @ w) ** 2))(w)
print("random least squares: loss > 0:", loss.item() > 0, "| grad shape:", grad.shape)
