"""A first look at mlxpy: lazy arrays, MLX's dtypes, and evaluation.

Run: python examples/quickstart.py
"""
import mlxpy.core as mx

x = mx.array([1.0, 2.0, 3.0])
y = mx.exp(x) * 2 + 1            # builds a graph; nothing is computed yet
mx.eval(y)                       # now it is
print("y =", y)
print("int32 + Python float:", (mx.array([1, 2]) + 0.5).dtype)

key = mx.random.key(0) if hasattr(mx.random, "key") else None
if key is not None:
    print("normal samples:", mx.random.normal((3,), key=key))
