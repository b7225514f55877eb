package dev.glance.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Typed, path-aware reads from a parsed JSON object. Every wrong type or value becomes an
 * {@link ApiError.InvalidRequest} whose message names the field by its full path
 * ({@code messages[2].content[0].image_url.url}) and says what was expected and what came, so a
 * client can fix the request without reading the server's code. A JSON {@code null} counts as
 * absent, as OpenAI's API treats it.
 *
 * @param node the object read from
 * @param path its path from the request root ("" for the root itself)
 */
public record JsonFields(JsonNode node, String path) {

  /** Wraps the request root, which must be a JSON object. */
  public static JsonFields root(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw new ApiError.InvalidRequest("the request body must be a JSON object, got "
          + describe(root), null, "invalid_json");
    }
    return new JsonFields(root, "");
  }

  /** The path of a field of this object. */
  public String pathOf(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  public boolean has(String key) {
    JsonNode v = node.get(key);
    return v != null && !v.isNull();
  }

  /** The raw value of a field, or empty when absent or null. */
  public Optional<JsonNode> raw(String key) {
    JsonNode v = node.get(key);
    return v == null || v.isNull() ? Optional.empty() : Optional.of(v);
  }

  public Optional<String> string(String key) {
    return raw(key).map(v -> {
      if (!v.isTextual()) {
        throw wrongType(key, "a string", v);
      }
      return v.textValue();
    });
  }

  public String requiredString(String key) {
    return string(key).orElseThrow(() -> missing(key, "a string"));
  }

  public Optional<Boolean> bool(String key) {
    return raw(key).map(v -> {
      if (!v.isBoolean()) {
        throw wrongType(key, "true or false", v);
      }
      return v.booleanValue();
    });
  }

  public OptionalDouble number(String key) {
    Optional<JsonNode> v = raw(key);
    if (v.isEmpty()) {
      return OptionalDouble.empty();
    }
    if (!v.get().isNumber()) {
      throw wrongType(key, "a number", v.get());
    }
    double d = v.get().doubleValue();
    if (!Double.isFinite(d)) {
      throw new ApiError.InvalidRequest(pathOf(key) + " must be a finite number", pathOf(key));
    }
    return OptionalDouble.of(d);
  }

  /** An integer; an integral number written with a fraction (512.0) is accepted. */
  public OptionalLong integer(String key) {
    Optional<JsonNode> o = raw(key);
    if (o.isEmpty()) {
      return OptionalLong.empty();
    }
    JsonNode v = o.get();
    if (v.isIntegralNumber()) {
      if (!v.canConvertToLong()) {
        throw new ApiError.InvalidRequest(pathOf(key) + " is out of range: " + v.asText(), pathOf(key));
      }
      return OptionalLong.of(v.longValue());
    }
    if (v.isNumber() && v.doubleValue() == Math.rint(v.doubleValue()) && Math.abs(v.doubleValue()) < 1e15) {
      return OptionalLong.of((long) v.doubleValue());
    }
    throw wrongType(key, "an integer", v);
  }

  /** An integer within [min, max]. */
  public OptionalInt intInRange(String key, long min, long max, String rangeText) {
    OptionalLong v = integer(key);
    if (v.isEmpty()) {
      return OptionalInt.empty();
    }
    if (v.getAsLong() < min || v.getAsLong() > max) {
      throw new ApiError.InvalidRequest(pathOf(key) + " must be " + rangeText + ", got " + v.getAsLong(),
          pathOf(key));
    }
    return OptionalInt.of((int) v.getAsLong());
  }

  public Optional<JsonFields> object(String key) {
    return raw(key).map(v -> {
      if (!v.isObject()) {
        throw wrongType(key, "an object", v);
      }
      return new JsonFields(v, pathOf(key));
    });
  }

  /** An array field; empty when absent. */
  public Optional<List<JsonNode>> array(String key) {
    return raw(key).map(v -> {
      if (!v.isArray()) {
        throw wrongType(key, "an array", v);
      }
      List<JsonNode> items = new ArrayList<>(v.size());
      v.forEach(items::add);
      return items;
    });
  }

  /** A string or a list of strings (OpenAI's {@code stop}). */
  public List<String> stringOrList(String key) {
    Optional<JsonNode> o = raw(key);
    if (o.isEmpty()) {
      return List.of();
    }
    JsonNode v = o.get();
    if (v.isTextual()) {
      return List.of(v.textValue());
    }
    if (!v.isArray()) {
      throw wrongType(key, "a string or an array of strings", v);
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < v.size(); i++) {
      JsonNode item = v.get(i);
      if (!item.isTextual()) {
        throw new ApiError.InvalidRequest(pathOf(key) + "[" + i + "] must be a string, got "
            + describe(item), pathOf(key) + "[" + i + "]");
      }
      out.add(item.textValue());
    }
    return out;
  }

  /** The object at {@code items[index]} of an array field. */
  public JsonFields element(String key, List<JsonNode> items, int index) {
    JsonNode v = items.get(index);
    String p = pathOf(key) + "[" + index + "]";
    if (!v.isObject()) {
      throw new ApiError.InvalidRequest(p + " must be an object, got " + describe(v), p);
    }
    return new JsonFields(v, p);
  }

  public ApiError.InvalidRequest missing(String key, String expected) {
    return new ApiError.InvalidRequest(pathOf(key) + " is required (" + expected + ")", pathOf(key),
        "missing_field");
  }

  public ApiError.InvalidRequest wrongType(String key, String expected, JsonNode got) {
    return new ApiError.InvalidRequest(pathOf(key) + " must be " + expected + ", got " + describe(got),
        pathOf(key), "invalid_type");
  }

  /** A short description of a JSON value for error messages: its type and a clipped rendering. */
  public static String describe(JsonNode v) {
    if (v == null || v.isMissingNode()) {
      return "nothing";
    }
    String type = switch (v.getNodeType()) {
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      case NULL -> "null";
      default -> v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    };
    String text = v.toString();
    return text.length() > 40 ? type + " (" + text.substring(0, 37) + "...)" : type + " (" + text + ")";
  }
}
