package dev.glance.cuda.ffm;

import java.lang.foreign.SymbolLookup;
import java.util.List;

/**
 * The outcome of looking for one native library: found (where, and its symbols) or missing (with
 * every place that was tried, so the message can say why CUDA is unavailable).
 */
public sealed interface LibraryLoad {

  /** What the library is for, e.g. "CUDA driver". */
  String what();

  record Loaded(String what, String location, SymbolLookup symbols) implements LibraryLoad {}

  record Missing(String what, List<String> tried) implements LibraryLoad {
    public String describe() {
      return what + " not found (tried " + String.join(", ", tried) + ")";
    }
  }
}
