package dev.glance.engine.text;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Python {@code str} methods with CPython semantics, for chat templates written against Jinja2,
 * where a string value exposes Python's methods ({@code content.split('</think>')[-1].lstrip()}).
 * Java's namesakes differ in ways that change prompts: {@code String.split} takes a regex and drops
 * trailing empty strings, {@code String.strip} has a different notion of whitespace and no
 * character-set argument. Indices are code-point indices, as in Python.
 */
final class PyStrings {
  private PyStrings() {}

  /** Python's {@code str.isspace} for one code point (Java's isWhitespace misses NBSP and NEL). */
  static boolean isSpace(int cp) {
    return Character.isWhitespace(cp) || cp == 0x85 || cp == 0xA0 || cp == 0x2007 || cp == 0x202F;
  }

  static String strip(String s, String chars) {
    return rstrip(lstrip(s, chars), chars);
  }

  static String lstrip(String s, String chars) {
    int i = 0;
    while (i < s.length()) {
      int cp = s.codePointAt(i);
      if (!stripped(cp, chars)) {
        break;
      }
      i += Character.charCount(cp);
    }
    return s.substring(i);
  }

  static String rstrip(String s, String chars) {
    int end = s.length();
    while (end > 0) {
      int cp = s.codePointBefore(end);
      if (!stripped(cp, chars)) {
        break;
      }
      end -= Character.charCount(cp);
    }
    return s.substring(0, end);
  }

  // chars == null means Python's None: strip whitespace.
  private static boolean stripped(int cp, String chars) {
    return chars == null ? isSpace(cp) : chars.indexOf(cp) >= 0;
  }

  /** {@code str.split(sep=None, maxsplit=-1)}. */
  static List<String> split(String s, String sep, int maxsplit) {
    if (sep == null) {
      return splitWhitespace(s, maxsplit);
    }
    requireNonEmptySeparator(sep);
    List<String> out = new ArrayList<>();
    int start = 0;
    while (maxsplit < 0 || out.size() < maxsplit) {
      int at = s.indexOf(sep, start);
      if (at < 0) {
        break;
      }
      out.add(s.substring(start, at));
      start = at + sep.length();
    }
    out.add(s.substring(start));
    return out;
  }

  /** {@code str.rsplit(sep=None, maxsplit=-1)}: like split, but counting splits from the right. */
  static List<String> rsplit(String s, String sep, int maxsplit) {
    if (sep == null) {
      if (maxsplit < 0) {
        return splitWhitespace(s, -1);
      }
      List<String> reversed = splitWhitespace(new StringBuilder(s).reverse().toString(), maxsplit);
      List<String> out = new ArrayList<>(reversed.size());
      for (int i = reversed.size() - 1; i >= 0; i--) {
        out.add(new StringBuilder(reversed.get(i)).reverse().toString());
      }
      return out;
    }
    requireNonEmptySeparator(sep);
    List<String> out = new ArrayList<>();
    int end = s.length();
    while (maxsplit < 0 || out.size() < maxsplit) {
      int at = s.lastIndexOf(sep, end - sep.length());
      if (at < 0) {
        break;
      }
      out.add(0, s.substring(at + sep.length(), end));
      end = at;
    }
    out.add(0, s.substring(0, end));
    return out;
  }

  private static void requireNonEmptySeparator(String sep) {
    if (sep.isEmpty()) {
      throw new IllegalArgumentException("empty separator");
    }
  }

  // Python's sep=None split: runs of whitespace separate, leading/trailing whitespace is dropped;
  // once maxsplit is reached the remainder is kept as is after its leading whitespace.
  private static List<String> splitWhitespace(String s, int maxsplit) {
    List<String> out = new ArrayList<>();
    int i = 0;
    int n = s.length();
    while (true) {
      while (i < n && isSpace(s.codePointAt(i))) {
        i += Character.charCount(s.codePointAt(i));
      }
      if (i >= n) {
        return out;
      }
      if (maxsplit >= 0 && out.size() == maxsplit) {
        out.add(s.substring(i));
        return out;
      }
      int start = i;
      while (i < n && !isSpace(s.codePointAt(i))) {
        i += Character.charCount(s.codePointAt(i));
      }
      out.add(s.substring(start, i));
    }
  }

