#!/usr/bin/env python3
"""Writes a random-weight GGUF of a `glance bench` shape's text decoder, glm4 architecture, F16.

llama.cpp reads it as GLM-4 (the text half of GLM-4.6V-Flash: four RMSNorms per layer, separate
Q/K/V with biases, fused gate+up, half the head dimensions rotated); `llama-quantize --pure` makes
the Q8_0 and Q4_0 files from it. There is no tokenizer: `tokenizer.ggml.model = none` with the
vocabulary size gives llama.cpp dummy tokens, which is all `llama-bench` needs (it feeds random ids).

The shapes mirror dev.glance.engine.bench.BenchShape (text part only); keep the two in step.
Uses gguf-py from the llama.cpp checkout that bench/llamacpp.sh builds (PYTHONPATH).

    python3 bench/gguf_random.py --shape mid --out /tmp/mid-f16.gguf
"""
import argparse
import sys

import numpy as np

try:
    import gguf
except ImportError:
    sys.exit("gguf_random.py: the gguf package is not importable; put llama.cpp's gguf-py on PYTHONPATH")

# vocab, hidden, layers, heads, kv heads, intermediate (BenchShape's text columns)
SHAPES = {
    "tiny": (512, 128, 2, 4, 2, 256),
    "mid": (151552, 2048, 24, 16, 2, 6848),
    "glm46v-flash": (151552, 4096, 40, 32, 2, 13696),
}
ROPE_THETA = 500000.0   # GLM-4.6V-Flash's text rope_theta, partial_rotary_factor 0.5
RMS_EPS = 1e-5
CONTEXT = 131072


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--shape", required=True, choices=sorted(SHAPES))
    p.add_argument("--out", required=True, help="the .gguf file to write")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    vocab, hidden, layers, heads, kv_heads, ff = SHAPES[a.shape]
    head_dim = hidden // heads
    q, kv = heads * head_dim, kv_heads * head_dim

    # (name, numpy shape rows x cols, dtype): numpy's row-major (rows, cols) is ggml's {cols, rows}.
    tensors = [("token_embd.weight", (vocab, hidden), np.float16),
               ("output_norm.weight", (hidden,), np.float32),
               ("output.weight", (vocab, hidden), np.float16)]
    for i in range(layers):
        b = f"blk.{i}."
        tensors += [(b + "attn_norm.weight", (hidden,), np.float32),
                    (b + "attn_q.weight", (q, hidden), np.float16),
                    (b + "attn_q.bias", (q,), np.float32),
                    (b + "attn_k.weight", (kv, hidden), np.float16),
                    (b + "attn_k.bias", (kv,), np.float32),
                    (b + "attn_v.weight", (kv, hidden), np.float16),
                    (b + "attn_v.bias", (kv,), np.float32),
                    (b + "attn_output.weight", (hidden, q), np.float16),
                    (b + "post_attention_norm.weight", (hidden,), np.float32),
                    (b + "ffn_norm.weight", (hidden,), np.float32),
                    (b + "ffn_up.weight", (2 * ff, hidden), np.float16),
                    (b + "ffn_down.weight", (hidden, ff), np.float16),
                    (b + "post_ffw_norm.weight", (hidden,), np.float32)]

    w = gguf.GGUFWriter(a.out, "glm4")
    w.add_name(f"glance-bench-{a.shape}-random")
    w.add_context_length(CONTEXT)
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim // 2)
    w.add_rope_freq_base(ROPE_THETA)
    w.add_layer_norm_rms_eps(RMS_EPS)
    w.add_vocab_size(vocab)
    w.add_tokenizer_model("none")
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    for name, shape, dtype in tensors:
        n = int(np.prod(shape))
        w.add_tensor_info(name, shape, np.dtype(dtype), n * np.dtype(dtype).itemsize)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()

    # One pool of N(0, 0.02) values, read from a different offset for every tensor: the speed of a
    # dense kernel does not depend on the values, and drawing 2-10 G normals would take minutes.
    rng = np.random.default_rng(a.seed)
    pool = (rng.standard_normal((1 << 24) + 4099, dtype=np.float32) * 0.02)
    for k, (name, shape, dtype) in enumerate(tensors):
        n = int(np.prod(shape))
        if name.endswith("norm.weight"):
            data = np.ones(shape, dtype=np.float32)
        else:
            off = (k * 7919) % len(pool)
            data = np.resize(np.roll(pool, -off), n).astype(dtype).reshape(shape)
        w.write_tensor_data(data)
    w.close()


if __name__ == "__main__":
    main()
