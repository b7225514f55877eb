package dev.glance.engine.text;

import java.util.List;
import java.util.Objects;

/**
 * One chat turn: a role and its content as an ordered list of parts.
 *
 * <p>Chat templates see content in one of two shapes, as Hugging Face passes it: a plain string, or
 * a list of typed items. Some templates render the two differently, so the shape is kept: a message
 * made with {@link #text(Role, String)} (or {@link #system}, {@link #user(String)},
 * {@link #assistant}) has {@code plainText} set and exactly one {@link ContentPart.TextPart}.
 *
 * @param role who speaks
 * @param content the parts, in order (unmodifiable copy)
 * @param plainText whether the template should receive the content as a bare string
 */
public record ChatMessage(Role role, List<ContentPart> content, boolean plainText) {

  public ChatMessage {
    Objects.requireNonNull(role, "role");
    content = List.copyOf(content);
    if (plainText && (content.size() != 1 || !(content.getFirst() instanceof ContentPart.TextPart))) {
      throw new IllegalArgumentException("plain-text content must be exactly one text part");
    }
  }

  /** A message whose content is a plain string. */
  public static ChatMessage text(Role role, String text) {
    return new ChatMessage(role, List.of(new ContentPart.TextPart(text)), true);
  }

  /** A message whose content is a list of parts (text and images, in order). */
  public static ChatMessage parts(Role role, List<? extends ContentPart> parts) {
    return new ChatMessage(role, List.copyOf(parts), false);
  }

  /** A message whose content is a list of parts (text and images, in order). */
  public static ChatMessage parts(Role role, ContentPart... parts) {
    return new ChatMessage(role, List.of(parts), false);
  }

  public static ChatMessage system(String text) {
    return text(Role.SYSTEM, text);
  }

  public static ChatMessage user(String text) {
    return text(Role.USER, text);
  }

  public static ChatMessage user(ContentPart... parts) {
    return parts(Role.USER, parts);
  }

  public static ChatMessage assistant(String text) {
    return text(Role.ASSISTANT, text);
  }

  /** The image parts of this message, in order. */
  public List<ContentPart.ImagePart> images() {
    return content.stream()
        .filter(p -> p instanceof ContentPart.ImagePart)
        .map(p -> (ContentPart.ImagePart) p)
        .toList();
  }
}
