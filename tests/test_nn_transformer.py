"""MultiHeadAttention, the Transformer family and the positional encodings against mlx.nn:
parameter trees, seeded inits, reprs, outputs, gradients, masks, errors."""
import doctest

import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.nn as nn
from mlxpy.utils import tree_flatten
from mlxpy.nn.layers import positional_encoding, transformer
from nn_mirror import assert_same_init, assert_same_signature, check_forward, check_grads, \
    mirror, param_shapes, probe_loss, seeded_twins
from oracle import assert_same, mlx, needs_mlx, raises_like

if mlx is not None:
    import mlx.nn as mlx_nn


def values(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def twins(name, *args, **kwargs):
    ours, theirs = seeded_twins(getattr(nn, name), getattr(mlx_nn, name), *args, **kwargs)
    return mirror(ours, theirs), theirs


def causal(n):
    return np.triu(np.full((n, n), -1e9, np.float32), k=1)


# ---------------------------------------------------------------- MultiHeadAttention

MHA_CONFIGS = [
    dict(),
    dict(bias=True),
    dict(query_input_dims=6, key_input_dims=5, value_input_dims=3, value_dims=4,
         value_output_dims=7),
    dict(key_input_dims=5),  # value_input_dims defaults to key_input_dims
]


@needs_mlx
@pytest.mark.parametrize("config", MHA_CONFIGS)
def test_attention_tree_init_and_repr_match_mlx(config):
    ours, theirs = seeded_twins(nn.MultiHeadAttention, mlx_nn.MultiHeadAttention, 8, 2, **config)
    assert param_shapes(ours) == param_shapes(theirs)
    assert_same_init(ours, theirs)
    assert repr(ours) == repr(theirs)


@needs_mlx
@pytest.mark.parametrize("config", MHA_CONFIGS)
@pytest.mark.parametrize("mask", [None, "additive", "boolean"])
def test_attention_forward_and_gradients_match_mlx(config, mask):
    ours, theirs = twins("MultiHeadAttention", 8, 2, **config)
    q = values((2, 4, config.get("query_input_dims", 8)), 1)
    k = values((2, 5, config.get("key_input_dims", 8)), 2)
    v = values((2, 5, config.get("value_input_dims", config.get("key_input_dims", 8))), 3)
    if mask == "additive":
        mask = np.triu(np.full((4, 5), -1e9, np.float32), k=1)
    elif mask == "boolean":
        mask = np.tril(np.ones((4, 5), bool))
    check_forward(ours, theirs, q, k, v, mask, rtol=1e-4, atol=1e-5)
    check_grads(ours, theirs, q, k, v, mask)


@needs_mlx
def test_attention_causal_string_mask_matches_mlx():
    ours, theirs = twins("MultiHeadAttention", 8, 4)
    x = values((1, 5, 8))
    check_forward(ours, theirs, x, x, x, mask="causal", rtol=1e-4, atol=1e-5)


@needs_mlx
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_attention_matches_mlx(dtype):
    ours, theirs = twins("MultiHeadAttention", 8, 2, bias=True)
    ours.set_dtype(getattr(mx, dtype))
    theirs.set_dtype(getattr(mlx, dtype))
    x = values((1, 4, 8))
    check_forward(ours, theirs, x, x, x, None, rtol=3e-2, atol=3e-2)


@needs_mlx
@pytest.mark.parametrize("n", [1, 4])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_additive_causal_mask_matches_mlx(n, dtype):
    got = nn.MultiHeadAttention.create_additive_causal_mask(n, getattr(mx, dtype))
    want = mlx_nn.MultiHeadAttention.create_additive_causal_mask(n, getattr(mlx, dtype))
    assert_same(got, want, rtol=0, atol=0)


@needs_mlx
def test_attention_errors_raise_like_mlx():
    e = raises_like(lambda: nn.MultiHeadAttention(6, 4), lambda: mlx_nn.MultiHeadAttention(6, 4))
    assert "[MultiHeadAttention]" in str(e)
    ours, theirs = twins("MultiHeadAttention", 8, 2)
    # Wrong feature size, and inputs without a batch axis.
    for shape in [(1, 3, 7), (3, 8)]:
        raises_like(lambda: ours(*[mx.ones(shape)] * 3), lambda: theirs(*[mlx.ones(shape)] * 3))


# ---------------------------------------------------------------- Transformer blocks

@needs_mlx
@pytest.mark.parametrize("norm_first", [True, False])
def test_encoder_layer_matches_mlx(norm_first):
    ours, theirs = twins("TransformerEncoderLayer", 8, 2, mlp_dims=12, norm_first=norm_first)
    assert repr(ours) == repr(theirs)
    x = values((2, 4, 8))
    check_forward(ours, theirs, x, causal(4), rtol=1e-4, atol=1e-5)
    check_grads(ours, theirs, x, causal(4))


@needs_mlx
@pytest.mark.parametrize("norm_first", [True, False])
def test_decoder_layer_matches_mlx(norm_first):
    ours, theirs = twins("TransformerDecoderLayer", 8, 2, norm_first=norm_first)
    x, memory = values((2, 3, 8), 1), values((2, 5, 8), 2)
    check_forward(ours, theirs, x, memory, causal(3), None, rtol=1e-4, atol=1e-5)
    check_grads(ours, theirs, x, memory, causal(3), None)


@needs_mlx
def test_custom_activation_matches_mlx():
    mx.random.seed(3)
    ours = nn.TransformerEncoder(2, 8, 4, activation=nn.gelu, norm_first=False)
    mlx.random.seed(3)
    theirs = mlx_nn.TransformerEncoder(2, 8, 4, activation=mlx_nn.gelu, norm_first=False)
    mirror(ours, theirs)
    check_forward(ours, theirs, values((1, 6, 8)), None, rtol=1e-4, atol=1e-5)


@needs_mlx
@pytest.mark.parametrize("norm_first", [True, False])
def test_transformer_tree_init_repr_outputs_and_gradients_match_mlx(norm_first):
    ours, theirs = seeded_twins(nn.Transformer, mlx_nn.Transformer, dims=8, num_heads=2,
                                num_encoder_layers=2, num_decoder_layers=1, mlp_dims=16,
                                norm_first=norm_first)
    assert param_shapes(ours) == param_shapes(theirs)
    assert_same_init(ours, theirs)
    assert repr(ours) == repr(theirs)
    src, tgt = values((2, 5, 8), 1), values((2, 3, 8), 2)
    args = (src, tgt, None, causal(3), None)
    check_forward(ours, theirs, *args, rtol=1e-4, atol=1e-5)
    check_grads(ours, theirs, *args)


def test_default_transformer_sizes():
    model = nn.Transformer()
    keys = dict(param_shapes(model))
    assert len(model.encoder.layers) == 6 and len(model.decoder.layers) == 6
    assert keys["encoder.layers.5.linear1.weight"] == (2048, 512)
    assert keys["decoder.layers.0.cross_attention.out_proj.weight"] == (512, 512)


@needs_mlx
def test_checkpointed_stack_matches_mlx_and_the_plain_stack():
    ours, theirs = twins("TransformerEncoder", 2, 8, 2, checkpoint=True)
    x = values((1, 4, 8))
    check_forward(ours, theirs, x, causal(4), rtol=1e-4, atol=1e-5)
    checkpointed = check_grads(ours, theirs, x, causal(4))
    plain = nn.TransformerEncoder(2, 8, 2)
    plain.update(ours.parameters())
    mask = mx.array(causal(4))
    _, plain_grads = nn.value_and_grad(plain, lambda x: probe_loss(plain(x, mask)))(mx.array(x))
    for (key, a), (_, b) in zip(tree_flatten(plain_grads), tree_flatten(checkpointed)):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-5, atol=1e-6, err_msg=key)


