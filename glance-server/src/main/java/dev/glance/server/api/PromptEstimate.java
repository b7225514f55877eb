package dev.glance.server.api;

import dev.glance.engine.image.ImageHeader;
import dev.glance.engine.image.ImageProcessor;
import dev.glance.engine.image.SmartResize;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What a request will cost in tokens, judged before anything is decoded or tokenized. Two
 * questions, asked at two moments, answered from one place so that the template allowances and
 * the image arithmetic cannot drift apart:
 *
 * <ul>
 *   <li>{@link #upperBound}: right after parsing, before any image is fetched, for the
 *       tokens-per-minute reservation. It must never undercount, so that requests admitted
 *       together can never use more than the limit once settled: text counts a token per UTF-8
 *       byte (a byte-level BPE token is at least one byte) plus generous template markers, an
 *       image what the largest image could become under the request's pixel ceiling, and the
 *       completion its max_tokens; capped at the context length, which no sequence can exceed.
 *   <li>{@link #tokens}: once the images' headers are read (still before decoding), for the
 *       queue's --max-queued-tokens. A close estimate, not a bound: each image's placeholder
 *       tokens exactly from its declared size (the preprocessor's own resize arithmetic), text at
 *       one token per three characters plus the template's few tokens per message. The real count
 *       is measured once the request is prepared.
 * </ul>
 */
public final class PromptEstimate {
  /** Upper bound: role markers and separators the chat template adds around each message. */
  static final int MAX_TEMPLATE_PER_MESSAGE = 8;
  /** Upper bound: markers before the first message and the generation prompt after the last. */
  static final int MAX_TEMPLATE_PER_PROMPT = 32;
  /** Begin- and end-of-image markers around each image's tokens. */
  static final int IMAGE_MARKERS = 2;
  /** Estimate: role marker and separators per message. */
  static final int TEMPLATE_TOKENS_PER_MESSAGE = 4;
  static final int CHARS_PER_TOKEN = 3;

  private final ImageProcessor processor;
  private final long pixelsPerImageToken;

  /** {@code processor} resizes to the server's pixel ceiling. */
  public PromptEstimate(ImageProcessor processor) {
    this.processor = processor;
    var pre = processor.config();
    // Resized pixels that make one image token: temporal patch x (patch x merge)^2.
    this.pixelsPerImageToken = (long) pre.temporalPatchSize() * pre.factor() * pre.factor();
  }

  /**
   * The most tokens (prompt, images and completion) a parsed request can use, with images sized
   * to {@code maxPixels} at worst; capped at {@code contextLength}.
   */
  public int upperBound(InferenceInput input, long maxPixels, int contextLength) {
    long pixels = input.maxPixels().orElse(maxPixels);
    long total = MAX_TEMPLATE_PER_PROMPT + input.sampling().maxTokens();
    for (ChatMessage m : input.messages()) {
      total += MAX_TEMPLATE_PER_MESSAGE;
      for (ContentPart part : m.content()) {
        switch (part) {
          case ContentPart.TextPart t -> total += t.text().getBytes(StandardCharsets.UTF_8).length;
          case ContentPart.ImagePart i -> total += maxImageTokens(pixels);
        }
      }
    }
    return (int) Math.min(total, contextLength);
  }

  /**
   * Resizing keeps (temporal x height x width) within the ceiling, except that a very elongated
   * image keeps at least one merged patch across its short side: up to {@link
   * SmartResize#MAX_ASPECT_RATIO} tokens more.
   */
  long maxImageTokens(long maxPixels) {
    return maxPixels / pixelsPerImageToken + (long) SmartResize.MAX_ASPECT_RATIO + IMAGE_MARKERS;
  }

  /** Estimated prompt tokens of {@code messages} with images of the given header sizes. */
  public long tokens(List<ChatMessage> messages, List<ImageHeader> images) {
    long total = 0;
    for (ImageHeader h : images) {
      total += imageTokens(h);
    }
    for (ChatMessage m : messages) {
      total += TEMPLATE_TOKENS_PER_MESSAGE;
      for (ContentPart part : m.content()) {
        if (part instanceof ContentPart.TextPart t) {
          total += (t.text().length() + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN;
        }
      }
    }
    return total;
  }

  /** Placeholder tokens of one image, as the preprocessor will size it. */
  public long imageTokens(ImageHeader h) {
    return processor.grid(h.width(), h.height()).tokens(processor.config().mergeSize());
  }
}