  /** {@code str.splitlines(keepends=False)}, with Python's set of line boundaries. */
  static List<String> splitlines(String s, boolean keepends) {
    List<String> out = new ArrayList<>();
    int start = 0;
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      int eol;
      if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
        eol = 2;
      } else if (isLineBoundary(c)) {
        eol = 1;
      } else {
        i++;
        continue;
      }
      out.add(s.substring(start, keepends ? i + eol : i));
      i += eol;
      start = i;
    }
    if (start < s.length()) {
      out.add(s.substring(start));
    }
    return out;
  }

  private static boolean isLineBoundary(char c) {
    return switch (c) {
      case '\n', '\r', '\u000B', '\u000C', '\u001C', '\u001D', '\u001E', '\u0085', '\u2028',
          '\u2029' -> true;
      default -> false;
    };
  }

  /** {@code str.replace(old, new, count=-1)}; an empty {@code old} inserts between code points. */
  static String replace(String s, String old, String replacement, int count) {
    if (count < 0) {
      if (old.isEmpty()) {
        return insertEverywhere(s, replacement, Integer.MAX_VALUE);
      }
      return s.replace(old, replacement);
    }
    if (old.isEmpty()) {
      return insertEverywhere(s, replacement, count);
    }
    StringBuilder out = new StringBuilder();
    int start = 0;
    for (int done = 0; done < count; done++) {
      int at = s.indexOf(old, start);
      if (at < 0) {
        break;
      }
      out.append(s, start, at).append(replacement);
      start = at + old.length();
    }
    return out.append(s, start, s.length()).toString();
  }

  private static String insertEverywhere(String s, String insert, int count) {
    StringBuilder out = new StringBuilder();
    int done = 0;
    int i = 0;
    while (i < s.length()) {
      if (done < count) {
        out.append(insert);
        done++;
      }
      int cp = s.codePointAt(i);
      out.appendCodePoint(cp);
      i += Character.charCount(cp);
    }
    if (done < count) {
      out.append(insert);
    }
    return out.toString();
  }

  /**
   * {@code str.startswith(prefix[, start[, end]])}; prefix may be a tuple (a collection).
   * Start and end are code-point indices, negative counts from the end, as in Python slices.
   */
  static boolean startswith(String s, Object prefixes, Integer start, Integer end) {
    String window = slice(s, start, end);
    for (String p : affixes(prefixes, "startswith")) {
      if (window.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  static boolean endswith(String s, Object suffixes, Integer start, Integer end) {
    String window = slice(s, start, end);
    for (String p : affixes(suffixes, "endswith")) {
      if (window.endsWith(p)) {
        return true;
      }
    }
    return false;
  }

  private static List<String> affixes(Object arg, String method) {
    if (arg instanceof Collection<?> many) {
      List<String> out = new ArrayList<>(many.size());
      for (Object o : many) {
        out.add(requireString(o, method));
      }
      return out;
    }
    return List.of(requireString(arg, method));
  }

  private static String requireString(Object o, String method) {
    if (o instanceof String s) {
      return s;
    }
    throw new IllegalArgumentException(
        method + " first arg must be str or a tuple of str, not " + typeName(o));
  }

  /** {@code str.find(sub[, start[, end]])}: code-point index of the first match, or -1. */
  static int find(String s, String sub, Integer start, Integer end) {
    int[] range = charRange(s, start, end);
    int at = s.substring(0, range[1]).indexOf(sub, range[0]);
    return at < 0 || range[0] > range[1] ? -1 : s.codePointCount(0, at);
  }

  static int rfind(String s, String sub, Integer start, Integer end) {
    int[] range = charRange(s, start, end);
    if (range[0] > range[1]) {
      return -1;
    }
    int at = s.substring(0, range[1]).lastIndexOf(sub);
    return at < range[0] ? -1 : s.codePointCount(0, at);
  }

  /** {@code str.count(sub[, start[, end]])}: non-overlapping occurrences. */
  static int count(String s, String sub, Integer start, Integer end) {
    String window = slice(s, start, end);
    if (sub.isEmpty()) {
      return window.codePointCount(0, window.length()) + 1;
    }
    int n = 0;
    for (int at = window.indexOf(sub); at >= 0; at = window.indexOf(sub, at + sub.length())) {
      n++;
    }
    return n;
  }

  static String upper(String s) {
    return s.toUpperCase(Locale.ROOT);
  }

  static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }

  /** {@code str.title()}: a cased character after an uncased one is title-cased, others lowered. */
  static String title(String s) {
    StringBuilder out = new StringBuilder(s.length());
    boolean previousCased = false;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      boolean cased = isCased(cp);
      if (cased) {
        out.appendCodePoint(previousCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
      } else {
        out.appendCodePoint(cp);
      }
      previousCased = cased;
    }
    return out.toString();
  }

  /** {@code str.capitalize()}: first character title-cased, the rest lowered (Python 3.8+). */
  static String capitalize(String s) {
    if (s.isEmpty()) {
      return s;
    }
    int first = s.codePointAt(0);
    return new StringBuilder()
        .appendCodePoint(Character.toTitleCase(first))
        .append(lower(s.substring(Character.charCount(first))))
        .toString();
  }

  /** {@code sep.join(iterable)}: every item must already be a string, as in Python. */
  static String join(String sep, Object items) {
    if (!(items instanceof Iterable<?> iterable)) {
      throw new IllegalArgumentException("can only join an iterable, not " + typeName(items));
    }
    StringBuilder out = new StringBuilder();
    boolean first = true;
    for (Object o : iterable) {
      if (!(o instanceof String item)) {
        throw new IllegalArgumentException(
            "sequence item: expected str instance, " + typeName(o) + " found");
      }
      if (!first) {
        out.append(sep);
      }
      out.append(item);
      first = false;
    }
    return out.toString();
  }

  private static boolean isCased(int cp) {
    return Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
  }

  // Python slice s[start:end] over code points.
  private static String slice(String s, Integer start, Integer end) {
    int[] range = charRange(s, start, end);
    return range[0] >= range[1] ? "" : s.substring(range[0], range[1]);
  }

  // Clamps Python-style code-point bounds (None, negative, out of range) to UTF-16 offsets.
  private static int[] charRange(String s, Integer start, Integer end) {
    int len = s.codePointCount(0, s.length());
    int from = clamp(start == null ? 0 : start, len);
    int to = clamp(end == null ? len : end, len);
    return new int[] {s.offsetByCodePoints(0, from), s.offsetByCodePoints(0, to)};
  }

  private static int clamp(int index, int len) {
    int i = index < 0 ? index + len : index;
    return Math.max(0, Math.min(len, i));
  }

  static String typeName(Object o) {
    return o == null ? "NoneType" : o.getClass().getSimpleName();
  }
}
