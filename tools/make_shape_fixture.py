"""Builds a second reference fixture with other shapes than ../shared/fixtures/glm4v-tiny-a, in the
GLM-4.1V config layout (model_type glm4v, rope_theta / partial_rotary_factor in text_config,
rope_scaling.mrope_section, a 16x16 position grid) and the older tensor names (model.layers.*,
visual.*). Expected values come from a float64 numpy implementation of ../shared/spec/glm4v.md
(the same math as ../shared/spec/numpy, generalised over shapes), written independently of the
Java engine. Output: glance-engine/src/test/resources/fixtures/glm41v-shape-b/.

Run from the repository root: python3 tools/make_shape_fixture.py   (needs numpy only)
"""
import json, math, os, struct
import numpy as np

OUT = "glance-engine/src/test/resources/fixtures/glm41v-shape-b"
rng = np.random.default_rng(20261127)

text = dict(vocab_size=300, hidden_size=96, num_hidden_layers=3, num_attention_heads=3,
            num_key_value_heads=1, intermediate_size=160, rms_norm_eps=1e-6, rope_theta=500000.0,
            partial_rotary_factor=0.25, rope_scaling={"type": "mrope", "mrope_section": [2, 1, 1]},
            max_position_embeddings=2048, attention_bias=True, hidden_act="silu",
            model_type="glm4v_text", eos_token_id=[290, 291])
vision = dict(depth=3, hidden_size=48, num_heads=3, intermediate_size=80, out_hidden_size=96,
              patch_size=14, temporal_patch_size=2, spatial_merge_size=2, image_size=224,
              in_channels=3, rms_norm_eps=1e-6, hidden_act="silu", model_type="glm4v",
              attention_bias=False)
ids = dict(image_token_id=250, image_start_token_id=251, image_end_token_id=252,
           video_token_id=253, video_start_token_id=254, video_end_token_id=255)
config = dict(architectures=["Glm4vForConditionalGeneration"], model_type="glm4v",
              text_config=text, vision_config=vision, **ids)

H, L, nh, nkv = text["hidden_size"], text["num_hidden_layers"], text["num_attention_heads"], text["num_key_value_heads"]
hd, I, V, eps = H // nh, text["intermediate_size"], text["vocab_size"], text["rms_norm_eps"]
rot = int(hd * text["partial_rotary_factor"])
D, vnh, veps, m = vision["hidden_size"], vision["num_heads"], vision["rms_norm_eps"], vision["spatial_merge_size"]
vhd, VI, OUTH = D // vnh, vision["intermediate_size"], vision["out_hidden_size"]
P = 3 * 2 * 14 * 14
S = vision["image_size"] // vision["patch_size"]

def bf16(a):
    """Round to bfloat16 (nearest even), returned as float64 values."""
    u = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return u.astype(np.uint32).view(np.float32).astype(np.float64)

W = {}
def w(name, *shape, scale=0.08, offset=0.0):
    W[name] = bf16(rng.standard_normal(shape) * scale + offset)
    return W[name]

w("visual.patch_embed.proj.weight", D, 3, 2, 14, 14, scale=0.05); w("visual.patch_embed.proj.bias", D)
w("visual.post_conv_layernorm.weight", D, scale=0.1, offset=1.0)
w("visual.embeddings.position_embedding.weight", S * S, D, scale=0.5)
for b in range(vision["depth"]):
    p = f"visual.blocks.{b}."
    w(p + "norm1.weight", D, scale=0.1, offset=1.0); w(p + "norm2.weight", D, scale=0.1, offset=1.0)
    w(p + "attn.qkv.weight", 3 * D, D, scale=0.2); w(p + "attn.proj.weight", D, D)
    w(p + "mlp.gate_proj.weight", OUTH, D); w(p + "mlp.up_proj.weight", OUTH, D); w(p + "mlp.down_proj.weight", D, OUTH)