@needs_mlx
def test_dropout_is_off_in_eval_mode_like_mlx():
    ours, theirs = twins("TransformerEncoderLayer", 8, 2, dropout=0.5)
    ours.eval()
    theirs.eval()
    check_forward(ours, theirs, values((1, 3, 8)), None, rtol=1e-4, atol=1e-5)


def test_dropout_is_on_in_training_mode():
    layer = nn.TransformerEncoderLayer(8, 2, dropout=0.5)
    x = mx.array(values((1, 3, 8)))
    assert not np.allclose(np.array(layer(x, None)), np.array(layer(x, None)))


def test_custom_encoder_and_decoder_are_used():
    encoder, decoder = nn.TransformerEncoder(1, 8, 2), nn.TransformerDecoder(1, 8, 2)
    model = nn.Transformer(8, 2, custom_encoder=encoder, custom_decoder=decoder)
    assert model.encoder is encoder and model.decoder is decoder


def test_transformer_compiles():
    model = nn.TransformerEncoder(1, 8, 2)
    x = mx.array(values((1, 4, 8)))
    mask = nn.MultiHeadAttention.create_additive_causal_mask(4)
    np.testing.assert_allclose(np.array(mx.compile(model)(x, mask)), np.array(model(x, mask)),
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- positional encodings

@needs_mlx
@pytest.mark.parametrize("kwargs", [dict(), dict(traditional=True), dict(base=500.0, scale=0.5)])
@pytest.mark.parametrize("dims,offset", [(8, 0), (4, 3)])
def test_rope_matches_mlx(kwargs, dims, offset):
    ours, theirs = nn.RoPE(dims, **kwargs), mlx_nn.RoPE(dims, **kwargs)
    assert repr(ours) == repr(theirs)
    assert param_shapes(ours) == [] == param_shapes(theirs)
    check_forward(ours, theirs, values((2, 2, 5, 8)), offset=offset, rtol=1e-4, atol=1e-5)


@needs_mlx
def test_rope_bad_dims_raise_like_mlx():
    raises_like(lambda: nn.RoPE(3)(mx.ones((1, 2, 4))), lambda: mlx_nn.RoPE(3)(mlx.ones((1, 2, 4))))


@needs_mlx
@pytest.mark.parametrize("dims,kwargs", [
    (8, {}), (2, {}), (6, dict(cos_first=True)), (10, dict(full_turns=True, scale=1.0)),
    (4, dict(min_freq=0.01, max_freq=2.0, scale=3.0))])
def test_sinusoidal_encoding_matches_mlx(dims, kwargs):
    ours = nn.SinusoidalPositionalEncoding(dims, **kwargs)
    theirs = mlx_nn.SinusoidalPositionalEncoding(dims, **kwargs)
    assert repr(ours) == repr(theirs)
    assert param_shapes(ours) == [] == param_shapes(theirs)
    positions = np.arange(12, dtype=np.float32).reshape(3, 4) * 1.5
    check_forward(ours, theirs, positions, rtol=1e-5, atol=1e-5)


@needs_mlx
@pytest.mark.parametrize("dims", [0, 3, -2])
def test_sinusoidal_encoding_bad_dims_raise_like_mlx(dims):
    e = raises_like(lambda: nn.SinusoidalPositionalEncoding(dims),
                    lambda: mlx_nn.SinusoidalPositionalEncoding(dims))
    assert "[SinusoidalPositionalEncoding]" in str(e)


@needs_mlx
@pytest.mark.parametrize("num_heads", [1, 2, 3, 5, 6, 8, 12, 16, 24])
def test_alibi_slopes_match_mlx(num_heads):
    assert_same(nn.ALiBi.create_alibi_slope(num_heads),
                mlx_nn.ALiBi.create_alibi_slope(num_heads), rtol=0, atol=0)


@needs_mlx
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_alibi_matrix_and_call_match_mlx(dtype):
    got = nn.ALiBi.create_alibi_matrix(6, 5, 4, offset=2, dtype=getattr(mx, dtype))
    want = mlx_nn.ALiBi.create_alibi_matrix(6, 5, 4, offset=2, dtype=getattr(mlx, dtype))
    assert_same(got, want, rtol=0, atol=0)
    scores = values((2, 4, 3, 5)).astype(dtype)
    mask = (causal(5)[2:] * 1e-5).astype(dtype)  # -1e4: finite in float16
    assert repr(nn.ALiBi()) == repr(mlx_nn.ALiBi())
    check_forward(nn.ALiBi(), mlx_nn.ALiBi(), scores, offset=2, mask=mask)
    check_forward(nn.ALiBi(), mlx_nn.ALiBi(), scores)


@needs_mlx
@pytest.mark.parametrize("name,method", [
    ("MultiHeadAttention", "__init__"), ("MultiHeadAttention", "__call__"),
    ("MultiHeadAttention", "create_additive_causal_mask"),
    ("TransformerEncoderLayer", "__init__"), ("TransformerEncoderLayer", "__call__"),
    ("TransformerEncoder", "__init__"), ("TransformerEncoder", "__call__"),
    ("TransformerDecoderLayer", "__init__"), ("TransformerDecoderLayer", "__call__"),
    ("TransformerDecoder", "__init__"), ("TransformerDecoder", "__call__"),
    ("Transformer", "__init__"), ("Transformer", "__call__"),
    ("RoPE", "__init__"), ("RoPE", "__call__"),
    ("SinusoidalPositionalEncoding", "__init__"), ("SinusoidalPositionalEncoding", "__call__"),
    ("ALiBi", "__call__"), ("ALiBi", "create_alibi_matrix"), ("ALiBi", "create_alibi_slope")])
def test_signatures_match_mlx(name, method):
    assert_same_signature(getattr(getattr(nn, name), method),
                          getattr(getattr(mlx_nn, name), method))


def test_docstring_examples():
    for module in (transformer, positional_encoding):
        assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
