package dev.glance.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kernel file compiles with nvcc for sm_90 (H100/H200), as NVRTC will compile it on the
 * card, and every kernel the backend launches exists. Fails, never skips, when nvcc is missing:
 * this machine kind and CI have it at /usr/local/bin/nvcc.
 */
class KernelCompileTest {

  static Path nvcc() {
    List<Path> candidates = new ArrayList<>();
    String env = System.getenv("NVCC");
    if (env != null) {
      candidates.add(Path.of(env));
    }
    candidates.add(Path.of("/usr/local/bin/nvcc"));
    candidates.add(Path.of("/usr/local/cuda/bin/nvcc"));
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(":")) {
        candidates.add(Path.of(dir, "nvcc"));
      }
    }
    for (Path p : candidates) {
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    fail("nvcc not found (looked at $NVCC, /usr/local/bin/nvcc, /usr/local/cuda/bin/nvcc and PATH): the kernel "
        + "compile check needs the CUDA toolkit's nvcc");
    return null;
  }

  @Test
  void everyKernelFileCompilesForSm90(@TempDir Path tmp) throws IOException, InterruptedException {
    Path dir = tmp.resolve("kernels");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(KernelSources.HEADER), KernelSources.read(KernelSources.HEADER));
    Path nvcc = nvcc();
    for (String file : KernelSources.FILES) {
      String source = KernelSources.read(file);
      Files.writeString(dir.resolve(file), source);
      Path ptx = tmp.resolve(file + ".ptx");
      Process p = new ProcessBuilder(nvcc.toString(), "-ptx", "-arch=sm_90", "-std=c++17", "-Werror", "all-warnings",
          "-I", dir.toString(), dir.resolve(file).toString(), "-o", ptx.toString())
          .redirectErrorStream(true).start();
      String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(300, TimeUnit.SECONDS), "nvcc timed out on " + file);
      assertEquals(0, p.exitValue(), "nvcc failed on " + file + ":\n" + log);
      String text = Files.readString(ptx);
      for (String kernel : KernelSources.kernelNames(source)) {
        assertTrue(text.contains(".entry " + kernel + "("), file + ": no PTX entry for " + kernel);
      }
    }
  }

  @Test
  void everyLaunchedKernelIsDefinedOnce() throws IOException {
    Set<String> defined = new HashSet<>();
    for (String file : KernelSources.FILES) {
      for (String k : KernelSources.kernelNames(KernelSources.read(file))) {
        assertTrue(defined.add(k), "kernel " + k + " defined twice");
      }
    }
    Path src = Path.of(System.getProperty("glance.cuda.module", ".")).resolve("src/main/java");
    Set<String> launched = new HashSet<>();
    var m = java.util.regex.Pattern.compile("launch\\(\"(\\w+)\"").matcher("");
    try (var files = Files.walk(src)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        m.reset(Files.readString(f));
        while (m.find()) {
          launched.add(m.group(1));
        }
      }
    }
    assertFalse(launched.isEmpty(), "no launches found under " + src);
    for (String k : launched) {
      assertTrue(defined.contains(k), "launched kernel " + k + " is not defined in " + KernelSources.FILES);
    }
  }
}
