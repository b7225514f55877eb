package dev.glance.engine.bench;

import dev.glance.engine.tensor.DType;
import java.util.Optional;

/**
 * llama.cpp's speed on this project's reference machine (2 cores, `llama-bench -t 2`, CPU only,
 * random-weight GGUF models of the bench shapes, glm4 architecture), as measured for the issue
 * that asked for the CPU kernels. BF16 is compared with llama.cpp's F16. These are reference
 * numbers, not measured in the run that reports ratios against them; {@link LlamaBench} measures
 * the same three rates on the machine at hand and replaces them.
 */
public record LlamaCppReference(double prompt128, double prompt512, double generation) {

  public static Optional<LlamaCppReference> of(BenchShape shape, DType weights) {
    return switch (shape) {
      case MID -> switch (weights) {
        case BF16, F16 -> Optional.of(new LlamaCppReference(61.9, 60.6, 8.49));
        case Q8_0 -> Optional.of(new LlamaCppReference(50.6, 46.3, 14.58));
        case Q4_0 -> Optional.of(new LlamaCppReference(55.3, 46.3, 21.32));
        default -> Optional.empty();
      };
      case GLM46V_FLASH -> weights == DType.Q4_0
          ? Optional.of(new LlamaCppReference(7.84, 7.96, 4.15)) : Optional.empty();
      default -> Optional.empty();
    };
  }
}
