package dev.glance.engine.text;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts {@link ChatMessage}s to the maps a chat template iterates over, in exactly the shape
 * Hugging Face's {@code apply_chat_template} passes: {@code {"role": ..., "content": ...}} where
 * content is a string or a list of {@code {"type": "text", "text": ...}} / {@code {"type":
 * "image"}}. Templates test these shapes ({@code content is string}, {@code item.type == 'image'}),
 * so any other shape changes the prompt.
 */
final class TemplateMessages {
  private TemplateMessages() {}

  static List<Map<String, Object>> toMaps(List<ChatMessage> messages) {
    List<Map<String, Object>> out = new ArrayList<>(messages.size());
    for (ChatMessage m : messages) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("role", m.role().wireName());
      map.put("content", m.plainText() ? textOf(m) : parts(m.content()));
      out.add(map);
    }
    return out;
  }

  private static String textOf(ChatMessage m) {
    return ((ContentPart.TextPart) m.content().getFirst()).text();
  }

  private static List<Map<String, Object>> parts(List<ContentPart> parts) {
    List<Map<String, Object>> out = new ArrayList<>(parts.size());
    for (ContentPart p : parts) {
      Map<String, Object> item = new LinkedHashMap<>();
      switch (p) {
        case ContentPart.TextPart t -> {
          item.put("type", "text");
          item.put("text", t.text());
        }
        // The template only needs to know an image is here; which image is the prompt builder's job.
        case ContentPart.ImagePart i -> item.put("type", "image");
      }
      out.add(item);
    }
    return out;
  }
}
