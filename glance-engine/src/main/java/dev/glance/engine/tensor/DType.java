package dev.glance.engine.tensor;

import dev.glance.engine.GlanceException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Element types a tensor may have: the safetensors scalar types, and the block-quantised weight
 * formats Q8_0 and Q4_0 laid out as llama.cpp lays them out (blocks of 32 values along a row,
 * each block an f16 scale followed by 32 int8 values, or by 16 bytes of 4-bit values where byte
 * j holds value j in its low nibble and value j + 16 in its high nibble; value = scale * q, with
 * q - 8 for Q4_0).
 */
public enum DType {
  F32(4, 1),
  F16(2, 1),
  BF16(2, 1),
  I64(8, 1),
  I32(4, 1),
  Q8_0(34, 32),
  Q4_0(18, 32);

  /** Values per quantisation block. */
  public static final int BLOCK = 32;

  private final int blockBytes;
  private final int block;

  DType(int blockBytes, int block) {
    this.blockBytes = blockBytes;
    this.block = block;
  }

  /** Bytes per element; only for scalar types (block formats have no whole byte count). */
  public int bytes() {
    if (block != 1) {
      throw new UnsupportedOperationException(this + " is a block format; use byteSize(elements)");
    }
    return blockBytes;
  }

  public boolean quantized() {
    return block != 1;
  }

  /** Bytes that {@code elements} values take (a multiple of the block size for block formats). */
  public long byteSize(long elements) {
    if (elements % block != 0) {
      throw new IllegalArgumentException(elements + " elements are not whole " + this + " blocks");
    }
    return elements / block * blockBytes;
  }

  /** Bytes per row of {@code cols} values. */
  public long rowBytes(int cols) {
    return byteSize(cols);
  }

  /** Average bytes per value, for bandwidth arithmetic (e.g. 1.0625 for Q8_0). */
  public double bytesPerValue() {
    return (double) blockBytes / block;
  }

  /** The lower-case name users type: f32, bf16, q8_0, ... */
  public String flagName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a user-typed format name (case-insensitive) out of {@code allowed}; otherwise a
   * BadRequest naming {@code what} (a flag or setting) and the accepted names.
   */
  public static DType parse(String text, String what, DType... allowed) {
    for (DType d : allowed) {
      if (d.flagName().equalsIgnoreCase(text == null ? "" : text.strip())) {
        return d;
      }
    }
    throw new GlanceException.BadRequest(what + ": '" + text + "' is not one of "
        + Arrays.stream(allowed).map(DType::flagName).collect(Collectors.joining(", ")));
  }

  /** Parses a safetensors dtype string; unknown types are refused with the tensor's name. */
  public static DType ofSafetensors(String name, String tensor) {
    return switch (name) {
      case "F32" -> F32;
      case "F16" -> F16;
      case "BF16" -> BF16;
      case "I64" -> I64;
      case "I32" -> I32;
      default ->
          throw new GlanceException.Unsupported(
              "tensor " + tensor + " has dtype " + name + "; supported: F32, F16, BF16, I64, I32");
    };
  }
}
