"""Recurrent layers: `RNN`, `GRU` and `LSTM`, unrolled over the sequence axis in Python.

Inputs are ``(N, L, D)`` or ``(L, D)``: any leading axes are batch axes, the second to last
is time and the last is features. Every layer returns the state at each time step, stacked
on the time axis.
"""
import math

from ... import core as mx
from .activations import tanh
from .base import Module

__all__ = ["RNN", "GRU", "LSTM"]


def _uniform_init(hidden_size, *shapes):
    """Weights drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), one per shape, in
    order: the draw order is what makes a seeded init equal MLX's."""
    bound = 1.0 / math.sqrt(hidden_size)
    return [mx.random.uniform(low=-bound, high=bound, shape=shape) for shape in shapes]


def _check_sequence(name, x):
    """A sequence has a time axis and a feature axis; an empty one has no outputs to stack."""
    if x.ndim < 2:
        # MLX fails here on the missing time axis with an IndexError; keep the type.
        raise IndexError(f"[{name}] Expected an input of shape (..., L, D) with a time axis, "
                         f"got shape {tuple(x.shape)}.")
    if x.shape[-2] == 0:
        raise ValueError(f"[{name}] The input sequence is empty (shape {tuple(x.shape)}); "
                         "there is no time step to return.")


def _project_inputs(x, weight, bias):
    """All time steps' input projections ``x @ weight.T + bias`` in one matmul."""
    if bias is None:
        return x @ weight.T
    return mx.addmm(bias, x, weight.T)


