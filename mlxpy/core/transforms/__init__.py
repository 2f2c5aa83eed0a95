"""Function transforms: autodiff (vjp, jvp, grad, value_and_grad), vmap, compile."""
from .autodiff import vjp, jvp, grad, value_and_grad
from .vmap import vmap
from .compiler import compile, disable_compile, enable_compile, export_to_dot

__all__ = ["vjp", "jvp", "grad", "value_and_grad", "vmap", "compile", "disable_compile",
           "enable_compile", "export_to_dot"]
