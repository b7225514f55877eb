package dev.glance.server.api;

import dev.glance.engine.image.SmartResize;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import dev.glance.server.ServedModel;
import java.nio.charset.StandardCharsets;

/**
 * The most tokens a parsed request can use (prompt, images and completion), computed before any
 * image is fetched or decoded, for the tokens-per-minute reservation. It is an upper bound, so
 * that requests admitted together can never use more than the limit once settled: text counts a
 * token per UTF-8 byte (a byte-level BPE token is at least one byte) plus the chat template's
 * markers; an image counts what the largest image could become after resizing to the request's
 * pixel ceiling; the completion counts max_tokens; and the whole is capped at the context length,
 * which no sequence can exceed.
 */
public final class TokenEstimate {
  /** Role markers and separators the chat template adds around each message. */
  static final int PER_MESSAGE = 8;
  /** Markers before the first message and the generation prompt after the last. */
  static final int PER_PROMPT = 32;
  /** Begin- and end-of-image markers around each image's tokens. */
  static final int PER_IMAGE_MARKERS = 2;

  private TokenEstimate() {}

  public static int of(InferenceInput input, ServedModel model) {
    long pixels = input.maxPixels().orElse(model.maxPixels());
    long text = PER_PROMPT;
    long images = 0;
    for (ChatMessage m : input.messages()) {
      text += PER_MESSAGE;
      for (ContentPart part : m.content()) {
        switch (part) {
          case ContentPart.TextPart t -> text += t.text().getBytes(StandardCharsets.UTF_8).length;
          case ContentPart.ImagePart i -> images += maxImageTokens(pixels, model.pixelsPerImageToken());
        }
      }
    }
    long total = text + images + input.sampling().maxTokens();
    return (int) Math.min(total, model.contextLength());
  }

  /**
   * Resizing keeps (temporal x height x width) within the ceiling, except that a very elongated
   * image keeps at least one merged patch across its short side: up to {@link
   * SmartResize#MAX_ASPECT_RATIO} tokens more.
   */
  static long maxImageTokens(long maxPixels, long pixelsPerToken) {
    return maxPixels / pixelsPerToken + (long) SmartResize.MAX_ASPECT_RATIO + PER_IMAGE_MARKERS;
  }
}
