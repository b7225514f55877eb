package dev.glance.server.cache;

import dev.glance.engine.generate.SamplingParams;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Everything that decides a deterministic generation's output: the model, the images (SHA-256 of
 * their decoded pixels, so two different images behind identical placeholder tokens never share an
 * entry, while a PNG and a lossless re-encoding of it do), the messages, the template's
 * {@code enable_thinking}, every sampling parameter, the resize ceiling and whether the context
 * limit is strict. Records throughout, so equality is by value.
 */
public record ResponseKey(
    String model,
    List<String> imageHashes,
    List<ChatMessage> messages,
    Optional<Boolean> thinking,
    SamplingParams sampling,
    OptionalLong maxPixels,
    boolean strictContext) {

  public ResponseKey {
    imageHashes = List.copyOf(imageHashes);
    messages = List.copyOf(messages);
  }

  /** Whether a request with these sampling parameters always produces the same tokens. */
  public static boolean deterministic(SamplingParams sampling) {
    return sampling.temperature() == 0 || sampling.seed().isPresent();
  }

  /** A rough size in bytes, for the cache's bound. */
  long weight() {
    long w = 256 + imageHashes.size() * 80L;
    for (ChatMessage m : messages) {
      for (ContentPart p : m.content()) {
        w += 32 + (p instanceof ContentPart.TextPart t ? 2L * t.text().length() : 0);
      }
    }
    for (String s : sampling.stop()) {
      w += 2L * s.length() + 32;
    }
    return w;
  }
}
