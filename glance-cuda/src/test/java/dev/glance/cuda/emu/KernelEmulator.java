package dev.glance.cuda.emu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.glance.cuda.runtime.KernelSources;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The kernels' CUDA C sources compiled for the CPU with g++ and the emulation shim in
 * src/test/native (one fiber per CUDA thread), loaded through FFM. Built once per content of the
 * sources into target/emu; a missing g++ fails the tests with a message saying so.
 */
public final class KernelEmulator {
  private static KernelEmulator instance;

  private final MethodHandle launch;

  private KernelEmulator(Path library) {
    SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
    launch = Linker.nativeLinker().downcallHandle(lookup.find("emu_launch").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
  }

  public static synchronized KernelEmulator get() {
    if (instance == null) {
      instance = new KernelEmulator(build());
    }
    return instance;
  }

  /** Runs kernel {@code name}; throws when the emulator does not know it. */
  public void launch(String name, int gx, int gy, int gz, int block, MemorySegment args) {
    int rc;
    try (Arena a = Arena.ofConfined()) {
      rc = (int) launch.invokeExact(a.allocateFrom(name), gx, gy, gz, block, args);
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
    if (rc != 0) {
      throw new IllegalStateException("emulated launch of " + name + " failed: " + rc);
    }
  }

  private static Path build() {
    try {
      Path root = Path.of(System.getProperty("glance.cuda.module", ".")).toAbsolutePath();
      Path nativeDir = root.resolve("src/test/native");
      Path kernels = root.resolve("src/main/resources/dev/glance/cuda/kernels");
      if (!Files.isDirectory(nativeDir) || !Files.isDirectory(kernels)) {
        throw new IllegalStateException("emulator sources not found under " + root);
      }
      StringBuilder unit = new StringBuilder("#include \"emu.h\"\n");
      List<String> names = new ArrayList<>();
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String f : List.of("emu.h", "emu_runtime.cpp")) {
        sha.update(Files.readAllBytes(nativeDir.resolve(f)));
      }
      sha.update(Files.readAllBytes(kernels.resolve(KernelSources.HEADER)));
      for (String file : KernelSources.FILES) {
        String src = Files.readString(kernels.resolve(file));
        sha.update(src.getBytes(StandardCharsets.UTF_8));
        unit.append("#include \"").append(file).append("\"\n");
        names.addAll(KernelSources.kernelNames(src));
      }
      unit.append("#include \"emu_runtime.cpp\"\n");
      for (String n : names) {
        unit.append("EMU_REGISTER(").append(n).append(")\n");
      }
      String hash = HexFormat.of().formatHex(sha.digest()).substring(0, 16);
      Path out = root.resolve("target/emu");
      Files.createDirectories(out);
      Path lib = out.resolve("libglance_emu_" + hash + ".so");
      if (Files.exists(lib)) {
        return lib;
      }
      Path cpp = out.resolve("emu_all_" + hash + ".cpp");
      Files.writeString(cpp, unit);
      Path tmp = out.resolve(lib.getFileName() + ".tmp");
      List<String> cmd = List.of(gxx(), "-std=c++17", "-O2", "-fPIC", "-shared", "-I" + nativeDir, "-I" + kernels,
          cpp.toString(), "-o", tmp.toString());
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("g++ could not build the kernel emulator:\n" + String.join(" ", cmd) + "\n" + log);
      }
      Files.move(tmp, lib);
      return lib;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (Exception e) {
      throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
    }
  }

  private static String gxx() {
    for (String c : List.of("/usr/bin/g++", "/usr/local/bin/g++")) {
      if (Files.isExecutable(Path.of(c))) {
        return c;
      }
    }
    throw new IllegalStateException("g++ not found (needed to run the CUDA kernels on the CPU in tests): "
        + "apt-get install g++");
  }
}
