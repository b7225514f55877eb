package dev.glance.engine.runtime;

import dev.glance.engine.generate.Piece;
import dev.glance.engine.generate.SamplingParams;
import dev.glance.engine.image.RgbImage;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Synthetic requests a server runs through its scheduler before it takes traffic. Until C2 has
 * compiled the kernels the Vector API runs interpreted, several times slower: on the mid shape
 * the first request after start spent 4.7 s in the vision tower and 6.6 s in prefill, against
 * 0.45 s and 0.9 s for the requests after it. Without this, the first users of a fresh server pay
 * for the JIT. One request alone (the single-sequence paths), then several arriving together
 * (prompts prefilled in one pass, batched decode steps), each with its own small image and
 * prompt, go through exactly the code serving uses: preprocessing, the vision tower, paged KV,
 * the prefix cache and sampling.
 *
 * <p>Their images and prompt blocks stay in the vision and prefix caches like any request's
 * (bounded, evicted first as least recently used) and count in the scheduler's step counters.
 */
public final class Warmup {
  /** Requests per round: one alone, then this many together. */
  private static final int[] ROUNDS = {1, 4};
  private static final int IMAGE_SIDE = 112;

  /** What the warm-up did: requests answered, the errors of those that failed, and its wall time. */
  public record Result(int completed, List<String> errors, long nanos) {}

  private Warmup() {}

  /**
   * Runs the rounds on the calling thread, stepping {@code scheduler} until each round is done;
   * nothing else may step it meanwhile. A request that fails is reported, not thrown: the server
   * can still serve, just slowly at first.
   */
  public static Result run(BatchScheduler scheduler, int maxTokens) {
    long start = System.nanoTime();
    int[] completed = {0};
    List<String> errors = new ArrayList<>();
    int index = 0;
    for (int together : ROUNDS) {
      for (int i = 0; i < together; i++, index++) {
        scheduler.add(request(index, maxTokens), () -> false, new BatchScheduler.Listener() {
          @Override
          public void started(long queueNanos) {}

          @Override
          public void piece(Piece piece) {}

          @Override
          public void finished(GenerationResult result) {
            completed[0]++;
          }

          @Override
          public void failed(Throwable error) {
            errors.add(String.valueOf(error.getMessage()));
          }

          @Override
          public void dropped() {
            errors.add("dropped");
          }
        });
      }
      while (!scheduler.idle()) {
        scheduler.step();
      }
    }
    return new Result(completed[0], List.copyOf(errors), System.nanoTime() - start);
  }

  /** Request i: a colour field of its own (so no two share a vision-cache entry) and a question. */
  static GenerationRequest request(int i, int maxTokens) {
    byte[] rgb = new byte[IMAGE_SIDE * IMAGE_SIDE * 3];
    for (int y = 0; y < IMAGE_SIDE; y++) {
      for (int x = 0; x < IMAGE_SIDE; x++) {
        int p = (y * IMAGE_SIDE + x) * 3;
        rgb[p] = (byte) (x * 2 + i * 40);
        rgb[p + 1] = (byte) (y * 2 + i * 70);
        rgb[p + 2] = (byte) ((x + y) + i * 25);
      }
    }
    ImageInput image = new ImageInput.Decoded("warm-up image " + i, new RgbImage(IMAGE_SIDE, IMAGE_SIDE, rgb));
    ChatMessage message = ChatMessage.user(new ContentPart.ImagePart(0),
        new ContentPart.TextPart("Warm-up request " + i + ": what colours does this picture show?"));
    return new GenerationRequest(List.of(message), List.of(image), Optional.of(false),
        SamplingParams.greedy(maxTokens));
  }
}
