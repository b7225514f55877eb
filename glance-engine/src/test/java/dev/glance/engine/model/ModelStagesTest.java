package dev.glance.engine.model;

import static dev.glance.engine.Fixture.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.glance.engine.Fixture;
import dev.glance.engine.generate.Sampler;
import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.cpu.CpuBackend;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every model stage against the reference, each fed the reference's own input. */
class ModelStagesTest {
  private static final double TOL = 1e-4;
  private static CpuBackend backend;
  private static Glm4vModel model;

  @BeforeAll
  static void load() {
    backend = new CpuBackend();
    model = Glm4vModel.load(Fixture.DIR, backend);
  }

  @AfterAll
  static void close() {
    model.close();
    backend.close();
  }

  static List<String> allCases() {
    return Fixture.caseNames();
  }

  static List<String> imageCases() {
    return Fixture.imageCaseNames();
  }

  private static float[] host(Tensor t) {
    float[] out = new float[t.rows() * t.cols()];
    backend.download(t, out);
    return out;
  }

  @ParameterizedTest
  @MethodSource("imageCases")
  void visionEmbeddings(String name) {
    List<ImageGrid> grids = Fixture.grids(name);
    Tensor out = model.encodeImages(Fixture.floats(name + ".pixel_values"), grids);
    assertClose(host(out), Fixture.floats(name + ".vision_embeds"), TOL, name + " vision_embeds");
  }

  @ParameterizedTest
  @MethodSource("allCases")
  void positionIdsAndRopeDelta(String name) {
    int[] ids = Fixture.ints(name + ".input_ids");
    RopeIndex index = RopeIndex.of(ids, Fixture.grids(name), model.config().tokens(),
        model.config().vision().spatialMergeSize());
    int[] expected = Fixture.ints(name + ".position_ids");
    int n = ids.length;
    for (int axis = 0; axis < 3; axis++) {
      int[] row = new int[n];
      System.arraycopy(expected, axis * n, row, 0, n);
      assertArrayEquals(row, index.positions()[axis], name + " position axis " + axis);
    }
    assertEquals(Fixture.ints(name + ".rope_delta")[0], index.ropeDelta(), name + " rope_delta");
  }

  @ParameterizedTest
  @MethodSource("allCases")
  void embeddingsWithImagesScattered(String name) {
    int[] ids = Fixture.ints(name + ".input_ids");
    Tensor images = null;
    if (Fixture.has(name + ".vision_embeds")) {
      float[] v = Fixture.floats(name + ".vision_embeds");
      int hidden = model.config().text().hidden();
      images = backend.upload(v, v.length / hidden, hidden);
    }
    assertClose(host(model.embedPrompt(ids, images)), Fixture.floats(name + ".hidden.0"), 0, name + " hidden.0");
  }

  @ParameterizedTest
  @MethodSource("allCases")
  void decoderLayersAndLogits(String name) {
    float[] h0 = Fixture.floats(name + ".hidden.0");
    int hidden = model.config().text().hidden();
    int n = h0.length / hidden;
    int layers = model.config().text().layers();
    int[][] pos = positions(name, n);
    Sequence seq = model.newSequence(n);
    Tensor x = backend.upload(h0, n, hidden);
    Map<Integer, float[]> seen = new HashMap<>();
    seq.prefill(x, new RopeIndex(pos, Fixture.ints(name + ".rope_delta")[0]),
        (layer, h) -> seen.put(layer, host(h)));
    for (int k = 1; k < layers; k++) {
      assertClose(seen.get(k), Fixture.floats(name + ".hidden." + k), TOL, name + " hidden." + k);
    }
    assertClose(host(x), Fixture.floats(name + ".hidden." + layers), TOL, name + " hidden." + layers + " (final norm)");
    Tensor logits = backend.allocate(n, model.config().text().vocabSize());
    model.text().logits(backend, x, logits);
    assertClose(host(logits), Fixture.floats(name + ".logits"), TOL, name + " logits");
  }

  private static int[][] positions(String name, int n) {
    int[] flat = Fixture.ints(name + ".position_ids");
    int[][] pos = new int[3][n];
    for (int a = 0; a < 3; a++) {
      System.arraycopy(flat, a * n, pos[a], 0, n);
    }
    return pos;
  }

  /** Pixel values → vision → scatter → prefill → 12 greedy KV-cache steps, from the reference's pixels. */
  @ParameterizedTest
  @MethodSource("allCases")
  void greedyContinuationThroughKvCache(String name) {
    int[] ids = Fixture.ints(name + ".input_ids");
    List<ImageGrid> grids = Fixture.grids(name);
    Tensor images = grids.isEmpty() ? null : model.encodeImages(Fixture.floats(name + ".pixel_values"), grids);
    int[] expected = Fixture.ints(name + ".greedy_ids");
    Sequence seq = model.newSequence(ids.length + expected.length);
    RopeIndex index = RopeIndex.of(ids, grids, model.config().tokens(), model.config().vision().spatialMergeSize());
    seq.prefill(model.embedPrompt(ids, images), index, null);
    int[] got = new int[expected.length];
    float[] logits = seq.logits();
    for (int i = 0; i < expected.length; i++) {
      got[i] = Sampler.argmax(logits);
      if (i + 1 < expected.length) {
        logits = seq.step(got[i]);
      }
    }
    assertArrayEquals(expected, got, name + " greedy ids");
  }
}
