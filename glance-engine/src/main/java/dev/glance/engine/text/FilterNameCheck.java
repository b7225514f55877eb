package dev.glance.engine.text;

import com.hubspot.jinjava.Jinjava;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds filters a template uses that the engine does not have. Jinja2 rejects an unknown filter
 * when it compiles the template; Jinjava silently renders the expression as nothing, which would
 * give a wrong prompt with no error. This scans the template's expressions (string literals
 * removed, since chat templates are full of {@code '<|user|>'}) for {@code | name}.
 */
final class FilterNameCheck {
  private static final Pattern COMMENT = Pattern.compile("\\{#.*?#\\}", Pattern.DOTALL);
  private static final Pattern TAG = Pattern.compile("\\{\\{(.*?)\\}\\}|\\{%(.*?)%\\}", Pattern.DOTALL);
  private static final Pattern STRING =
      Pattern.compile("'(?:[^'\\\\]|\\\\.)*'|\"(?:[^\"\\\\]|\\\\.)*\"", Pattern.DOTALL);
  private static final Pattern FILTER = Pattern.compile("\\|\\s*([A-Za-z_][A-Za-z0-9_]*)");

  private FilterNameCheck() {}

  /** The names of filters used in {@code source} that {@code jinjava} does not know, in order. */
  static List<String> unknownFilters(String source, Jinjava jinjava) {
    List<String> unknown = new ArrayList<>();
    Matcher tag = TAG.matcher(COMMENT.matcher(source).replaceAll(""));
    while (tag.find()) {
      String body = tag.group(1) != null ? tag.group(1) : tag.group(2);
      Matcher filter = FILTER.matcher(STRING.matcher(body).replaceAll("''"));
      while (filter.find()) {
        String name = filter.group(1);
        if (jinjava.getGlobalContext().getFilter(name) == null && !unknown.contains(name)) {
          unknown.add(name);
        }
      }
    }
    return unknown;
  }
}
