package dev.glance.server.api;

import dev.glance.engine.image.ImageHeader;
import dev.glance.engine.image.ImageProcessor;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import java.util.List;

/**
 * What a request's prompt will cost in tokens, judged before anything is decoded or tokenized:
 * each image's placeholder tokens exactly from the size its header declares (the same resize
 * arithmetic the preprocessor uses), text at one token per three characters plus a few tokens of
 * chat template per message. Admission counts these against --max-queued-tokens; the real count
 * is measured once the request is prepared.
 */
public final class PromptEstimate {
  /** Role marker and separators the chat template adds around each message. */
  static final int TEMPLATE_TOKENS_PER_MESSAGE = 4;
  static final int CHARS_PER_TOKEN = 3;

  private final ImageProcessor processor;

  public PromptEstimate(ImageProcessor processor) {
    this.processor = processor;
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