w("visual.post_layernorm.weight", D, scale=0.1, offset=1.0)
w("visual.downsample.weight", OUTH, D, 2, 2, scale=0.05); w("visual.downsample.bias", OUTH)
w("visual.merger.proj.weight", OUTH, OUTH, scale=0.1)
w("visual.merger.post_projection_norm.weight", OUTH, scale=0.1, offset=1.0); w("visual.merger.post_projection_norm.bias", OUTH)
w("visual.merger.gate_proj.weight", VI, OUTH, scale=0.1); w("visual.merger.up_proj.weight", VI, OUTH, scale=0.1)
w("visual.merger.down_proj.weight", OUTH, VI, scale=0.1)
w("model.embed_tokens.weight", V, H, scale=1.0)
for l in range(L):
    p = f"model.layers.{l}."
    for n in ("input_layernorm", "post_self_attn_layernorm", "post_attention_layernorm", "post_mlp_layernorm"):
        w(p + n + ".weight", H, scale=0.1, offset=1.0)
    w(p + "self_attn.q_proj.weight", nh * hd, H, scale=0.15); w(p + "self_attn.q_proj.bias", nh * hd)
    w(p + "self_attn.k_proj.weight", nkv * hd, H, scale=0.15); w(p + "self_attn.k_proj.bias", nkv * hd)
    w(p + "self_attn.v_proj.weight", nkv * hd, H, scale=0.15); w(p + "self_attn.v_proj.bias", nkv * hd)
    w(p + "self_attn.o_proj.weight", H, nh * hd)
    w(p + "mlp.gate_up_proj.weight", 2 * I, H); w(p + "mlp.down_proj.weight", H, I)
w("model.norm.weight", H, scale=0.1, offset=1.0)
w("lm_head.weight", V, H, scale=0.3)

def rms(x, g, e):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + e) * g

def silu(x):
    return x / (1 + np.exp(-x))

def gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))

def cubic(t, A=-0.75):
    near = lambda x: ((A + 2) * x - (A + 3)) * x * x + 1
    far = lambda x: ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]

