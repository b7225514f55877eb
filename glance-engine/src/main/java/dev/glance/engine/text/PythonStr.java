package dev.glance.engine.text;

import com.hubspot.jinjava.objects.SafeString;
import java.util.Collection;
import java.util.Map;

/**
 * Python's {@code str()} and {@code repr()} for template values, so {@code {{ flag }}} prints
 * {@code True} and {@code {{ items }}} prints {@code ['a', None]} as Jinja2 does, not Java's or
 * Jinjava's spelling. Returns null for values it does not know, leaving them to Jinjava.
 */
final class PythonStr {
  private PythonStr() {}

  static String str(Object v) {
    return switch (v) {
      case Boolean b -> b ? "True" : "False";
      case String s -> s;
      case SafeString s -> s.getValue();
      case Double d -> floatStr(d);
      case Float f -> floatStr(f.doubleValue());
      case Map<?, ?> m -> repr(m);
      case Collection<?> c -> repr(c);
      case null, default -> null;
    };
  }

  static String repr(Object v) {
    return switch (v) {
      case null -> "None";
      case Boolean b -> b ? "True" : "False";
      case String s -> stringRepr(s);
      case SafeString s -> stringRepr(s.getValue());
      case Double d -> floatStr(d);
      case Float f -> floatStr(f.doubleValue());
      case Number n -> n.toString();
      case Map<?, ?> m -> {
        StringBuilder out = new StringBuilder("{");
        for (Map.Entry<?, ?> e : m.entrySet()) {
          if (out.length() > 1) {
            out.append(", ");
          }
          out.append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
        }
        yield out.append('}').toString();
      }
      case Collection<?> c -> {
        StringBuilder out = new StringBuilder("[");
        for (Object item : c) {
          if (out.length() > 1) {
            out.append(", ");
          }
          out.append(repr(item));
        }
        yield out.append(']').toString();
      }
      default -> v.toString();
    };
  }

  private static String floatStr(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    return PythonJson.floatRepr(d);
  }

  // Python quotes with ' unless the text has ' and no ", and escapes non-printable characters.
  private static String stringRepr(String s) {
    char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    StringBuilder out = new StringBuilder().append(quote);
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == quote || cp == '\\') {
        out.append('\\').appendCodePoint(cp);
      } else if (cp == '\n') {
        out.append("\\n");
      } else if (cp == '\r') {
        out.append("\\r");
      } else if (cp == '\t') {
        out.append("\\t");
      } else if (isPrintable(cp)) {
        out.appendCodePoint(cp);
      } else if (cp < 0x100) {
        out.append(String.format("\\x%02x", cp));
      } else if (cp < 0x10000) {
        out.append(String.format("\\u%04x", cp));
      } else {
        out.append(String.format("\\U%08x", cp));
      }
    }
    return out.append(quote).toString();
  }

  // Python's str.isprintable: not a control, format, surrogate, private-use, unassigned or
  // separator character, except the ASCII space.
  private static boolean isPrintable(int cp) {
    if (cp == ' ') {
      return true;
    }
    return switch (Character.getType(cp)) {
      case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
          Character.UNASSIGNED, Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR,
          Character.PARAGRAPH_SEPARATOR -> false;
      default -> true;
    };
  }
}
