package dev.glance.engine.bench;

import dev.glance.engine.tensor.DType;
import java.util.Optional;

/**
 * What one benchmark run measures.
 *
 * @param shape the model shape to build with random weights
 * @param weights the text decoder's weight format: BF16, F32, Q8_0 or Q4_0 (the vision tower is BF16)
 * @param kv the KV cache's dtype: F32 or BF16
 * @param threads kernel threads (and threads of the bandwidth loop)
 * @param decodeTokens decode steps timed after the 512-token prefill
 * @param repeat timed runs of each measurement; the fastest is reported
 * @param vision whether to time the vision tower (the slowest part on a CPU)
 * @param bandwidthBytes size of the buffer the bandwidth loop reads
 * @param llamaBench llama.cpp's llama-bench and a GGUF of the same shape and format, run after
 *     Glance's timings so the llama.cpp ratios are measured in the same run; empty: the ratios
 *     are taken against {@link LlamaCppReference}'s fixed numbers from the reference machine
 */
public record BenchOptions(BenchShape shape, DType weights, DType kv, int threads, int decodeTokens, int repeat,
    boolean vision, long bandwidthBytes, Optional<LlamaBench> llamaBench) {

  public BenchOptions {
    if (weights != DType.BF16 && weights != DType.F32 && weights != DType.Q8_0 && weights != DType.Q4_0) {
      throw new IllegalArgumentException("weights must be BF16, F32, Q8_0 or Q4_0, not " + weights);
    }
    if (threads < 1 || decodeTokens < 1 || repeat < 1 || bandwidthBytes < (1 << 20)) {
      throw new IllegalArgumentException("threads, decode tokens and repeat must be positive, "
          + "bandwidth buffer at least 1 MiB");
    }
  }
}
