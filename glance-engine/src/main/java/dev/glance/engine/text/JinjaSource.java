package dev.glance.engine.text;

import java.util.regex.Pattern;

/**
 * Rewrites template source so that Jinjava, run without its own trim/lstrip options, produces the
 * whitespace Jinja2 produces with {@code trim_blocks=True, lstrip_blocks=True} (transformers'
 * settings). Jinjava's versions differ: its lstrip removes whitespace before a block tag even in
 * the middle of a line ({@code "a {% if x %}"} loses its space), and it ignores whitespace control
 * on comments and the {@code +} modifiers.
 *
 * <p>A small scanner finds the tags (skipping string literals inside them and the body of
 * {@code raw} blocks) and applies Jinja2's lexer rules on the text between them:
 *
 * <ul>
 *   <li>newlines are normalised to {@code \n} and one trailing newline is dropped
 *       ({@code keep_trailing_newline=False});
 *   <li>lstrip_blocks: spaces and tabs from the start of a line up to a block or comment tag are
 *       removed, unless the tag starts with {@code +};
 *   <li>trim_blocks: the first newline after a block or comment tag is removed, unless the tag
 *       ends with {@code +};
 *   <li>comments are removed, with their {@code -} whitespace control applied.
 * </ul>
 *
 * Whitespace control with {@code -} on expression and block tags is left to Jinjava, which
 * implements it once its trimming overrides are on.
 */
final class JinjaSource {
  private static final Pattern RAW = Pattern.compile("\\{%[-+]?\\s*raw\\s*[-+]?%}");
  private static final Pattern END_RAW = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}");

  private JinjaSource() {}

  static String prepare(String source) {
    String s = source.replace("\r\n", "\n").replace('\r', '\n');
    if (s.endsWith("\n")) {
      s = s.substring(0, s.length() - 1);
    }
    boolean[] drop = new boolean[s.length()];
    int i = 0;
    while (i < s.length()) {
      if (!s.startsWith("{", i) || i + 1 >= s.length()) {
        i++;
        continue;
      }
      char kind = s.charAt(i + 1);
      if (kind == '#') {
        i = comment(s, i, drop);
      } else if (kind == '%') {
        i = block(s, i, drop);
      } else if (kind == '{') {
        int end = tagEnd(s, i + 2, "}}");
        i = end < 0 ? s.length() : end;
      } else {
        i++;
      }
    }
    StringBuilder out = new StringBuilder(s.length());
    for (int k = 0; k < s.length(); k++) {
      if (!drop[k]) {
        out.append(s.charAt(k));
      }
    }
    return out.toString();
  }

  // A comment vanishes; "{#-" / "-#}" eat the whitespace around it, otherwise lstrip/trim apply.
  private static int comment(String s, int start, boolean[] drop) {
    int close = s.indexOf("#}", start + 2);
    if (close < 0) {
      return s.length(); // unterminated: leave it for Jinjava to report
    }
    int end = close + 2;
    char open = start + 2 < close ? s.charAt(start + 2) : ' ';
    char shut = close - 1 > start + 1 ? s.charAt(close - 1) : ' ';
    if (open == '-') {
      for (int k = start - 1; k >= 0 && Character.isWhitespace(s.charAt(k)) && !drop[k]; k--) {
        drop[k] = true;
      }
    } else if (open != '+') {
      lstrip(s, start, drop);
    }
    for (int k = start; k < end; k++) {
      drop[k] = true;
    }
    if (shut == '-') {
      int k = end;
      while (k < s.length() && Character.isWhitespace(s.charAt(k))) {
        drop[k++] = true;
      }
      return k;
    }
    return shut == '+' ? end : trim(s, end, drop);
  }

  private static int block(String s, int start, boolean[] drop) {
    int close = tagEnd(s, start + 2, "%}");
    if (close < 0) {
      return s.length();
    }
    blockWhitespace(s, start, close, drop);
    if (RAW.matcher(s).region(start, close).matches()) {
      // The body of {% raw %} is text, not tags; only the endraw tag is processed.
      var endRaw = END_RAW.matcher(s);
      if (!endRaw.find(close)) {
        return s.length();
      }
      blockWhitespace(s, endRaw.start(), endRaw.end(), drop);
      return endRaw.end();
    }
    return close;
  }

  // The lstrip/trim rules for one block tag spanning [start, end), with its "+" markers removed
  // (Jinjava does not know them).
  private static void blockWhitespace(String s, int start, int end, boolean[] drop) {
    char open = s.charAt(start + 2);
    if (open == '+') {
      drop[start + 2] = true;
    } else if (open != '-') {
      lstrip(s, start, drop);
    }
    char shut = s.charAt(end - 3);
    if (shut == '+') {
      drop[end - 3] = true;
    } else if (shut != '-') {
      trim(s, end, drop);
    }
  }

  // lstrip_blocks: drop spaces/tabs between the start of the line and the tag at "tag".
  private static void lstrip(String s, int tag, boolean[] drop) {
    int k = tag;
    while (k > 0 && (s.charAt(k - 1) == ' ' || s.charAt(k - 1) == '\t')) {
      k--;
    }
    if (k == 0 || s.charAt(k - 1) == '\n') {
      for (int j = k; j < tag; j++) {
        drop[j] = true;
      }
    }
  }

  // trim_blocks: drop the newline right after a tag ending at "end"; returns where to go on.
  private static int trim(String s, int end, boolean[] drop) {
    if (end < s.length() && s.charAt(end) == '\n') {
      drop[end] = true;
      return end + 1;
    }
    return end;
  }

  // The index just past the closing delimiter of a tag whose body starts at "from", skipping
  // string literals (a chat template's '<|user|>' or '%}' inside quotes is not a delimiter).
  private static int tagEnd(String s, int from, String delimiter) {
    int k = from;
    while (k < s.length()) {
      char c = s.charAt(k);
      if (c == '\'' || c == '"') {
        k++;
        while (k < s.length() && s.charAt(k) != c) {
          k += s.charAt(k) == '\\' ? 2 : 1;
        }
        k++;
      } else if (s.startsWith(delimiter, k)) {
        return k + delimiter.length();
      } else {
        k++;
      }
    }
    return -1;
  }
}
