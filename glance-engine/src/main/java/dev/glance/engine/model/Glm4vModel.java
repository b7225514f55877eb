package dev.glance.engine.model;

import dev.glance.engine.GlanceException;
import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.io.CheckpointWeights;
import dev.glance.engine.io.TensorSource;
import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.KvBlocks;
import java.util.Optional;
import dev.glance.engine.io.ModelConfig;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;

/**
 * GLM-4V for conditional generation: the vision tower, the text decoder and the glue between
 * them (image embeddings scattered into the placeholder rows, M-RoPE positions). Weights stay
 * memory-mapped for the model's lifetime; {@link #close()} unmaps them.
 */
public final class Glm4vModel implements AutoCloseable {
  private final ModelConfig config;
  private final AutoCloseable weights;
  private final Arena arena;
  private final Backend backend;
  private final DType kvType;
  private final VisionTower vision;
  private final TextDecoder text;

  private Glm4vModel(ModelConfig config, TensorSource source, AutoCloseable weights, Arena arena, Backend backend,
      Optional<DType> quantize, DType kvType) {
    this.config = config;
    this.weights = weights;
    this.arena = arena;
    this.backend = backend;
    this.kvType = kvType;
    WeightLoader loader = new WeightLoader(source, backend, quantize);
    this.vision = new VisionTower(loader, config.vision(), arena);
    this.text = new TextDecoder(loader, config.text());
  }

  /** Loads config.json and the weights of {@code dir} onto {@code backend}, as stored. */
  public static Glm4vModel load(Path dir, Backend backend) {
    return load(dir, backend, Optional.empty(), DType.F32);
  }

  /**
   * Loads config.json and the weights of {@code dir} onto {@code backend}; the text decoder's
   * matrices are quantised to {@code quantize} (Q8_0, Q4_0) when given, and sequences keep their
   * keys and values as {@code kvType} (F32 or BF16).
   */
  public static Glm4vModel load(Path dir, Backend backend, Optional<DType> quantize, DType kvType) {
    ModelConfig config = ModelConfig.load(dir);
    CheckpointWeights weights = CheckpointWeights.open(dir);
    return build(config, weights, weights, backend, quantize, kvType);
  }

  /**
   * A model over any tensor source (benchmarks generate one); {@code owner} is closed with the
   * model (null if nothing to close).
   */
  public static Glm4vModel build(ModelConfig config, TensorSource source, AutoCloseable owner, Backend backend,
      Optional<DType> quantize, DType kvType) {
    Arena arena = Arena.ofShared();
    try {
      return new Glm4vModel(config, source, owner, arena, backend, quantize, kvType);
    } catch (RuntimeException e) {
      arena.close();
      closeQuietly(owner);
      throw e;
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception ignored) {
      // Closing after a failed load: the load's error is the one worth reporting.
    }
  }

  /** How sequences store keys and values. */
  public DType kvType() {
    return kvType;
  }

  public ModelConfig config() {
    return config;
  }

  public Backend backend() {
    return backend;
  }

  public VisionTower vision() {
    return vision;
  }

  public TextDecoder text() {
    return text;
  }

  /** Image embeddings [tokens][hidden] for pixel values of the given images. */
  public Tensor encodeImages(float[] pixels, List<ImageGrid> grids) {
    return vision.encode(backend, pixels, grids);
  }

  /**
   * Token embeddings of a prompt with the image placeholder rows replaced, in order, by the
   * rows of {@code imageEmbeds} (null when the prompt has no images).
   */
  public Tensor embedPrompt(int[] ids, Tensor imageEmbeds) {
    Tensor x = text.embed(backend, ids);
    int image = config.tokens().image();
    int placeholders = 0;
    for (int id : ids) {
      placeholders += id == image ? 1 : 0;
    }
    int available = imageEmbeds == null ? 0 : imageEmbeds.rows();
    if (placeholders != available) {
      throw new GlanceException.BadRequest("prompt has " + placeholders
          + " image placeholder tokens but the images give " + available + " embeddings");
    }
    int next = 0;
    for (int i = 0; i < ids.length; ) {
      if (ids[i] != image) {
        i++;
        continue;
      }
      int j = i;
      while (j < ids.length && ids[j] == image) {
        j++;
      }
      backend.copyRows(imageEmbeds, next, x, i, j - i);
      next += j - i;
      i = j;
    }
    return x;
  }

  /** Starts a sequence whose KV cache holds up to {@code capacity} tokens. */
  public Sequence newSequence(int capacity) {
    return new Sequence(this, capacity);
  }

  /**
   * Paged KV storage for this model's decoder (its layers, KV heads, head size and KV dtype) in
   * blocks of about {@code blockTokens} positions; empty when the backend has none.
   */
  public Optional<KvBlocks> kvBlocks(int blockTokens) {
    var c = config.text();
    return backend.kvBlocks(c.layers(), c.kvHeads(), c.headDim(), blockTokens, kvType);
  }

  /** Starts a sequence whose KV cache is the block table {@code table} into {@code blocks}. */
  public Sequence newSequence(KvBlocks blocks, int[] table, int capacity) {
    return new Sequence(this, backend.kvCache(blocks, table, capacity));
  }

  @Override
  public void close() {
    arena.close();
    closeQuietly(weights);
  }
}
