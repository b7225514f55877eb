package dev.glance.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.io.Json;
import dev.glance.engine.io.SafetensorsFile;
import dev.glance.engine.tensor.TensorData;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference fixture ../shared/fixtures/glm4v-tiny-a: the checkpoint directory, expected.json
 * and the tensors of expected.safetensors. Fails (never skips) when the fixture is missing.
 */
public final class Fixture {
  public static final Path DIR = locate();
  private static final Arena ARENA = Arena.ofShared();
  public static final SafetensorsFile EXPECTED = SafetensorsFile.open(DIR.resolve("expected.safetensors"), ARENA);
  public static final JsonNode JSON = Json.read(DIR.resolve("expected.json"));

  private Fixture() {}

  private static Path locate() {
    String prop = System.getProperty("glance.fixtures");
    Path dir = prop == null ? Path.of("../../shared/fixtures") : Path.of(prop);
    dir = dir.resolve("glm4v-tiny-a").toAbsolutePath().normalize();
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException("fixture directory " + dir + " not found; set -Dglance.fixtures");
    }
    return dir;
  }

  public static List<String> caseNames() {
    List<String> names = new ArrayList<>();
    for (JsonNode c : JSON.path("cases")) {
      names.add(c.path("name").asText());
    }
    return names;
  }

  public static List<String> imageCaseNames() {
    List<String> names = new ArrayList<>();
    for (JsonNode c : JSON.path("cases")) {
      if (!c.path("images").isEmpty()) {
        names.add(c.path("name").asText());
      }
    }
    return names;
  }

  public static JsonNode caseJson(String name) {
    for (JsonNode c : JSON.path("cases")) {
      if (c.path("name").asText().equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException(name);
  }

  public static TensorData tensor(String name) {
    return EXPECTED.get(name);
  }

  public static boolean has(String name) {
    return EXPECTED.tensors().containsKey(name);
  }

  public static float[] floats(String name) {
    return tensor(name).toFloatArray();
  }

  public static int[] ints(String name) {
    long[] l = tensor(name).toLongArray();
    int[] r = new int[l.length];
    for (int i = 0; i < l.length; i++) {
      r[i] = Math.toIntExact(l[i]);
    }
    return r;
  }

  public static List<ImageGrid> grids(String caseName) {
    List<ImageGrid> grids = new ArrayList<>();
    String key = caseName + ".image_grid_thw";
    if (!has(key)) {
      return grids;
    }
    int[] g = ints(key);
    for (int i = 0; i < g.length; i += 3) {
      grids.add(new ImageGrid(g[i], g[i + 1], g[i + 2]));
    }
    return grids;
  }

  /** max |actual - expected| / max |expected|: the scale-aware error the tolerances refer to. */
  public static double relativeError(float[] actual, float[] expected) {
    assertEquals(expected.length, actual.length, "length");
    double maxDiff = 0;
    double maxRef = 0;
    for (int i = 0; i < expected.length; i++) {
      assertTrue(Float.isFinite(actual[i]), "non-finite value at " + i);
      maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
      maxRef = Math.max(maxRef, Math.abs(expected[i]));
    }
    return maxDiff / maxRef;
  }

  public static void assertClose(float[] actual, float[] expected, double tol, String what) {
    double err = relativeError(actual, expected);
    assertTrue(err <= tol, what + ": relative error " + err + " > " + tol);
  }
}
