package dev.glance.engine.bench;

import dev.glance.engine.GlanceException;
import dev.glance.engine.io.ModelConfig;
import dev.glance.engine.io.TensorSource;
import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.Quantizer;
import dev.glance.engine.tensor.TensorData;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Random weights of whatever shape the model asks for, generated when asked, in off-heap memory
 * this source owns. The text decoder's matrices (attention and MLP projections, lm_head) are
 * generated directly in {@code textFormat}, block by block from random values, so a 10 B
 * parameter model in Q8_0 or Q4_0 never exists in BF16 first; everything else is BF16 (as a
 * checkpoint stores it). Values are small (std 0.02) and norm weights are 1, so activations stay
 * finite through every layer.
 */
public final class RandomWeights implements TensorSource, AutoCloseable {
  private static final ValueLayout.OfShort LE_SHORT =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfFloat LE_FLOAT =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final float SCALE = (float) (0.02 * Math.sqrt(3));

  /** Rows of the learned vision position table: a 24 x 24 grid, as image_size 336 / patch 14. */
  private static final int POSITION_ROWS = 576;

  private final String label;
  private final ModelConfig config;
  private final DType textFormat;
  private final long seed;
  private final Arena arena = Arena.ofShared();
  private long bytes;

  /** textFormat: BF16, F32, Q8_0 or Q4_0. */
  public RandomWeights(String label, ModelConfig config, DType textFormat, long seed) {
    this.label = label;
    this.config = config;
    this.textFormat = textFormat;
    this.seed = seed;
  }

  /** Bytes generated so far. */
  public long bytes() {
    return bytes;
  }

  @Override
  public String describe() {
    return "random " + label;
  }

  @Override
  public TensorData find(String name) {
    if (name.endsWith("embeddings.position_embedding.weight")) {
      return require(name, POSITION_ROWS, config.vision().hidden());
    }
    throw new GlanceException.ModelLoad(describe() + ": tensor " + name + " has no known shape");
  }

  @Override
  public TensorData require(String name, long... shape) {
    long count = 1;
    for (long d : shape) {
      count *= d;
    }
    long elements = count;
    boolean norm = name.contains("norm") && name.endsWith(".weight");
    boolean textMatrix = shape.length == 2 && !norm
        && (name.startsWith("model.language_model.layers.") || name.equals("lm_head.weight"));
    DType dtype = textMatrix ? textFormat : DType.BF16;
    long size = dtype.byteSize(elements);
    MemorySegment seg = arena.allocate(size, 64);
    bytes += size;
    long mix = seed ^ name.hashCode() * 0x9E3779B97F4A7C15L;
    if (norm) {
      fill(seg, elements, dtype, 1f);
    } else if (textMatrix && dtype.quantized()) {
      int rows = (int) shape[0];
      int cols = (int) shape[1];
      long rowBytes = dtype.rowBytes(cols);
      IntStream.range(0, (rows + 63) / 64).parallel().forEach(chunk -> {
        SplittableRandom rnd = new SplittableRandom(mix + chunk);
        float[] row = new float[cols];
        for (int r = chunk * 64; r < Math.min(rows, chunk * 64 + 64); r++) {
          for (int i = 0; i < cols; i++) {
            row[i] = (float) (rnd.nextDouble() * 2 - 1) * SCALE;
          }
          Quantizer.quantize(dtype, row, 0, cols, seg, r * rowBytes);
        }
      });
    } else {
      long chunk = 1 << 16;
      long chunks = (elements + chunk - 1) / chunk;
      IntStream.range(0, Math.toIntExact(chunks)).parallel().forEach(c -> {
        SplittableRandom rnd = new SplittableRandom(mix + c);
        long end = Math.min(elements, (c + 1) * chunk);
        for (long i = c * chunk; i < end; i++) {
          float v = (float) (rnd.nextDouble() * 2 - 1) * SCALE;
          if (dtype == DType.F32) {
            seg.setAtIndex(LE_FLOAT, i, v);
          } else {
            seg.setAtIndex(LE_SHORT, i, (short) (Float.floatToRawIntBits(v) >>> 16));
          }
        }
      });
    }
    return new TensorData(name, dtype, Arrays.copyOf(shape, shape.length), seg);
  }

  private static void fill(MemorySegment seg, long elements, DType dtype, float value) {
    for (long i = 0; i < elements; i++) {
      if (dtype == DType.F32) {
        seg.setAtIndex(LE_FLOAT, i, value);
      } else {
        seg.setAtIndex(LE_SHORT, i, (short) (Float.floatToRawIntBits(value) >>> 16));
      }
    }
  }

  @Override
  public void close() {
    arena.close();
  }
}
