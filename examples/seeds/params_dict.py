"""Gradients with respect to a dictionary of parameters come back as a dictionary.

From MLX's "Function transforms" guide: `mx.grad` accepts any nest of lists, tuples and
dicts of arrays as the argument it differentiates, and returns the gradients in the same
structure. `mx.stop_gradient` cuts a path out of the differentiation.

Run: python examples/seeds/params_dict.py
"""
import mlxpy.core as mx


def loss_fn(params, x, y):
    w, b = params["weight"], params["bias"]
    h = w * x + b
    return mx.mean(mx.square(h - y))


params = {"weight": mx.array(1.0), "bias": mx.array(0.0)}
x = mx.array([0.5, -0.5])
y = mx.array([1.5, -1.5])

grads = mx.grad(loss_fn)(params, x, y)
print(grads)


# With the bias frozen by stop_gradient, its gradient is zero and the weight's is unchanged.
def frozen_bias_loss(params, x, y):
    return loss_fn({"weight": params["weight"], "bias": mx.stop_gradient(params["bias"])}, x, y)


params = {"weight": mx.array(1.0), "bias": mx.array(0.5)}
print(mx.grad(frozen_bias_loss)(params, x, y))
