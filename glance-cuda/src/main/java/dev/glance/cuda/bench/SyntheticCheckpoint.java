package dev.glance.cuda.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a checkpoint directory (config.json and model.safetensors, bf16) of a {@link BenchShape}
 * with every tensor name and shape the loader checks. Matrices are zeros; norm weights are 1 and
 * biases 0. For the GPU benchmark ({@link #write}) the zeros are holes of a sparse file (no disk
 * space, written in no time): it fills the matrices with random values on the device after
 * loading, so the load path is the real one without writing gigabytes. A checkpoint to serve
 * ({@link #writeServable}) is written dense, as real checkpoints are: read through a mapping, the
 * holes of a sparse file slowed BF16 decode on the CPU from ~70 to 90-140 ms per token over
 * back-to-back requests (docs/PERFORMANCE.md, session 8).
 */
public final class SyntheticCheckpoint {
  private record Entry(String name, long[] shape, boolean vector, float fill) {
    long elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private SyntheticCheckpoint() {}

  /** Writes the checkpoint, matrices sparse, into {@code dir} unless the same shape is already there. */
  public static Path write(BenchShape s, Path dir) {
    try {
      Files.createDirectories(dir);
      String config = s.configJson();
      Path cfg = dir.resolve("config.json");
      if (Files.exists(cfg) && Files.readString(cfg).equals(config) && Files.exists(dir.resolve("model.safetensors"))) {
        return dir;
      }
      writeWeights(s, dir, false);
      Files.writeString(cfg, config, StandardCharsets.UTF_8);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Zeros written per call when the matrices are written dense. */
  private static final int ZERO_CHUNK = 8 << 20;

  /** Writes model.safetensors into {@code dir}; the matrices are holes unless {@code dense}. */
  private static void writeWeights(BenchShape s, Path dir, boolean dense) throws IOException {
    Path weights = dir.resolve("model.safetensors");
    List<Entry> entries = entries(s);
    ObjectMapper m = new ObjectMapper();
    ObjectNode header = m.createObjectNode();
    long offset = 0;
    for (Entry e : entries) {
      ObjectNode t = header.putObject(e.name());
      t.put("dtype", "BF16");
      var shape = t.putArray("shape");
      for (long d : e.shape()) {
        shape.add(d);
      }
      var off = t.putArray("data_offsets");
      off.add(offset);
      offset += 2 * e.elements();
      off.add(offset);
    }
    header.putObject("__metadata__").put("format", "pt");
    byte[] json = m.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8;
    byte[] head = new byte[padded];
    java.util.Arrays.fill(head, (byte) ' ');
    System.arraycopy(json, 0, head, 0, json.length);
    Path tmp = dir.resolve("model.safetensors.tmp");
    try (RandomAccessFile f = new RandomAccessFile(tmp.toFile(), "rw")) {
      f.setLength(0);
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded);
      f.write(len.array());
      f.write(head);
      long base = 8 + padded;
      long pos = 0;
      byte[] zeros = dense ? new byte[ZERO_CHUNK] : null;
      for (Entry e : entries) {
        f.seek(base + pos);
        if (e.vector() && e.fill() != 0) {
          short bits = (short) (Float.floatToRawIntBits(e.fill()) >>> 16);
          ByteBuffer b = ByteBuffer.allocate((int) (2 * e.elements())).order(ByteOrder.LITTLE_ENDIAN);
          for (long i = 0; i < e.elements(); i++) {
            b.putShort(bits);
          }
          f.write(b.array());
        } else if (dense) {
          for (long left = 2 * e.elements(); left > 0; left -= ZERO_CHUNK) {
            f.write(zeros, 0, (int) Math.min(left, ZERO_CHUNK));
          }
        }
        pos += 2 * e.elements();
      }
      f.setLength(base + pos);
    }
    Files.move(tmp, weights, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /** The special token ids that config.json names and the tokenizer must agree with. */
  private static final List<String> TOKEN_ID_KEYS = List.of("image_token_id", "image_start_token_id",
      "image_end_token_id", "video_token_id", "video_start_token_id", "video_end_token_id");

  /** What a servable checkpoint takes from another one besides weights and shape. */
  private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
      "chat_template.jinja", "preprocessor_config.json", "generation_config.json");

  /**
   * Writes a checkpoint that {@code glance serve} and {@code glance ask} can load: the shape's
   * weights, written dense (see the class comment), plus the tokenizer, chat template and
   * preprocessor config of {@code tokenizerDir}, with config.json's special token ids taken from
   * that checkpoint so the tokenizer's image placeholder is the one the model expands. Serving
   * throughput does not depend on weight values, so zero matrices measure it as well as trained
   * ones. The weights are not written again when {@code dir} already holds this checkpoint.
   */
  public static Path writeServable(BenchShape s, Path dir, Path tokenizerDir) {
    try {
      ObjectMapper m = new ObjectMapper();
      Path sourceConfig = tokenizerDir.resolve("config.json");
      if (!Files.isRegularFile(sourceConfig) || !Files.isRegularFile(tokenizerDir.resolve("tokenizer.json"))) {
        throw new IllegalArgumentException(tokenizerDir + " has no config.json and tokenizer.json to take the"
            + " tokenizer from");
      }
      com.fasterxml.jackson.databind.JsonNode source = m.readTree(sourceConfig.toFile());
      ObjectNode config = (ObjectNode) m.readTree(s.configJson());
      for (String key : TOKEN_ID_KEYS) {
        com.fasterxml.jackson.databind.JsonNode id = source.path(key);
        if (!id.isInt()) {
          throw new IllegalArgumentException(sourceConfig + " has no integer " + key);
        }
        if (id.intValue() >= s.vocab()) {
          throw new IllegalArgumentException(sourceConfig + ": " + key + " " + id.intValue()
              + " is not below the " + s.name() + " shape's vocabulary of " + s.vocab());
        }
        config.put(key, id.intValue());
      }
      String patched = config.toPrettyString();
      Files.createDirectories(dir);
      Path cfg = dir.resolve("config.json");
      Path weights = dir.resolve("model.safetensors");
      boolean same = Files.isRegularFile(cfg) && Files.readString(cfg).equals(patched)
          && Files.isRegularFile(weights) && Files.size(weights) == 8 + headerBytes(weights) + totalWeightBytes(s);
      if (!same) {
        Files.deleteIfExists(cfg);
        writeWeights(s, dir, true);
      }
      for (String name : TOKENIZER_FILES) {
        Path from = tokenizerDir.resolve(name);
        if (Files.isRegularFile(from)) {
          Files.copy(from, dir.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
      // Written last: a config.json beside a half-written weights file would pass for a whole checkpoint.
      Files.writeString(cfg, patched, StandardCharsets.UTF_8);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The header length a safetensors file states in its first 8 bytes. */
  private static long headerBytes(Path file) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      return Long.reverseBytes(f.readLong());
    }
  }

  /** Total bytes of the matrices a decode step reads: every text layer's and lm_head's. */
  public static long decodeWeightBytes(BenchShape s) {
    long n = 0;
    for (Entry e : entries(s)) {
      if (e.name().startsWith("model.language_model.layers.") || e.name().equals("lm_head.weight")
          || e.name().equals("model.language_model.norm.weight")) {
        n += 2 * e.elements();
      }
    }
    return n;
  }

  /** Bytes of all weights. */
  public static long totalWeightBytes(BenchShape s) {
    return entries(s).stream().mapToLong(e -> 2 * e.elements()).sum();
  }

  private static List<Entry> entries(BenchShape s) {
    List<Entry> l = new ArrayList<>();
    String v = "model.visual.";
    int d = s.visionHidden();
    int out = s.hidden();
    int side = 336 / 14;
    l.add(matrix(v + "patch_embed.proj.weight", d, 3, 2, 14, 14));
    l.add(vector(v + "patch_embed.proj.bias", d, 0));
    l.add(vector(v + "post_conv_layernorm.weight", d, 1));
    l.add(matrix(v + "embeddings.position_embedding.weight", side * side, d));
    for (int i = 0; i < s.visionDepth(); i++) {
      String b = v + "blocks." + i + ".";
      l.add(vector(b + "norm1.weight", d, 1));
      l.add(vector(b + "norm2.weight", d, 1));
      l.add(matrix(b + "attn.qkv.weight", 3L * d, d));
      l.add(matrix(b + "attn.proj.weight", d, d));
      l.add(matrix(b + "mlp.gate_proj.weight", out, d));
      l.add(matrix(b + "mlp.up_proj.weight", out, d));
      l.add(matrix(b + "mlp.down_proj.weight", d, out));
    }
    l.add(vector(v + "post_layernorm.weight", d, 1));
    l.add(matrix(v + "downsample.weight", out, d, 2, 2));
    l.add(vector(v + "downsample.bias", out, 0));
    l.add(matrix(v + "merger.proj.weight", out, out));
    l.add(vector(v + "merger.post_projection_norm.weight", out, 1));
    l.add(vector(v + "merger.post_projection_norm.bias", out, 0));
    l.add(matrix(v + "merger.gate_proj.weight", s.mergerIntermediate(), out));
    l.add(matrix(v + "merger.up_proj.weight", s.mergerIntermediate(), out));
    l.add(matrix(v + "merger.down_proj.weight", out, s.mergerIntermediate()));
    String t = "model.language_model.";
    int h = s.hidden();
    int headDim = h / s.heads();
    long qw = (long) s.heads() * headDim;
    long kvw = (long) s.kvHeads() * headDim;
    l.add(matrix(t + "embed_tokens.weight", s.vocab(), h));
    for (int i = 0; i < s.layers(); i++) {
      String p = t + "layers." + i + ".";
      l.add(vector(p + "input_layernorm.weight", h, 1));
      l.add(vector(p + "post_self_attn_layernorm.weight", h, 1));
      l.add(vector(p + "post_attention_layernorm.weight", h, 1));
      l.add(vector(p + "post_mlp_layernorm.weight", h, 1));
      l.add(matrix(p + "self_attn.q_proj.weight", qw, h));
      l.add(vector(p + "self_attn.q_proj.bias", qw, 0));
      l.add(matrix(p + "self_attn.k_proj.weight", kvw, h));
      l.add(vector(p + "self_attn.k_proj.bias", kvw, 0));
      l.add(matrix(p + "self_attn.v_proj.weight", kvw, h));
      l.add(vector(p + "self_attn.v_proj.bias", kvw, 0));
      l.add(matrix(p + "self_attn.o_proj.weight", h, qw));
      l.add(matrix(p + "mlp.gate_up_proj.weight", 2L * s.intermediate(), h));
      l.add(matrix(p + "mlp.down_proj.weight", h, s.intermediate()));
    }
    l.add(vector(t + "norm.weight", h, 1));
    l.add(matrix("lm_head.weight", s.vocab(), h));
    return l;
  }

  private static Entry matrix(String name, long... shape) {
    return new Entry(name, shape, false, 0);
  }

  private static Entry vector(String name, long n, float fill) {
    return new Entry(name, new long[] {n}, true, fill);
  }
}
