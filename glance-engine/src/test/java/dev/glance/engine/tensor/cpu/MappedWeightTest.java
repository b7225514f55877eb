package dev.glance.engine.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.TensorData;
import dev.glance.engine.tensor.Weight;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights over a mapped file are read through a plain native view of the same memory, so the
 * kernels see one segment class whatever the weights came from (see {@link CpuWeight#of}), and
 * they give the values the file holds.
 */
class MappedWeightTest {
  @TempDir
  Path dir;

  @Test
  void mappedBf16WeightIsReadThroughANativeViewOfTheSameBytes() throws IOException {
    int rows = 67;
    int cols = 45;
    SplittableRandom rnd = new SplittableRandom(7);
    var le16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    float[] values = new float[rows * cols];
    byte[] bytes = new byte[rows * cols * 2];
    MemorySegment src = MemorySegment.ofArray(bytes);
    for (int i = 0; i < values.length; i++) {
      short s = (short) (Float.floatToRawIntBits((float) (rnd.nextDouble() * 2 - 1)) >>> 16);
      src.setAtIndex(le16, i, s);
      values[i] = Float.intBitsToFloat((s & 0xffff) << 16);
    }
    Path file = Files.write(dir.resolve("w.bin"), bytes);
    float[] x = new float[cols];
    for (int i = 0; i < cols; i++) {
      x[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    try (Arena arena = Arena.ofShared(); CpuBackend b = new CpuBackend(2);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes.length, arena);
      assertTrue(mapped.isMapped());
      CpuWeight w = CpuWeight.of("w", DType.BF16, mapped, rows, cols);
      MemorySegment seen = ((CpuWeight.BF16) w).seg();
      assertFalse(seen.isMapped(), "kernels must see a native segment, not the mapped one");
      assertEquals(mapped.address(), seen.address());
      assertEquals(mapped.byteSize(), seen.byteSize());
      assertTrue(seen.isReadOnly());

      Weight weight = b.matrix(new TensorData("w", DType.BF16, new long[] {rows, cols}, mapped), rows, cols);
      float[] out = new float[rows];
      b.download(linear(b, weight, x, cols, rows), out);
      for (int r = 0; r < rows; r++) {
        double ref = 0;
        for (int i = 0; i < cols; i++) {
          ref += (double) values[r * cols + i] * x[i];
        }
        assertEquals(ref, out[r], 1e-5 * Math.max(1, Math.abs(ref)), "row " + r);
      }
    }
  }

  private static Tensor linear(CpuBackend b, Weight w, float[] x, int cols, int rows) {
    Tensor out = b.allocate(1, rows);
    b.linear(b.upload(x, 1, cols), w, null, out);
    return out;
  }
}
