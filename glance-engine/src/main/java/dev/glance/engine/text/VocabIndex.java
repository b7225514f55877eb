package dev.glance.engine.text;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Token string to id, read from {@code tokenizer.json}: the model vocabulary plus the added
 * (special) tokens. The native tokenizer binding has no lookup by token string, so this reads the
 * file once with a streaming parser, skipping the (large) merge list.
 */
final class VocabIndex {
  private final Map<String, Integer> ids;
  private final int size;

  private VocabIndex(Map<String, Integer> ids) {
    this.ids = Map.copyOf(ids);
    this.size = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
  }

  OptionalInt id(String token) {
    Integer id = ids.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** One past the largest id: the range of ids the tokenizer can produce. */
  int size() {
    return size;
  }

  static VocabIndex read(Path tokenizerJson) throws IOException {
    Map<String, Integer> ids = new HashMap<>();
    Map<String, Integer> added = new HashMap<>();
    try (JsonParser p = new JsonFactory().createParser(tokenizerJson.toFile())) {
      expect(p.nextToken(), JsonToken.START_OBJECT, tokenizerJson);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (field.equals("added_tokens") && value == JsonToken.START_ARRAY) {
          readAddedTokens(p, added);
        } else if (field.equals("model") && value == JsonToken.START_OBJECT) {
          readModel(p, ids);
        } else {
          p.skipChildren();
        }
      }
    }
    // Added tokens win: they are matched before the model sees the text.
    ids.putAll(added);
    return new VocabIndex(ids);
  }

  private static void readAddedTokens(JsonParser p, Map<String, Integer> out) throws IOException {
    while (p.nextToken() == JsonToken.START_OBJECT) {
      String content = null;
      int id = -1;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        p.nextToken();
        switch (name) {
          case "content" -> content = p.getText();
          case "id" -> id = p.getIntValue();
          default -> p.skipChildren();
        }
      }
      if (content != null && id >= 0) {
        out.put(content, id);
      }
    }
  }

  // BPE/WordPiece/WordLevel: "vocab": {token: id}. Unigram: "vocab": [[token, score], ...].
  private static void readModel(JsonParser p, Map<String, Integer> out) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      if (name.equals("vocab") && value == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String token = p.currentName();
          p.nextToken();
          out.put(token, p.getIntValue());
        }
      } else if (name.equals("vocab") && value == JsonToken.START_ARRAY) {
        int id = 0;
        while (p.nextToken() == JsonToken.START_ARRAY) {
          p.nextToken();
          out.put(p.getText(), id++);
          while (p.nextToken() != JsonToken.END_ARRAY) {
            p.skipChildren();
          }
        }
      } else {
        p.skipChildren();
      }
    }
  }

  private static void expect(JsonToken got, JsonToken want, Path file) throws IOException {
    if (got != want) {
      throw new IOException(file + ": expected " + want + " but found " + got);
    }
  }
}
