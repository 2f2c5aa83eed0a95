"""Attention and Transformer layers with MLX's submodule names, so parameter trees (and
weights saved from MLX) line up key for key."""
import math

from ... import core as mx
from ..utils import checkpoint
from .activations import relu
from .base import Module
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm

__all__ = ["MultiHeadAttention", "TransformerEncoderLayer", "TransformerEncoder",
           "TransformerDecoderLayer", "TransformerDecoder", "Transformer"]


class MultiHeadAttention(Module):
    """Scaled dot-product attention over ``num_heads`` heads, with linear projections of
    the queries, keys, values and output.

    Args:
        dims (int): model size: the projected query/key size, and the default of every
            other size. Must be divisible by ``num_heads``.
        num_heads (int): number of heads.
        query_input_dims, key_input_dims (int, optional): input sizes; default ``dims``.
        value_input_dims (int, optional): value input size; default ``key_input_dims``.
        value_dims (int, optional): projected value size; default ``dims``.
        value_output_dims (int, optional): output size; default ``dims``.
        bias (bool): biases in the projections. Default ``False``.

    Called as ``mha(queries, keys, values, mask=None)`` on ``(B, L, D)`` inputs; ``mask``
    is additive (or boolean) and broadcasts with ``(B, num_heads, L_q, L_k)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> mha = nn.MultiHeadAttention(8, 2)
    >>> x = mx.zeros((1, 5, 8))
    >>> mask = nn.MultiHeadAttention.create_additive_causal_mask(5)
    >>> mha(x, x, x, mask).shape
    (1, 5, 8)
    """

    def __init__(self, dims, num_heads, query_input_dims=None, key_input_dims=None,
                 value_input_dims=None, value_dims=None, value_output_dims=None, bias=False):
        super().__init__()
        if dims % num_heads != 0:
            raise ValueError(f"[MultiHeadAttention] dims ({dims}) must be divisible by "
                             f"num_heads ({num_heads}).")
        query_input_dims = query_input_dims or dims
        key_input_dims = key_input_dims or dims
        value_input_dims = value_input_dims or key_input_dims
        value_dims = value_dims or dims
        value_output_dims = value_output_dims or dims
        self.num_heads = num_heads
        self.query_proj = Linear(query_input_dims, dims, bias=bias)
        self.key_proj = Linear(key_input_dims, dims, bias=bias)
        self.value_proj = Linear(value_input_dims, value_dims, bias=bias)
        self.out_proj = Linear(value_dims, value_output_dims, bias=bias)

    def _split_heads(self, x, role):
        """(B, L, heads * d) -> (B, heads, L, d)."""
        if x.ndim != 3:
            raise ValueError(f"[MultiHeadAttention] The {role} must have shape (batch, length, "
                             f"features), got {x.ndim} dimensions.")
        return mx.unflatten(x, -1, (self.num_heads, -1)).transpose(0, 2, 1, 3)

    def __call__(self, queries, keys, values, mask=None):
        queries = self._split_heads(self.query_proj(queries), "queries")
        keys = self._split_heads(self.key_proj(keys), "keys")
        values = self._split_heads(self.value_proj(values), "values")
        heads = mx.fast.scaled_dot_product_attention(
            queries, keys, values, scale=math.sqrt(1 / queries.shape[-1]), mask=mask)
        return self.out_proj(heads.transpose(0, 2, 1, 3).flatten(-2, -1))

    @staticmethod
    def create_additive_causal_mask(N, dtype=mx.float32):
        """An ``(N, N)`` mask: zero (printed ``-0``, as in MLX) where a query may see the key
        (key <= query), and the most negative finite ``dtype`` value above the diagonal.

        >>> import mlxpy.nn as nn
        >>> nn.MultiHeadAttention.create_additive_causal_mask(2)
        array([[-0, -3.40282e+38],
               [-0, -0]], dtype=float32)
        """
        positions = mx.arange(N)
        is_future = positions[:, None] < positions[None]
        return is_future.astype(dtype) * mx.finfo(dtype).min


