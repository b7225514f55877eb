package dev.glance.engine.text;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.List;
import java.util.Map;

/**
 * Replaces Jinjava's {@code tojson} with Hugging Face's: {@code tojson(x, ensure_ascii=False,
 * indent=None, separators=None, sort_keys=False)} producing Python {@code json.dumps} text.
 */
final class PythonToJsonFilter implements Filter {

  @Override
  public String getName() {
    return "tojson";
  }

  @Override
  public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
    return filter(var, interpreter, (Object[]) args, Map.of());
  }

  @Override
  public Object filter(
      Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
    Object ensureAscii = arg(args, kwargs, 0, "ensure_ascii");
    Object indent = arg(args, kwargs, 1, "indent");
    Object separators = arg(args, kwargs, 2, "separators");
    Object sortKeys = arg(args, kwargs, 3, "sort_keys");

    Integer indentWidth = indent == null ? null : ((Number) indent).intValue();
    // Python's default separators depend on indent: (', ', ': ') without, (',', ': ') with.
    String itemSep = indentWidth == null ? ", " : ",";
    String keySep = ": ";
    if (separators instanceof List<?> seps && seps.size() == 2) {
      itemSep = String.valueOf(seps.get(0));
      keySep = String.valueOf(seps.get(1));
    }
    var options =
        new PythonJson.Options(
            Boolean.TRUE.equals(ensureAscii), indentWidth, itemSep, keySep,
            Boolean.TRUE.equals(sortKeys));
    return PythonJson.dumps(var, options);
  }

  private static Object arg(Object[] args, Map<String, Object> kwargs, int pos, String name) {
    if (kwargs != null && kwargs.containsKey(name)) {
      return kwargs.get(name);
    }
    return args != null && pos < args.length ? args[pos] : null;
  }
}
