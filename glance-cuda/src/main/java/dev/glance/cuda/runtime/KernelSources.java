package dev.glance.cuda.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CUDA C sources shipped in this jar under {@code dev/glance/cuda/kernels/}: each .cu file,
 * the shared header they include, and the kernels each defines (every
 * {@code extern "C" __global__} function, so names are unmangled for cuModuleGetFunction).
 */
public final class KernelSources {
  public static final String DIR = "/dev/glance/cuda/kernels/";
  public static final String HEADER = "glance_common.cuh";
  /** The kernel files, in the order they are compiled. */
  public static final List<String> FILES =
      List.of("elementwise.cu", "rotary.cu", "attention.cu", "matvec.cu", "sampling.cu", "fill.cu");

  private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\s*\\(");

  private KernelSources() {}

  public static String read(String file) {
    try (InputStream in = KernelSources.class.getResourceAsStream(DIR + file)) {
      if (in == null) {
        throw new IllegalStateException("kernel source " + DIR + file + " missing from the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The shared header as NVRTC wants it: include name to text. */
  public static Map<String, String> headers() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put(HEADER, read(HEADER));
    return h;
  }

  /** Kernel names defined in a source text. */
  public static List<String> kernelNames(String source) {
    List<String> names = new ArrayList<>();
    Matcher m = KERNEL.matcher(source);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }
}