def _maybe_checkpoint(layer, enabled):
    return checkpoint(layer) if enabled else layer


class TransformerEncoderLayer(Module):
    """Self-attention then an MLP, each a residual block with a LayerNorm (before the block
    when ``norm_first``, after the residual sum otherwise).

    Args:
        dims (int): model size.
        num_heads (int): attention heads.
        mlp_dims (int, optional): MLP hidden size; default ``4 * dims``.
        dropout (float): dropout after the attention and after the activation. Default 0.
        activation (callable): MLP activation. Default `relu`.
        norm_first (bool): pre-norm (``True``, the default) or post-norm.

    Called as ``layer(x, mask)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> layer = nn.TransformerEncoderLayer(8, 2, mlp_dims=16)
    >>> layer(mx.zeros((2, 3, 8)), None).shape
    (2, 3, 8)
    """

    def __init__(self, dims, num_heads, mlp_dims=None, dropout=0.0, activation=relu,
                 norm_first=True):
        super().__init__()
        mlp_dims = mlp_dims or 4 * dims
        self.attention = MultiHeadAttention(dims, num_heads)
        self.ln1 = LayerNorm(dims)
        self.ln2 = LayerNorm(dims)
        self.linear1 = Linear(dims, mlp_dims)
        self.linear2 = Linear(mlp_dims, dims)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation
        self.norm_first = norm_first

    def _mlp(self, x):
        return self.linear2(self.dropout2(self.activation(self.linear1(x))))

    def __call__(self, x, mask):
        if self.norm_first:
            y = self.ln1(x)
            x = x + self.dropout1(self.attention(y, y, y, mask))
            return x + self._mlp(self.ln2(x))
        x = self.ln1(x + self.dropout1(self.attention(x, x, x, mask)))
        return self.ln2(x + self._mlp(x))


class TransformerEncoder(Module):
    """``num_layers`` `TransformerEncoderLayer` blocks (in ``layers``) and a final LayerNorm
    (``ln``). With ``checkpoint=True`` each block recomputes its activations in the backward
    pass instead of storing them.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> encoder = nn.TransformerEncoder(2, 8, 2)
    >>> encoder(mx.zeros((1, 4, 8)), None).shape
    (1, 4, 8)
    """

    def __init__(self, num_layers, dims, num_heads, mlp_dims=None, dropout=0.0,
                 activation=relu, norm_first=True, checkpoint=False):
        super().__init__()
        self.layers = [TransformerEncoderLayer(dims, num_heads, mlp_dims, dropout, activation,
                                               norm_first) for _ in range(num_layers)]
        self.ln = LayerNorm(dims)
        self.checkpoint = checkpoint

    def __call__(self, x, mask):
        for layer in self.layers:
            x = _maybe_checkpoint(layer, self.checkpoint)(x, mask)
        return self.ln(x)


class TransformerDecoderLayer(Module):
    """Self-attention, cross-attention over the encoder's ``memory``, then an MLP; each a
    residual block with a LayerNorm (pre- or post-norm as ``norm_first`` says).

    Arguments as in `TransformerEncoderLayer`. Called as
    ``layer(x, memory, x_mask, memory_mask)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> layer = nn.TransformerDecoderLayer(8, 2)
    >>> layer(mx.zeros((1, 3, 8)), mx.zeros((1, 5, 8)), None, None).shape
    (1, 3, 8)
    """

    def __init__(self, dims, num_heads, mlp_dims=None, dropout=0.0, activation=relu,
                 norm_first=True):
        super().__init__()
        mlp_dims = mlp_dims or 4 * dims
        self.self_attention = MultiHeadAttention(dims, num_heads)
        self.cross_attention = MultiHeadAttention(dims, num_heads)
        self.ln1 = LayerNorm(dims)
        self.ln2 = LayerNorm(dims)
        self.ln3 = LayerNorm(dims)
        self.linear1 = Linear(dims, mlp_dims)
        self.linear2 = Linear(mlp_dims, dims)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = activation
        self.norm_first = norm_first

    def _mlp(self, x):
        return self.linear2(self.dropout3(self.activation(self.linear1(x))))

    def __call__(self, x, memory, x_mask, memory_mask):
        if self.norm_first:
            y = self.ln1(x)
            x = x + self.dropout1(self.self_attention(y, y, y, x_mask))
            y = self.ln2(x)
            x = x + self.dropout2(self.cross_attention(y, memory, memory, memory_mask))
            return x + self._mlp(self.ln3(x))
        x = self.ln1(x + self.dropout1(self.self_attention(x, x, x, x_mask)))
        x = self.ln2(x + self.dropout2(self.cross_attention(x, memory, memory, memory_mask)))
        return self.ln3(x + self._mlp(x))


