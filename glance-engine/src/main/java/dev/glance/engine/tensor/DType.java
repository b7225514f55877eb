package dev.glance.engine.tensor;

import dev.glance.engine.GlanceException;

/** Element types a checkpoint tensor may have, with their safetensors spelling and byte width. */
public enum DType {
  F32(4),
  F16(2),
  BF16(2),
  I64(8),
  I32(4);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  public int bytes() {
    return bytes;
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
