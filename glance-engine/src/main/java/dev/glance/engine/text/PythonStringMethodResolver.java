package dev.glance.engine.text;

import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.objects.SafeString;
import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ELResolver;

/**
 * Gives strings in Jinjava expressions Python's {@code str} methods. Jinjava resolves
 * {@code x.method(args)} through an EL resolver chain whose bean resolver only finds Java methods,
 * so {@code s.endswith('x')} fails and {@code s.split('.')} silently runs Java's regex split. This
 * resolver sits first in the chain and answers method calls whose base is a string and whose name
 * is one of Python's; everything else (properties, other types, other names) passes on unresolved
 * to Jinjava's own resolvers.
 *
 * <p>Bad arguments raise {@link ELException}, which Jinjava records as a fatal template error and
 * {@link ChatTemplate} reports.
 */
final class PythonStringMethodResolver extends ELResolver {
  static final Set<String> METHODS =
      Set.of(
          "startswith", "endswith", "split", "rsplit", "splitlines", "strip", "lstrip", "rstrip",
          "replace", "upper", "lower", "title", "capitalize", "find", "rfind", "count", "join");

  @Override
  public Object invoke(
      ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
    String self = asString(base);
    if (self == null || !(method instanceof String name) || !METHODS.contains(name)) {
      return null;
    }
    Object result;
    try {
      result = call(self, name, new Args(name, params));
    } catch (IllegalArgumentException e) {
      // Jinjava swallows IllegalArgumentException from invoke(); ELException surfaces as an error.
      throw new ELException("str." + name + "(): " + e.getMessage(), e);
    }
    context.setPropertyResolved(true);
    return result;
  }

  private static String asString(Object base) {
    if (base instanceof String s) {
      return s;
    }
    if (base instanceof SafeString s) {
      return s.getValue();
    }
    return null;
  }

  private static Object call(String s, String name, Args a) {
    return switch (name) {
      case "startswith" -> {
        a.atMost(3);
        yield PyStrings.startswith(s, a.required(0, "prefix"), a.index(1), a.index(2));
      }
      case "endswith" -> {
        a.atMost(3);
        yield PyStrings.endswith(s, a.required(0, "suffix"), a.index(1), a.index(2));
      }
      case "split" -> {
        a.atMost(2);
        yield PyStrings.split(s, a.string(0, "sep"), a.integer(1, "maxsplit", -1));
      }
      case "rsplit" -> {
        a.atMost(2);
        yield PyStrings.rsplit(s, a.string(0, "sep"), a.integer(1, "maxsplit", -1));
      }
      case "splitlines" -> {
        a.atMost(1);
        yield PyStrings.splitlines(s, a.bool(0, "keepends"));
      }
      case "strip" -> {
        a.atMost(1);
        yield PyStrings.strip(s, a.string(0, "chars"));
      }
      case "lstrip" -> {
        a.atMost(1);
        yield PyStrings.lstrip(s, a.string(0, "chars"));
      }
      case "rstrip" -> {
        a.atMost(1);
        yield PyStrings.rstrip(s, a.string(0, "chars"));
      }
      case "replace" -> {
        a.atMost(3);
        String old = a.requiredString(0, "old");
        String replacement = a.requiredString(1, "new");
        yield PyStrings.replace(s, old, replacement, a.integer(2, "count", -1));
      }
      case "find" -> {
        a.atMost(3);
        yield PyStrings.find(s, a.requiredString(0, "sub"), a.index(1), a.index(2));
      }
      case "rfind" -> {
        a.atMost(3);
        yield PyStrings.rfind(s, a.requiredString(0, "sub"), a.index(1), a.index(2));
      }
      case "count" -> {
        a.atMost(3);
        yield PyStrings.count(s, a.requiredString(0, "sub"), a.index(1), a.index(2));
      }
      case "join" -> {
        a.atMost(1);
        yield PyStrings.join(s, a.required(0, "iterable"));
      }
      case "upper" -> {
        a.atMost(0);
        yield PyStrings.upper(s);
      }
      case "lower" -> {
        a.atMost(0);
        yield PyStrings.lower(s);
      }
      case "title" -> {
        a.atMost(0);
        yield PyStrings.title(s);
      }
      case "capitalize" -> {
        a.atMost(0);
        yield PyStrings.capitalize(s);
      }
      default -> throw new IllegalStateException("unhandled str method " + name);
    };
  }

  /** Positional and keyword arguments of one call, with Python's None as null. */
  private static final class Args {
    private final String method;
    private final List<Object> positional = new ArrayList<>();
    private final Map<String, Object> named = new HashMap<>();

    Args(String method, Object[] params) {
      this.method = method;
      if (params != null) {
        for (Object p : params) {
          if (p instanceof NamedParameter np) {
            named.put(np.getName(), np.getValue());
          } else {
            positional.add(p);
          }
        }
      }
    }

    void atMost(int n) {
      if (positional.size() > n) {
        throw new IllegalArgumentException(
            method + "() takes at most " + n + " arguments (" + positional.size() + " given)");
      }
    }

    private Object get(int pos, String name) {
      if (named.containsKey(name)) {
        return named.get(name);
      }
      return pos < positional.size() ? positional.get(pos) : null;
    }

    private boolean present(int pos, String name) {
      return named.containsKey(name) || pos < positional.size();
    }

    Object required(int pos, String name) {
      if (!present(pos, name)) {
        throw new IllegalArgumentException("missing required argument '" + name + "'");
      }
      return get(pos, name);
    }

    String requiredString(int pos, String name) {
      Object v = required(pos, name);
      return asStringArg(v, name);
    }

    String string(int pos, String name) {
      Object v = get(pos, name);
      return v == null ? null : asStringArg(v, name);
    }

    private static String asStringArg(Object v, String name) {
      String s = asString(v);
      if (s == null) {
        throw new IllegalArgumentException(
            "argument '" + name + "' must be str, not " + PyStrings.typeName(v));
      }
      return s;
    }

    int integer(int pos, String name, int absent) {
      Object v = get(pos, name);
      if (v == null) {
        return absent;
      }
      if (v instanceof Number n && n.doubleValue() == n.longValue()) {
        return Math.toIntExact(n.longValue());
      }
      throw new IllegalArgumentException(
          "argument '" + name + "' must be int, not " + PyStrings.typeName(v));
    }

    Integer index(int pos) {
      Object v = pos < positional.size() ? positional.get(pos) : null;
      if (v == null) {
        return null;
      }
      if (v instanceof Number n && n.doubleValue() == n.longValue()) {
        return Math.toIntExact(n.longValue());
      }
      throw new IllegalArgumentException(
          "slice indices must be integers or None, not " + PyStrings.typeName(v));
    }

    boolean bool(int pos, String name) {
      Object v = get(pos, name);
      if (v == null) {
        return false;
      }
      if (v instanceof Boolean b) {
        return b;
      }
      if (v instanceof Number n) {
        return n.doubleValue() != 0;
      }
      throw new IllegalArgumentException(
          "argument '" + name + "' must be bool, not " + PyStrings.typeName(v));
    }
  }

  // The resolver answers method calls only; property access is left to the rest of the chain.

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public Class<?> getType(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public void setValue(ELContext context, Object base, Object property, Object value) {}

  @Override
  public boolean isReadOnly(ELContext context, Object base, Object property) {
    return true;
  }

  @Override
  public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
    return null;
  }

  @Override
  public Class<?> getCommonPropertyType(ELContext context, Object base) {
    return null;
  }
}
