package dev.glance.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.Fixture;
import dev.glance.engine.generate.Sampler;
import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Several prompts prefilled together in one pass, in chunks of different sizes, give each prompt
 * the logits it gets alone, and then the reference's greedy continuation.
 */
class PrefillBatchTest {
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

  private static Sequence begin(String name) {
    int[] ids = Fixture.ints(name + ".input_ids");
    List<ImageGrid> grids = Fixture.grids(name);
    Tensor images = grids.isEmpty() ? null : model.encodeImages(Fixture.floats(name + ".pixel_values"), grids);
    Sequence seq = model.newSequence(ids.length + Fixture.ints(name + ".greedy_ids").length);
    seq.beginPrefill(model.embedPrompt(ids, images),
        RopeIndex.of(ids, grids, model.config().tokens(), model.config().vision().spatialMergeSize()));
    return seq;
  }

  @Test
  void promptsPrefilledTogetherMatchPromptsPrefilledAlone() {
    List<String> names = Fixture.caseNames();
    PrefillBatch prefill = new PrefillBatch(model);
    for (int chunk : new int[] {1000, 9, 1}) {
      List<Sequence> seqs = new ArrayList<>();
      for (String name : names) {
        seqs.add(begin(name));
      }
      int passes = 0;
      while (seqs.stream().anyMatch(s -> s.prefillRemaining() > 0)) {
        List<Sequence> now = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (int i = 0; i < seqs.size(); i++) {
          Sequence s = seqs.get(i);
          if (s.prefillRemaining() > 0) {
            now.add(s);
            // Different chunk sizes per prompt, so runs of unequal length share a pass.
            counts.add(Math.min(s.prefillRemaining(), chunk + i % 3));
          }
        }
        prefill.run(now, counts.stream().mapToInt(Integer::intValue).toArray());
        passes++;
      }
      assertTrue(passes >= 1);
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i);
        Sequence alone = begin(name);
        alone.prefillChunk(1000);
        float[] want = alone.logits();
        float[] got = seqs.get(i).logits();
        double err = 0;
        double norm = 0;
        for (int j = 0; j < want.length; j++) {
          err = Math.max(err, Math.abs(got[j] - want[j]));
          norm = Math.max(norm, Math.abs(want[j]));
        }
        assertTrue(err <= 1e-4 * norm, name + " (chunk " + chunk + "): logits differ by " + err + " of " + norm);
        assertEquals(alone.length(), seqs.get(i).length(), name);
        // And the continuation from the batched prefill is the reference's.
        int[] expected = Fixture.ints(name + ".greedy_ids");
        int[] ids = new int[expected.length];
        Sequence s = seqs.get(i);
        float[] logits = s.logits();
        for (int t = 0; t < expected.length; t++) {
          ids[t] = Sampler.argmax(logits);
          if (t + 1 < expected.length) {
            logits = s.step(ids[t]);
          }
        }
        assertArrayEquals(expected, ids, name + " greedy ids after a batched prefill in chunks of " + chunk);
      }
    }
  }

  @Test
  void refusesAChunkLongerThanWhatIsLeft() {
    Sequence s = begin(Fixture.caseNames().get(0));
    PrefillBatch prefill = new PrefillBatch(model);
    assertThrows(IllegalArgumentException.class, () -> prefill.run(List.of(s), new int[] {s.prefillRemaining() + 1}));
    assertThrows(IllegalArgumentException.class, () -> prefill.run(List.of(s), new int[] {0}));
  }
}