class RNN(Module):
    """An Elman recurrent layer: ``h[t+1] = nonlinearity(Wxh x[t] + Whh h[t] + bias)``.

    Args:
        input_size (int): features per time step, ``D``.
        hidden_size (int): size of the hidden state, ``H``.
        bias (bool): learn a bias. Default ``True``.
        nonlinearity (callable, optional): the activation; ``tanh`` when ``None``.

    Called as ``rnn(x, hidden=None)``: returns the hidden states, shape ``(N, L, H)`` or
    ``(L, H)``. ``hidden`` is the initial state (zeros when ``None``).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> rnn = nn.RNN(3, 5)
    >>> rnn(mx.zeros((2, 7, 3))).shape
    (2, 7, 5)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity=None):
        super().__init__()
        self.nonlinearity = nonlinearity or tanh
        if not callable(self.nonlinearity):
            raise ValueError(f"[RNN] The nonlinearity must be callable, got {nonlinearity!r}.")
        self.hidden_size = hidden_size
        self.Wxh, self.Whh = _uniform_init(hidden_size, (hidden_size, input_size),
                                           (hidden_size, hidden_size))
        self.bias = _uniform_init(hidden_size, (hidden_size,))[0] if bias else None

    def _extra_repr(self):
        return (f"input_dims={self.Wxh.shape[1]}, hidden_size={self.hidden_size}, "
                f"nonlinearity={self.nonlinearity}, bias={self.bias is not None}")

    def __call__(self, x, hidden=None):
        _check_sequence("RNN", x)
        x = _project_inputs(x, self.Wxh, self.bias)
        states = []
        for t in range(x.shape[-2]):
            pre = x[..., t, :]
            if hidden is not None:
                pre = mx.addmm(pre, hidden, self.Whh.T)
            hidden = self.nonlinearity(pre)
            states.append(hidden)
        return mx.stack(states, axis=-2)


class GRU(Module):
    """A gated recurrent unit layer.

    Per step, with gates packed ``[r, z, n]`` along the rows of ``Wx`` and ``Wh``::

        r, z = sigmoid(Wx_rz x + Wh_rz h + b_rz)
        n    = tanh(Wx_n x + b_n + r * (Wh_n h + bhn))
        h    = (1 - z) * n + z * h

    Args:
        input_size (int): features per time step, ``D``.
        hidden_size (int): size of the hidden state, ``H``.
        bias (bool): learn the biases ``b`` and ``bhn``. Default ``True``.

    Called as ``gru(x, hidden=None)``: returns the hidden states, shape ``(N, L, H)`` or
    ``(L, H)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> gru = nn.GRU(3, 4)
    >>> gru(mx.zeros((6, 3))).shape
    (6, 4)
    """

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.Wx, self.Wh = _uniform_init(hidden_size, (3 * hidden_size, input_size),
                                         (3 * hidden_size, hidden_size))
        if bias:
            self.b, self.bhn = _uniform_init(hidden_size, (3 * hidden_size,), (hidden_size,))
        else:
            self.b = self.bhn = None

    def _extra_repr(self):
        return (f"input_dims={self.Wx.shape[1]}, hidden_size={self.hidden_size}, "
                f"bias={self.b is not None}")

    def __call__(self, x, hidden=None):
        _check_sequence("GRU", x)
        x = _project_inputs(x, self.Wx, self.b)
        gates_x, candidate_x = x[..., :-self.hidden_size], x[..., -self.hidden_size:]
        states = []
        for t in range(x.shape[-2]):
            gates = gates_x[..., t, :]
            # The candidate's recurrent term sits inside the reset gate's product, so it
            # keeps its own bias bhn; with no previous state it is bhn alone.
            recurrent_n = self.bhn
            if hidden is not None:
                projected = hidden @ self.Wh.T
                gates = gates + projected[..., :-self.hidden_size]
                recurrent_n = projected[..., -self.hidden_size:]
                if self.bhn is not None:
                    recurrent_n = recurrent_n + self.bhn
            reset, update = mx.split(mx.sigmoid(gates), 2, axis=-1)
            candidate = candidate_x[..., t, :]
            if recurrent_n is not None:
                candidate = candidate + reset * recurrent_n
            candidate = mx.tanh(candidate)
            blended = (1 - update) * candidate
            hidden = blended if hidden is None else blended + update * hidden
            states.append(hidden)
        return mx.stack(states, axis=-2)


class LSTM(Module):
    """A long short-term memory layer.

    Per step, with gates packed ``[i, f, g, o]`` along the rows of ``Wx`` and ``Wh``::

        i, f, o = sigmoid(...), g = tanh(...)   of  Wx x + Wh h + bias
        c = f * c + i * g
        h = o * tanh(c)

    Args:
        input_size (int): features per time step, ``D``.
        hidden_size (int): size of the hidden and cell states, ``H``.
        bias (bool): learn a bias. Default ``True``.

    Called as ``lstm(x, hidden=None, cell=None)``: returns ``(hidden_states, cell_states)``,
    each of shape ``(N, L, H)`` or ``(L, H)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> lstm = nn.LSTM(3, 4)
    >>> h, c = lstm(mx.zeros((2, 5, 3)))
    >>> h.shape, c.shape
    ((2, 5, 4), (2, 5, 4))
    """

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.Wx, self.Wh = _uniform_init(hidden_size, (4 * hidden_size, input_size),
                                         (4 * hidden_size, hidden_size))
        self.bias = _uniform_init(hidden_size, (4 * hidden_size,))[0] if bias else None

    def _extra_repr(self):
        return (f"input_dims={self.Wx.shape[1]}, hidden_size={self.hidden_size}, "
                f"bias={self.bias is not None}")

    def __call__(self, x, hidden=None, cell=None):
        _check_sequence("LSTM", x)
        x = _project_inputs(x, self.Wx, self.bias)
        hidden_states, cell_states = [], []
        for t in range(x.shape[-2]):
            gates = x[..., t, :]
            if hidden is not None:
                gates = mx.addmm(gates, hidden, self.Wh.T)
            i, f, g, o = mx.split(gates, 4, axis=-1)
            i, f, g, o = mx.sigmoid(i), mx.sigmoid(f), mx.tanh(g), mx.sigmoid(o)
            cell = i * g if cell is None else f * cell + i * g
            hidden = o * mx.tanh(cell)
            hidden_states.append(hidden)
            cell_states.append(cell)
        return mx.stack(hidden_states, axis=-2), mx.stack(cell_states, axis=-2)