class TransformerDecoder(Module):
    """``num_layers`` `TransformerDecoderLayer` blocks (in ``layers``) and a final LayerNorm
    (``ln``); ``checkpoint`` as in `TransformerEncoder`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> decoder = nn.TransformerDecoder(1, 8, 2)
    >>> decoder(mx.zeros((1, 3, 8)), mx.zeros((1, 4, 8)), None, None).shape
    (1, 3, 8)
    """

    def __init__(self, num_layers, dims, num_heads, mlp_dims=None, dropout=0.0,
                 activation=relu, norm_first=True, checkpoint=False):
        super().__init__()
        self.layers = [TransformerDecoderLayer(dims, num_heads, mlp_dims, dropout, activation,
                                               norm_first) for _ in range(num_layers)]
        self.ln = LayerNorm(dims)
        self.checkpoint = checkpoint

    def __call__(self, x, memory, x_mask, memory_mask):
        for layer in self.layers:
            x = _maybe_checkpoint(layer, self.checkpoint)(x, memory, x_mask, memory_mask)
        return self.ln(x)


class Transformer(Module):
    """An encoder-decoder Transformer ("Attention Is All You Need").

    Args:
        dims (int): model size. Default 512.
        num_heads (int): attention heads. Default 8.
        num_encoder_layers, num_decoder_layers (int): block counts. Default 6 each.
        mlp_dims (int, optional): MLP hidden size; default ``4 * dims``.
        dropout (float): dropout rate in every block. Default 0.
        activation (callable): MLP activation. Default `relu`.
        custom_encoder, custom_decoder (Module, optional): used instead of the standard
            `TransformerEncoder` / `TransformerDecoder`.
        norm_first (bool): pre-norm blocks. Default ``True``.
        checkpoint (bool): gradient checkpointing of each block. Default ``False``.

    Called as ``model(src, tgt, src_mask, tgt_mask, memory_mask)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> model = nn.Transformer(dims=8, num_heads=2, num_encoder_layers=1, num_decoder_layers=1)
    >>> src, tgt = mx.zeros((1, 5, 8)), mx.zeros((1, 3, 8))
    >>> tgt_mask = nn.MultiHeadAttention.create_additive_causal_mask(3)
    >>> model(src, tgt, None, tgt_mask, None).shape
    (1, 3, 8)
    """

    def __init__(self, dims=512, num_heads=8, num_encoder_layers=6, num_decoder_layers=6,
                 mlp_dims=None, dropout=0.0, activation=relu, custom_encoder=None,
                 custom_decoder=None, norm_first=True, checkpoint=False):
        super().__init__()
        block_args = (dims, num_heads, mlp_dims, dropout, activation, norm_first, checkpoint)
        if custom_encoder is None:
            custom_encoder = TransformerEncoder(num_encoder_layers, *block_args)
        if custom_decoder is None:
            custom_decoder = TransformerDecoder(num_decoder_layers, *block_args)
        self.encoder = custom_encoder
        self.decoder = custom_decoder

    def __call__(self, src, tgt, src_mask, tgt_mask, memory_mask):
        memory = self.encoder(src, src_mask)
        return self.decoder(tgt, memory, tgt_mask, memory_mask)
