package dev.glance.cuda.ffm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the CUDA libraries are looked for, and what is said when they are not found. */
class LibraryLocatorTest {

  @Test
  void searchOrderIsExplicitPathThenWheelsThenToolkit(@TempDir Path tmp) throws IOException {
    Path explicit = Files.createDirectories(tmp.resolve("explicit"));
    Path venv = tmp.resolve("venv");
    Path cu13 = Files.createDirectories(venv.resolve("lib/python3.12/site-packages/nvidia/cu13/lib"));
    Path cublas12 = Files.createDirectories(venv.resolve("lib/python3.12/site-packages/nvidia/cublas/lib"));
    Path nvrtc12 = Files.createDirectories(venv.resolve("lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib"));
    Files.createDirectories(venv.resolve("lib/python3.12/site-packages/nvidia/cudnn")); // no lib/: ignored
    Path cudaHome = Files.createDirectories(tmp.resolve("cuda/lib64"));
    Path home = Files.createDirectories(tmp.resolve("home"));
    Map<String, String> env = Map.of(
        "GLANCE_CUDA_LIB_PATH", explicit + "::" + tmp.resolve("missing"),
        "VIRTUAL_ENV", venv.toString(),
        "CUDA_HOME", tmp.resolve("cuda").toString());
    List<Path> dirs = LibraryLocator.searchDirectories(env, home);
    assertEquals(explicit, dirs.get(0), "GLANCE_CUDA_LIB_PATH first; missing entries dropped: " + dirs);
    assertEquals(List.of(cu13, cublas12, nvrtc12), dirs.subList(1, 4), "wheel lib folders, sorted by name: " + dirs);
    assertTrue(dirs.indexOf(cudaHome) > 3, "CUDA_HOME after the wheels: " + dirs);
  }

  @Test
  void aMissingLibrarySaysWhatAndWhere(@TempDir Path tmp) {
    LibraryLocator locator = new LibraryLocator(List.of(tmp), false);
    try (Arena arena = Arena.ofConfined()) {
      LibraryLoad load = locator.open("CUDA driver", LibraryLocator.DRIVER, arena);
      LibraryLoad.Missing m = assertInstanceOf(LibraryLoad.Missing.class, load);
      assertTrue(m.describe().startsWith("CUDA driver not found (tried libcuda.so.1 in 1 directories (" + tmp),
          m.describe());
    }
  }

  @Test
  void aFileThatIsNotALibraryIsReportedAndSkipped(@TempDir Path tmp) throws IOException {
    Files.writeString(tmp.resolve("libcublasLt.so.13"), "not an ELF file");
    LibraryLocator locator = new LibraryLocator(List.of(tmp), false);
    try (Arena arena = Arena.ofConfined()) {
      LibraryLoad.Missing m = assertInstanceOf(LibraryLoad.Missing.class,
          locator.open("cuBLASLt", LibraryLocator.CUBLAS_LT, arena));
      assertTrue(m.describe().contains(tmp.resolve("libcublasLt.so.13").toString()), m.describe());
    }
  }

  @Test
  void aLibraryInASearchedDirectoryIsFoundBeforeTheLoadersPath(@TempDir Path tmp) throws IOException {
    // Any real shared library stands in for a CUDA one: libm is on every Linux machine.
    Path libm = Stream.of("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6")
        .map(Path::of).filter(Files::exists).findFirst().orElseThrow();
    Files.createSymbolicLink(tmp.resolve("libnvrtc.so.12"), libm);
    LibraryLocator locator = new LibraryLocator(List.of(tmp), false);
    try (Arena arena = Arena.ofConfined()) {
      LibraryLoad.Loaded l = assertInstanceOf(LibraryLoad.Loaded.class, locator.open("NVRTC", LibraryLocator.NVRTC, arena));
      assertEquals(tmp.resolve("libnvrtc.so.12").toString(), l.location(), "the .13 soname is absent, .12 is next");
      assertTrue(l.symbols().find("cos").isPresent());
      NativeFunctions f = new NativeFunctions(l);
      var e = org.junit.jupiter.api.Assertions.assertThrows(NativeFunctions.MissingSymbolException.class,
          () -> f.bind("nvrtcCompileProgram", java.lang.foreign.FunctionDescriptor.ofVoid()));
      assertTrue(e.getMessage().contains("has no symbol nvrtcCompileProgram"), e.getMessage());
    }
  }

  private static final class Stream {
    static java.util.stream.Stream<String> of(String... s) {
      return java.util.stream.Stream.of(s);
    }
  }
}
