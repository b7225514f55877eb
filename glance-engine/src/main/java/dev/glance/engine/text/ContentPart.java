package dev.glance.engine.text;

import java.util.Objects;

/**
 * One piece of a chat message's content, in order: text, or a reference to an image supplied
 * alongside the messages. The template renders an image part as the image placeholder; the prompt
 * builder later expands that placeholder to the image's token count.
 */
public sealed interface ContentPart {

  /** Literal text. */
  record TextPart(String text) implements ContentPart {
    public TextPart {
      Objects.requireNonNull(text, "text");
    }
  }

  /**
   * The image at {@code index} (zero-based) in the list of images sent with the conversation, so a
   * conversation can place images anywhere and the caller keeps one flat list of pixels.
   */
  record ImagePart(int index) implements ContentPart {
    public ImagePart {
      if (index < 0) {
        throw new IllegalArgumentException("image index must be >= 0, got " + index);
      }
    }
  }

  /** Shorthand for {@code new TextPart(text)}. */
  static ContentPart text(String text) {
    return new TextPart(text);
  }

  /** Shorthand for {@code new ImagePart(index)}. */
  static ContentPart image(int index) {
    return new ImagePart(index);
  }
}
