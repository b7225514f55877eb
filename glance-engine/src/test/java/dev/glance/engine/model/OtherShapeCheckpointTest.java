package dev.glance.engine.model;

import static dev.glance.engine.Fixture.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.io.SafetensorsFile;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.cpu.CpuBackend;
import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A checkpoint with other shapes than the main fixture, in the GLM-4.1V config layout with the
 * older tensor names and a 16x16 position grid: 3 query heads over 1 KV head, partial rotary 0.25,
 * mrope_section [2,1,1], rope_theta 500000, eps 1e-6, two images. Expected values were computed by
 * tools/make_shape_fixture.py, a float64 numpy implementation of the spec.
 */
class OtherShapeCheckpointTest {
  private static final double TOL = 1e-4;
  private static Path dir;
  private static Arena arena;
  private static SafetensorsFile expected;
  private static CpuBackend backend;
  private static Glm4vModel model;

  @BeforeAll
  static void load() throws URISyntaxException {
    dir = Path.of(OtherShapeCheckpointTest.class.getResource("/fixtures/glm41v-shape-b/config.json").toURI()).getParent();
    arena = Arena.ofShared();
    expected = SafetensorsFile.open(dir.resolve("expected.safetensors"), arena);
    backend = new CpuBackend();
    model = Glm4vModel.load(dir, backend);
  }

  @AfterAll
  static void close() {
    model.close();
    backend.close();
    arena.close();
  }

  private static float[] f(String name) {
    return expected.get(name).toFloatArray();
  }

  private static int[] ints(String name) {
    long[] l = expected.get(name).toLongArray();
    int[] r = new int[l.length];
    for (int i = 0; i < l.length; i++) {
      r[i] = (int) l[i];
    }
    return r;
  }

  private static List<ImageGrid> grids() {
    int[] g = ints("image_grid_thw");
    List<ImageGrid> out = new ArrayList<>();
    for (int i = 0; i < g.length; i += 3) {
      out.add(new ImageGrid(g[i], g[i + 1], g[i + 2]));
    }
    return out;
  }

  private static float[] host(Tensor t) {
    float[] v = new float[t.rows() * t.cols()];
    backend.download(t, v);
    return v;
  }

  @Test
  void readsTheShapesFromTheGlm41vLayout() {
    var t = model.config().text();
    assertEquals("glm4v", model.config().modelType());
    assertEquals(8, t.rotaryDim());
    assertEquals(List.of(2, 1, 1), t.mropeSection());
    assertEquals(500000.0, t.ropeTheta());
    assertEquals(1, t.kvHeads());
    assertEquals(1e-6f, t.rmsEps());
    assertEquals(List.of(290, 291), model.config().eosIds());
  }

  @Test
  void visionEmbeddingsWithA16x16PositionGrid() {
    Tensor out = model.encodeImages(f("pixel_values"), grids());
    assertClose(host(out), f("vision_embeds"), TOL, "vision_embeds");
  }

  @Test
  void positionsAndRopeDelta() {
    int[] ids = ints("input_ids");
    RopeIndex index = RopeIndex.of(ids, grids(), model.config().tokens(), 2);
    int[] flat = ints("position_ids");
    for (int a = 0; a < 3; a++) {
      int[] row = new int[ids.length];
      System.arraycopy(flat, a * ids.length, row, 0, ids.length);
      assertArrayEquals(row, index.positions()[a], "axis " + a);
    }
    assertEquals(ints("rope_delta")[0], index.ropeDelta());
  }

  @Test
  void decoderLayersLogitsAndGreedyThroughTheKvCache() {
    int[] ids = ints("input_ids");
    Tensor images = model.encodeImages(f("pixel_values"), grids());
    Tensor x = model.embedPrompt(ids, images);
    assertClose(host(x), f("hidden.0"), TOL, "hidden.0");
    int layers = model.config().text().layers();
    int[] greedy = ints("greedy_ids");
    Sequence seq = model.newSequence(ids.length + greedy.length);
    Map<Integer, float[]> seen = new HashMap<>();
    seq.prefill(x, RopeIndex.of(ids, grids(), model.config().tokens(), 2), (k, h) -> seen.put(k, host(h)));
    for (int k = 1; k < layers; k++) {
      assertClose(seen.get(k), f("hidden." + k), TOL, "hidden." + k);
    }
    assertClose(host(x), f("hidden." + layers), TOL, "final norm");
    Tensor logits = backend.allocate(ids.length, model.config().text().vocabSize());
    model.text().logits(backend, x, logits);
    assertClose(host(logits), f("logits"), TOL, "logits");
    int[] got = new int[greedy.length];
    float[] next = seq.logits();
    for (int i = 0; i < greedy.length; i++) {
      int best = 0;
      for (int v = 1; v < next.length; v++) {
        best = next[v] > next[best] ? v : best;
      }
      got[i] = best;
      if (i + 1 < greedy.length) {
        next = seq.step(best);
      }
    }
    assertArrayEquals(greedy, got, "greedy ids");
  }
}
