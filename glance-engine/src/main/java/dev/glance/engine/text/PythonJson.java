package dev.glance.engine.text;

import com.hubspot.jinjava.objects.SafeString;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Python's {@code json.dumps} output format, for the {@code tojson} filter: Hugging Face's chat
 * environment renders tool schemas with it, and Jinjava's own {@code tojson} (Jackson, compact
 * separators) would give different prompt text. Covers what template values can be: null, booleans,
 * numbers, strings, maps and sequences.
 */
final class PythonJson {
  private PythonJson() {}

  /** How to format, mirroring json.dumps' keyword arguments. */
  record Options(boolean ensureAscii, Integer indent, String itemSeparator, String keySeparator,
      boolean sortKeys) {
    /** Hugging Face's tojson defaults: ensure_ascii=False, no indent, ", " and ": ". */
    static final Options HF_DEFAULT = new Options(false, null, ", ", ": ", false);
  }

  static String dumps(Object value, Options options) {
    StringBuilder out = new StringBuilder();
    write(out, value, options, 0);
    return out.toString();
  }

  private static void write(StringBuilder out, Object v, Options o, int depth) {
    switch (v) {
      case null -> out.append("null");
      case Boolean b -> out.append(b ? "true" : "false");
      case Double d -> out.append(floatRepr(d));
      case Float f -> out.append(floatRepr(f.doubleValue()));
      case Number n -> out.append(n);
      case String s -> writeString(out, s, o.ensureAscii());
      case SafeString s -> writeString(out, s.getValue(), o.ensureAscii());
      case Character c -> writeString(out, c.toString(), o.ensureAscii());
      case Map<?, ?> m -> writeMap(out, m, o, depth);
      case Collection<?> c -> writeList(out, new ArrayList<>(c), o, depth);
      case Object[] a -> writeList(out, List.of(a), o, depth);
      default ->
          throw new IllegalArgumentException(
              "Object of type " + v.getClass().getSimpleName() + " is not JSON serializable");
    }
  }

  private static void writeMap(StringBuilder out, Map<?, ?> m, Options o, int depth) {
    if (m.isEmpty()) {
      out.append("{}");
      return;
    }
    Map<?, ?> entries = m;
    if (o.sortKeys()) {
      TreeMap<String, Object> sorted = new TreeMap<>();
      m.forEach((k, val) -> sorted.put(keyString(k), val));
      entries = sorted;
    }
    out.append('{');
    boolean first = true;
    for (Map.Entry<?, ?> e : entries.entrySet()) {
      separate(out, o, depth + 1, first);
      first = false;
      writeString(out, keyString(e.getKey()), o.ensureAscii());
      out.append(o.keySeparator());
      write(out, e.getValue(), o, depth + 1);
    }
    close(out, o, depth);
    out.append('}');
  }

  private static void writeList(StringBuilder out, List<?> items, Options o, int depth) {
    if (items.isEmpty()) {
      out.append("[]");
      return;
    }
    out.append('[');
    boolean first = true;
    for (Object item : items) {
      separate(out, o, depth + 1, first);
      first = false;
      write(out, item, o, depth + 1);
    }
    close(out, o, depth);
    out.append(']');
  }

  // With indent, Python puts each item on its own line and drops the separator's trailing space.
  private static void separate(StringBuilder out, Options o, int depth, boolean first) {
    if (o.indent() == null) {
      if (!first) {
        out.append(o.itemSeparator());
      }
      return;
    }
    if (!first) {
      out.append(o.itemSeparator());
    }
    out.append('\n').append(" ".repeat(o.indent() * depth));
  }

  private static void close(StringBuilder out, Options o, int depth) {
    if (o.indent() != null) {
      out.append('\n').append(" ".repeat(o.indent() * depth));
    }
  }

  // json.dumps converts non-string keys: True -> "true", None -> "null", numbers by repr.
  private static String keyString(Object k) {
    return switch (k) {
      case null -> "null";
      case String s -> s;
      case Boolean b -> b ? "true" : "false";
      case Double d -> floatRepr(d);
      default -> k.toString();
    };
  }

  private static void writeString(StringBuilder out, String s, boolean ensureAscii) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || (ensureAscii && c > 0x7F)) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** Python's {@code repr(float)}: shortest digits, fixed notation for 1e-4 <= |x| < 1e16. */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "Infinity" : "-Infinity";
    }
    if (d == 0) {
      return (1 / d < 0) ? "-0.0" : "0.0";
    }
    // Double.toString gives the shortest round-tripping digits (JDK 19+), as Python's repr does.
    BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
    String digits = bd.unscaledValue().toString();
    int exponent = digits.length() - bd.scale() - 1;
    String sign = d < 0 ? "-" : "";
    if (exponent >= -4 && exponent < 16) {
      String plain = bd.toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    String exp = String.format("%02d", Math.abs(exponent));
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + exp;
  }
}