def vision_tower(pv, grids):
    x = pv @ W["visual.patch_embed.proj.weight"].reshape(D, -1).T + W["visual.patch_embed.proj.bias"]
    x = rms(x, W["visual.post_conv_layernorm.weight"], veps)
    hs, ws, shapes = [], [], []
    for t, gh, gw in grids:
        for _ in range(t):
            for bi in range(gh // m):
                for bj in range(gw // m):
                    for a in range(m):
                        for b in range(m):
                            hs.append(bi * m + a); ws.append(bj * m + b); shapes.append((gh, gw))
    grid = W["visual.embeddings.position_embedding.weight"].reshape(S, S, D)
    pos = np.zeros((len(hs), D))
    for r, (h, xx, (gh, gw)) in enumerate(zip(hs, ws, shapes)):
        fx, fy = (xx + 0.5) * S / gw - 0.5, (h + 0.5) * S / gh - 0.5
        x0, y0 = math.floor(fx), math.floor(fy)
        wx, wy = cubic(fx - x0), cubic(fy - y0)
        for i in range(4):
            yy = min(max(y0 - 1 + i, 0), S - 1)
            for j in range(4):
                pos[r] += wy[i] * wx[j] * grid[yy, min(max(x0 - 1 + j, 0), S - 1)]
    x = x + pos
    hs, ws = np.array(hs), np.array(ws)
    inv = 1.0 / 10000.0 ** (np.arange(0, vhd // 2, 2) / (vhd // 2))
    ang = np.concatenate([hs[:, None] * inv, ws[:, None] * inv], 1)
    ang = np.concatenate([ang, ang], 1)
    c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
    rope = lambda q: q * c + np.concatenate([-q[..., vhd // 2:], q[..., :vhd // 2]], -1) * s
    bounds = np.cumsum([0] + [int(t * gh * gw) for t, gh, gw in grids])
    for b in range(vision["depth"]):
        p = f"visual.blocks.{b}."
        h = rms(x, W[p + "norm1.weight"], veps)
        qkv = (h @ W[p + "attn.qkv.weight"].T).reshape(-1, 3, vnh, vhd)
        q, k, v = rope(qkv[:, 0]), rope(qkv[:, 1]), qkv[:, 2]
        out = np.empty_like(q)
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            for head in range(vnh):
                sc = q[lo:hi, head] @ k[lo:hi, head].T / math.sqrt(vhd)
                pr = np.exp(sc - sc.max(-1, keepdims=True))
                out[lo:hi, head] = (pr / pr.sum(-1, keepdims=True)) @ v[lo:hi, head]
        x = x + out.reshape(-1, D) @ W[p + "attn.proj.weight"].T
        h = rms(x, W[p + "norm2.weight"], veps)
        x = x + (silu(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
    x = rms(x, W["visual.post_layernorm.weight"], veps)
    ds = W["visual.downsample.weight"]
    z = x.reshape(-1, 4 * D) @ ds.transpose(0, 2, 3, 1).reshape(ds.shape[0], -1).T + W["visual.downsample.bias"]
    u = z @ W["visual.merger.proj.weight"].T
    u = (u - u.mean(-1, keepdims=True)) / np.sqrt(u.var(-1, keepdims=True) + 1e-5)
    u = gelu(u * W["visual.merger.post_projection_norm.weight"] + W["visual.merger.post_projection_norm.bias"])
    return (silu(u @ W["visual.merger.gate_proj.weight"].T) * (u @ W["visual.merger.up_proj.weight"].T)) @ W["visual.merger.down_proj.weight"].T

def rope_index(input_ids, grids):
    """get_rope_index (spec 5.4): text runs advance all axes; image runs use t/h/w of the merged grid."""
    pos, st, i, g = [[], [], []], 0, 0, 0
    n = len(input_ids)
    while i < n:
        if input_ids[i] == ids["image_token_id"]:
            t, gh, gw = grids[g]; g += 1
            hm, wm = gh // m, gw // m
            for ti in range(t):
                for r in range(hm):
                    for c in range(wm):
                        pos[0].append(st + ti); pos[1].append(st + r); pos[2].append(st + c)
            i += t * hm * wm
            st = max(max(p[-1] for p in pos), max(max(pos[1][-t * hm * wm:]), max(pos[2][-t * hm * wm:]))) + 1
        else:
            for a in range(3):
                pos[a].append(st)
            st += 1; i += 1
    pos = np.array(pos)
    return pos, int(pos.max() + 1 - n)

def decoder(x, pos):
    """Full (non-cached) forward from embeddings; returns per-layer hidden states and logits."""
    T = x.shape[0]
    inv = 1.0 / text["rope_theta"] ** (np.arange(0, rot, 2) / rot)
    axis = np.concatenate([np.full(k, a) for a, k in enumerate(text["rope_scaling"]["mrope_section"])])
    ang = pos[axis, :].T * inv
    c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
    def rope(q):
        y = q.copy()
        a, b = q[..., 0:rot:2], q[..., 1:rot:2]
        y[..., 0:rot:2], y[..., 1:rot:2] = a * c - b * s, b * c + a * s
        return y
    mask = np.triu(np.full((T, T), -np.inf), 1)
    hidden = [x]
    for l in range(L):
        p = f"model.layers.{l}."
        h = rms(x, W[p + "input_layernorm.weight"], eps)
        q = rope((h @ W[p + "self_attn.q_proj.weight"].T + W[p + "self_attn.q_proj.bias"]).reshape(T, nh, hd))
        k = rope((h @ W[p + "self_attn.k_proj.weight"].T + W[p + "self_attn.k_proj.bias"]).reshape(T, nkv, hd))
        v = (h @ W[p + "self_attn.v_proj.weight"].T + W[p + "self_attn.v_proj.bias"]).reshape(T, nkv, hd)
        out = np.empty((T, nh, hd))
        for head in range(nh):
            kv = head // (nh // nkv)
            sc = q[:, head] @ k[:, kv].T / np.sqrt(hd) + mask
            pr = np.exp(sc - sc.max(-1, keepdims=True))
            out[:, head] = (pr / pr.sum(-1, keepdims=True)) @ v[:, kv]
        x = x + rms(out.reshape(T, H) @ W[p + "self_attn.o_proj.weight"].T, W[p + "post_self_attn_layernorm.weight"], eps)
        h = rms(x, W[p + "post_attention_layernorm.weight"], eps)
        gate, up = np.split(h @ W[p + "mlp.gate_up_proj.weight"].T, 2, axis=-1)
        x = x + rms((silu(gate) * up) @ W[p + "mlp.down_proj.weight"].T, W[p + "post_mlp_layernorm.weight"], eps)
        hidden.append(x)
    x = rms(x, W["model.norm.weight"], eps)
    hidden[-1] = x
    return hidden, x @ W["lm_head.weight"].T

grids = [(1, 4, 6), (1, 8, 2)]
pv = rng.standard_normal((sum(t * h * w_ for t, h, w_ in grids), P)).astype(np.float32).astype(np.float64)
emb = vision_tower(pv, grids)
prompt = [int(i) for i in rng.integers(0, 240, 3)] + [251] + [250] * 6 + [252] + \
         [int(i) for i in rng.integers(0, 240, 2)] + [251] + [250] * 4 + [252] + [int(i) for i in rng.integers(0, 240, 5)]
pos, delta = rope_index(prompt, grids)

def embed(tokens, image_rows):
    x = W["model.embed_tokens.weight"][tokens].copy()
    x[np.array(tokens) == ids["image_token_id"]] = image_rows
    return x

x0 = embed(prompt, emb)
hidden, logits = decoder(x0, pos)
# Greedy continuation by full recomputation (the engine must match it through its KV cache).
seq, positions, greedy, margins = list(prompt), pos, [], []
for step in range(8):
    lg = decoder(embed(seq, emb), positions)[1][-1]
    top = np.sort(lg)[-2:]
    margins.append(float(top[1] - top[0]))
    tok = int(np.argmax(lg)); greedy.append(tok); seq.append(tok)
    nxt = len(seq) - 1 + delta
    positions = np.concatenate([positions, np.full((3, 1), nxt)], 1)
assert min(margins) > 1e-3, f"greedy margin too small for a float32 comparison: {min(margins)}"

def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, (dtype, arr) in tensors.items():
        if dtype == "BF16":
            b = (np.asarray(arr, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16).tobytes()
        elif dtype == "F32":
            b = np.asarray(arr, dtype=np.float32).tobytes()
        else:
            b = np.asarray(arr, dtype=np.int64).tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(arr)), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs:
            f.write(b)

os.makedirs(OUT, exist_ok=True)
json.dump(config, open(f"{OUT}/config.json", "w"), indent=2)
write_safetensors(f"{OUT}/model.safetensors", {k: ("BF16", v) for k, v in W.items()})
exp = {"pixel_values": ("F32", pv), "image_grid_thw": ("I64", np.array(grids)),
       "input_ids": ("I64", np.array(prompt)), "position_ids": ("I64", pos), "rope_delta": ("I64", np.array([delta])),
       "vision_embeds": ("F32", emb), "logits": ("F32", logits), "greedy_ids": ("I64", np.array(greedy))}
for k, hs in enumerate(hidden):
    exp[f"hidden.{k}"] = ("F32", hs)
write_safetensors(f"{OUT}/expected.safetensors", exp)
print(f"wrote {OUT}: seq {len(prompt)}, rope_delta {delta}, greedy {greedy}, min margin {min(margins):.4f}")
