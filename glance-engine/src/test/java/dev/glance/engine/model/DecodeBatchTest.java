package dev.glance.engine.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.glance.engine.Fixture;
import dev.glance.engine.generate.Sampler;
import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.tensor.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Batched decoding against the reference's greedy continuations: every fixture case decoded
 * together in one batch, joining at different steps, in different orders, with prefill in chunks,
 * gives exactly the tokens single-sequence decoding gives.
 */
class DecodeBatchTest {
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

  /** One case's decoding state while the batch runs. */
  private static final class Run {
    final String name;
    final int[] expected;
    final int[] got;
    int count;
    Sequence seq;

    Run(String name) {
      this.name = name;
      this.expected = Fixture.ints(name + ".greedy_ids");
      this.got = new int[expected.length];
    }

    void start(int chunk) {
      int[] ids = Fixture.ints(name + ".input_ids");
      List<ImageGrid> grids = Fixture.grids(name);
      Tensor images = grids.isEmpty() ? null : model.encodeImages(Fixture.floats(name + ".pixel_values"), grids);
      seq = model.newSequence(ids.length + expected.length);
      seq.beginPrefill(model.embedPrompt(ids, images),
          RopeIndex.of(ids, grids, model.config().tokens(), model.config().vision().spatialMergeSize()));
      while (seq.prefillRemaining() > 0) {
        seq.prefillChunk(chunk);
      }
    }
  }

  @Test
  void batchedDecodingGivesTheSingleSequenceTokensWhateverTheArrivalOrder() {
    List<String> names = Fixture.caseNames();
    Random random = new Random(7);
    for (int trial = 0; trial < 3; trial++) {
      List<String> order = new ArrayList<>(names);
      Collections.shuffle(order, random);
      List<Run> pending = new ArrayList<>();
      for (String name : order) {
        pending.add(new Run(name));
      }
      DecodeBatch batch = new DecodeBatch(model, names.size());
      List<Run> active = new ArrayList<>();
      List<Run> done = new ArrayList<>();
      int chunk = new int[] {1000, 7, 32}[trial];
      int stepNo = 0;
      while (!pending.isEmpty() || !active.isEmpty()) {
        // A new sequence joins every other step (trial 0: all at once), so the batch's
        // composition changes while others are mid-decode.
        if (!pending.isEmpty() && (trial == 0 || stepNo % 2 == 0)) {
          Run r = pending.removeFirst();
          r.start(chunk);
          active.add(r);
          if (trial == 0) {
            while (!pending.isEmpty()) {
              Run more = pending.removeFirst();
              more.start(chunk);
              active.add(more);
            }
          }
        }
        List<Sequence> seqs = new ArrayList<>();
        List<Integer> tokens = new ArrayList<>();
        for (Run r : List.copyOf(active)) {
          int token = Sampler.argmax(r.seq.logits());
          r.got[r.count++] = token;
          if (r.count == r.expected.length) {
            active.remove(r);
            done.add(r);
          } else {
            seqs.add(r.seq);
            tokens.add(token);
          }
        }
        batch.step(seqs, tokens.stream().mapToInt(Integer::intValue).toArray());
        stepNo++;
      }
      for (Run r : done) {
        assertArrayEquals(r.expected, r.got, r.name + " greedy ids in trial " + trial + " (order " + order + ")");
      }
    }
  }
}
