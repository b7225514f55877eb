package dev.glance.cuda.ffm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Binds C functions of one loaded library to method handles. A missing symbol fails at bind time
 * (when the backend opens), naming the library and the symbol, never at first use.
 */
public final class NativeFunctions {
  private static final Linker LINKER = Linker.nativeLinker();

  private final LibraryLoad.Loaded library;

  public NativeFunctions(LibraryLoad.Loaded library) {
    this.library = library;
  }

  public LibraryLoad.Loaded library() {
    return library;
  }

  public MethodHandle bind(String symbol, FunctionDescriptor descriptor) {
    SymbolLookup lookup = library.symbols();
    return lookup.find(symbol)
        .map(address -> LINKER.downcallHandle(address, descriptor))
        .orElseThrow(() -> new MissingSymbolException(library.what() + " at " + library.location()
            + " has no symbol " + symbol + " (too old a version?)"));
  }

  /** A library was found but lacks a function Glance needs. */
  public static final class MissingSymbolException extends RuntimeException {
    public MissingSymbolException(String message) {
      super(message);
    }
  }
}
