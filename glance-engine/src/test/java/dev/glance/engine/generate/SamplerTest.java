package dev.glance.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerTest {

  private static final int[] NO_CONTEXT = new int[0];

  private static Sampler sampler(
      double temperature, double topP, int topK, long seed, double penalty, int vocab) {
    return new Sampler(
        new SamplingParams(
            temperature, topP, topK, OptionalLong.of(seed), penalty, 100, List.of(), false),
        vocab);
  }

  private static float[] randomLogits(Random r, int vocab, double scale) {
    float[] logits = new float[vocab];
    for (int i = 0; i < vocab; i++) {
      logits[i] = (float) (r.nextGaussian() * scale);
    }
    return logits;
  }

  private static int[] draw(Sampler s, float[] logits, int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = s.next(logits, NO_CONTEXT, 0);
    }
    return out;
  }

  private static int[] histogram(int[] ids, int vocab) {
    int[] counts = new int[vocab];
    for (int id : ids) {
      counts[id]++;
    }
    return counts;
  }

  /**
   * Pearson chi-square of observed counts against expected probabilities. For 3 degrees of freedom
   * the 0.999 quantile is 16.27, so with a fixed seed a correct sampler passes and a sampler off by
   * a few percent of probability (over 20000 draws) fails.
   */
  private static double chiSquare(int[] counts, double[] expected, int n) {
    double chi = 0;
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i] * n;
      chi += (counts[i] - e) * (counts[i] - e) / e;
    }
    return chi;
  }

  // ---- greedy -------------------------------------------------------------------------------

  @Test
  void greedyIsArgmax() {
    Sampler s = new Sampler(SamplingParams.greedy(10), 5);
    assertEquals(3, s.next(new float[] {0.1f, -2f, 1.5f, 7f, 6.99f}, NO_CONTEXT, 0));
    assertEquals(0, s.next(new float[] {9f, -2f, 1.5f, 7f, 6.99f}, NO_CONTEXT, 0));
    assertEquals(4, s.next(new float[] {-9f, -8f, -7f, -6f, -5f}, NO_CONTEXT, 0));
  }

  @Test
  void greedyTiesGoToLowestIndex() {
    Sampler s = new Sampler(SamplingParams.greedy(10), 6);
    assertEquals(1, s.next(new float[] {0f, 4f, 2f, 4f, 4f, 1f}, NO_CONTEXT, 0));
    float ninf = Float.NEGATIVE_INFINITY;
    assertEquals(2, s.next(new float[] {ninf, ninf, 0f, ninf, 0f, ninf}, NO_CONTEXT, 0));
    // All -inf: like torch.argmax, index 0.
    assertEquals(0, s.next(new float[] {ninf, ninf, ninf, ninf, ninf, ninf}, NO_CONTEXT, 0));
  }

  @Test
  void nanLogitsAreReportedNotSkipped() {
    float[] logits = {1f, Float.NaN, 0f};
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new Sampler(SamplingParams.greedy(1), 3).next(logits, NO_CONTEXT, 0));
    assertTrue(e.getMessage().contains("token 1"), e.getMessage());
    assertThrows(IllegalStateException.class,
        () -> sampler(1, 1, 0, 1, 1, 3).next(logits, NO_CONTEXT, 0));
    assertThrows(IllegalStateException.class,
        () -> sampler(1, 1, 2, 1, 1, 3).next(logits, NO_CONTEXT, 0));
    assertThrows(IllegalStateException.class,
        () -> sampler(1, 0.5, 0, 1, 1, 3).next(logits, NO_CONTEXT, 0));
  }

  @Test
  void extraTrailingLogitsAreIgnored() {
    // A padded output layer may give more logits than the vocabulary has tokens.
    Sampler s = new Sampler(SamplingParams.greedy(1), 3);
    assertEquals(2, s.next(new float[] {0f, 1f, 2f, 100f}, NO_CONTEXT, 0));
    assertThrows(IllegalArgumentException.class, () -> s.next(new float[2], NO_CONTEXT, 0));
  }

  @Test
  void callerLogitsAreNotModified() {
    float[] logits = randomLogits(new Random(3), 500, 2);
    float[] before = logits.clone();
    int[] context = {1, 2, 3, 3, 400};
    sampler(0.7, 0.9, 50, 1, 1.3, 500).next(logits, context, context.length);
    new Sampler(
            new SamplingParams(0, 1, 0, OptionalLong.empty(), 1.3, 1, List.of(), false), 500)
        .next(logits, context, context.length);
    assertArrayEquals(before, logits);
  }

  // ---- seeds --------------------------------------------------------------------------------

  @Test
  void sameSeedSameTokens() {
    float[] logits = randomLogits(new Random(11), 1000, 1.0);
    int[] a = draw(sampler(1.0, 0.95, 0, 42, 1, 1000), logits, 300);
    int[] b = draw(sampler(1.0, 0.95, 0, 42, 1, 1000), logits, 300);
    assertArrayEquals(a, b);
    int[] c = draw(sampler(0.8, 1, 40, 42, 1, 1000), logits, 300);
    int[] d = draw(sampler(0.8, 1, 40, 42, 1, 1000), logits, 300);
    assertArrayEquals(c, d);
  }

  @Test
  void differentSeedsDiffer() {
    float[] logits = randomLogits(new Random(11), 1000, 1.0);
    int[] a = draw(sampler(1.0, 1, 0, 1, 1, 1000), logits, 300);
    int[] b = draw(sampler(1.0, 1, 0, 2, 1, 1000), logits, 300);
    assertNotEquals(Arrays.toString(a), Arrays.toString(b));
    // And the draws are not stuck on one token.
    assertTrue(Arrays.stream(a).distinct().count() > 50);
  }

  // ---- top-k / top-p limits -----------------------------------------------------------------

  @Test
  void topKOneIsGreedy() {
    Random r = new Random(5);
    Sampler greedy = new Sampler(SamplingParams.greedy(1), 2000);
    Sampler topK1 = sampler(1.5, 1, 1, 99, 1, 2000);
    for (int i = 0; i < 50; i++) {
      float[] logits = randomLogits(r, 2000, 3);
      assertEquals(greedy.next(logits, NO_CONTEXT, 0), topK1.next(logits, NO_CONTEXT, 0));
    }
  }

  @Test
  void tinyTopPIsGreedy() {
    Random r = new Random(6);
    Sampler greedy = new Sampler(SamplingParams.greedy(1), 2000);
    Sampler tinyP = sampler(2.0, 1e-5, 0, 99, 1, 2000);
    for (int i = 0; i < 50; i++) {
      float[] logits = randomLogits(r, 2000, 0.5);
      assertEquals(greedy.next(logits, NO_CONTEXT, 0), tinyP.next(logits, NO_CONTEXT, 0));
    }
    // Tie for the maximum: the lowest index, like greedy.
    float[] tied = {0f, 3f, 1f, 3f};
    Sampler s = sampler(1, 1e-5, 0, 1, 1, 4);
    for (int i = 0; i < 100; i++) {
      assertEquals(1, s.next(tied, NO_CONTEXT, 0));
    }
  }

  // ---- distributions ------------------------------------------------------------------------

  @Test
  void temperatureSamplingFollowsTheSoftmax() {
    double[] p = {0.1, 0.2, 0.3, 0.4};
    int n = 20000;
    for (double temperature : new double[] {1.0, 0.5, 2.0}) {
      // logits = T * log(p): after division by T the softmax is p again.
      float[] logits = new float[4];
      for (int i = 0; i < 4; i++) {
        logits[i] = (float) (temperature * Math.log(p[i]) + 3.0);
      }
      int[] counts = histogram(draw(sampler(temperature, 1, 0, 1234, 1, 4), logits, n), 4);
      double chi = chiSquare(counts, p, n);
      assertTrue(chi < 16.27, "T=" + temperature + " chi2=" + chi + " " + Arrays.toString(counts));
    }
  }

  @Test
  void frequencyCheckCanFail() {
    // The same check against a wrong expectation (temperature ignored) must fail, or it proves
    // nothing.
    double[] p = {0.1, 0.2, 0.3, 0.4};
    float[] logits = new float[4];
    for (int i = 0; i < 4; i++) {
      logits[i] = (float) Math.log(p[i]);
    }
    int n = 20000;
    int[] counts = histogram(draw(sampler(0.7, 1, 0, 1234, 1, 4), logits, n), 4);
    assertTrue(chiSquare(counts, p, n) > 16.27);
  }

  @Test
  void topKKeepsTheKBestRenormalized() {
    double[] p = {0.1, 0.2, 0.3, 0.4};
    float[] logits = new float[4];
    for (int i = 0; i < 4; i++) {
      logits[i] = (float) Math.log(p[i]);
    }
    int n = 20000;
    int[] counts = histogram(draw(sampler(1, 1, 2, 77, 1, 4), logits, n), 4);
    assertEquals(0, counts[0] + counts[1]);
    double chi = chiSquare(
        new int[] {counts[2], counts[3]}, new double[] {3.0 / 7, 4.0 / 7}, n);
    assertTrue(chi < 10.83, "chi2=" + chi); // 1 degree of freedom, 0.999 quantile
  }

  @Test
  void topKKeepsEveryTokenTiedWithTheKth() {
    // HF removes only scores strictly below the k-th largest, so ids 1 and 2 both survive k=2.
    float[] logits = {3f, 2f, 2f, -1f, 1f};
    int[] counts = histogram(draw(sampler(1, 1, 2, 5, 1, 5), logits, 5000), 5);
    assertTrue(counts[0] > 0 && counts[1] > 0 && counts[2] > 0, Arrays.toString(counts));
    assertEquals(0, counts[3] + counts[4]);
  }

  @Test
  void topPKeepsTheSmallestPrefixReachingP() {
    double[] p = {0.05, 0.5, 0.15, 0.3};
    float[] logits = new float[4];
    for (int i = 0; i < 4; i++) {
      logits[i] = (float) Math.log(p[i]);
    }
    int n = 20000;
    // 0.5 < 0.75, 0.5 + 0.3 >= 0.75: ids 1 and 3 only.
    int[] c = histogram(draw(sampler(1, 0.75, 0, 8, 1, 4), logits, n), 4);
    assertEquals(0, c[0] + c[2], Arrays.toString(c));
    assertTrue(chiSquare(new int[] {c[1], c[3]}, new double[] {0.5 / 0.8, 0.3 / 0.8}, n) < 10.83);
    // 0.8 < 0.85: id 2 joins; id 0 never.
    c = histogram(draw(sampler(1, 0.85, 0, 8, 1, 4), logits, n), 4);
    assertEquals(0, c[0], Arrays.toString(c));
    assertTrue(chiSquare(new int[] {c[1], c[3], c[2]},
        new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95}, n) < 13.82);
  }

  @Test
  void topPAppliesAfterTemperature() {
    // At T=1 the top token has p=0.5, so top_p=0.6 needs a second one; at T=0.25 it has ~0.87.
    float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
    int[] hot = histogram(draw(sampler(1, 0.6, 0, 3, 1, 3), logits, 3000), 3);
    int[] cold = histogram(draw(sampler(0.25, 0.6, 0, 3, 1, 3), logits, 3000), 3);
    assertTrue(hot[1] > 0);
    assertEquals(3000, cold[0]);
  }

  @Test
  void topPOnAFullVocabularyWithALongFlatTail() {
    // Three strong tokens and 151549 equal ones holding ~82% of the mass. top_p=0.5 keeps the
    // three and then tail tokens in id order (ties sort by id) until the mass reaches 0.5; this
    // exercises the pre-filter (which must keep the tail) and the ordering of ties.
    int vocab = 151552;
    float[] logits = new float[vocab];
    logits[vocab - 1] = 10f;
    logits[vocab - 2] = 9f;
    logits[vocab - 3] = 8f;
    double z = Math.exp(10) + Math.exp(9) + Math.exp(8) + (vocab - 3);
    double head = (Math.exp(10) + Math.exp(9) + Math.exp(8)) / z;
    int tailKept = (int) Math.ceil((0.5 - head) * z); // tail tokens needed to reach 0.5
    Sampler s = sampler(1, 0.5, 0, 21, 1, vocab);
    int maxTail = -1;
    int tailDraws = 0;
    int draws = 1000; // each draw sorts ~150k keys: the pre-filter cannot help on a flat tail
    for (int i = 0; i < draws; i++) {
      int id = s.next(logits, NO_CONTEXT, 0);
      if (id < vocab - 3) {
        tailDraws++;
        maxTail = Math.max(maxTail, id);
      }
    }
    assertTrue(maxTail < tailKept + 2, "max tail id " + maxTail + " >= kept " + tailKept);
    assertTrue(maxTail > tailKept * 0.9, "tail ids near the end of the kept range never drawn");
    // The tail holds (0.5 - head) / 0.5 of the kept mass.
    double expectedTail = (0.5 - head) / 0.5 * draws; // standard deviation ~15
    assertTrue(Math.abs(tailDraws - expectedTail) < 60, tailDraws + " vs " + expectedTail);
  }

  @Test
  void topKThenTopPMatchesAReferenceImplementation() {
    Random r = new Random(17);
    int vocab = 5000;
    float[] logits = randomLogits(r, vocab, 4);
    double temperature = 0.9;
    int k = 200;
    double topP = 0.9;
    Set<Integer> expected = referenceKeptSet(logits, temperature, k, topP);
    Sampler s = sampler(temperature, topP, k, 4, 1, vocab);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 20000; i++) {
      int id = s.next(logits, NO_CONTEXT, 0);
      assertTrue(expected.contains(id), "drew " + id + " outside the reference set");
      seen.add(id);
    }
    assertTrue(seen.size() > expected.size() / 2, seen.size() + " of " + expected.size());
    // Same with top-p only (pre-filter path) and top-k only.
    Set<Integer> pOnly = referenceKeptSet(logits, temperature, 0, topP);
    Sampler sp = sampler(temperature, topP, 0, 4, 1, vocab);
    Set<Integer> kOnly = referenceKeptSet(logits, temperature, k, 1.0);
    Sampler sk = sampler(temperature, 1, k, 4, 1, vocab);
    for (int i = 0; i < 5000; i++) {
      assertTrue(pOnly.contains(sp.next(logits, NO_CONTEXT, 0)));
      assertTrue(kOnly.contains(sk.next(logits, NO_CONTEXT, 0)));
    }
  }

  /** HF's order, written the slow obvious way: full sort, cumulative probabilities. */
  private static Set<Integer> referenceKeptSet(
      float[] logits, double temperature, int k, double topP) {
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < logits.length; i++) {
      ids.add(i);
    }
    ids.sort(Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparing(i -> i));
    if (k > 0) {
      float kth = logits[ids.get(k - 1)];
      ids.removeIf(i -> logits[i] < kth);
    }
    double max = logits[ids.get(0)] / temperature;
    double z = 0;
    for (int i : ids) {
      z += Math.exp(logits[i] / temperature - max);
    }
    Set<Integer> kept = new HashSet<>();
    double cum = 0;
    for (int i : ids) {
      if (cum >= topP) {
        break;
      }
      kept.add(i);
      cum += Math.exp(logits[i] / temperature - max) / z;
    }
    return kept;
  }

  // ---- repetition penalty -------------------------------------------------------------------

  @Test
  void repetitionPenaltyMatchesHf() {
    RepetitionPenalty penalty = new RepetitionPenalty(1.5f);
    assertEquals(2.0f / 1.5f, penalty.apply(2.0f));
    assertEquals(-2.0f * 1.5f, penalty.apply(-2.0f));
    assertEquals(0.0f, penalty.apply(0.0f));
    float[] source = {2.0f, -2.0f, 1.0f, 0.5f};
    float[] target = source.clone();
    int[] context = {0, 1, 0, 1, 1, 9};
    penalty.apply(source, target, 4, context, 5); // the 9 lies past contextLength
    assertArrayEquals(new float[] {2.0f / 1.5f, -3.0f, 1.0f, 0.5f}, target);
    assertThrows(IllegalArgumentException.class,
        () -> penalty.apply(source, target, 4, context, 6));
  }

  @Test
  void repetitionPenaltyChangesGreedyChoice() {
    // Positive logits: 3.0 / 1.3 = 2.31 < 2.5, so the unseen token wins; 3.0 / 1.1 = 2.73 does not.
    float[] pos = {3.0f, 2.5f, 0f};
    int[] ctx = {0, 0, 0, 0}; // a repeated id is penalized once, not four times
    assertEquals(1, greedyWithPenalty(1.3).next(pos, ctx, 4));
    assertEquals(0, greedyWithPenalty(1.1).next(pos, ctx, 4));
    assertEquals(0, greedyWithPenalty(1.1).next(pos, ctx, 0)); // context length 0: no penalty
    // Negative logits are multiplied: -1.0 * 1.3 = -1.3 < -1.2; -1.0 * 1.1 = -1.1 > -1.2.
    float[] neg = {-1.0f, -1.2f, -5f};
    assertEquals(1, greedyWithPenalty(1.3).next(neg, ctx, 1));
    assertEquals(0, greedyWithPenalty(1.1).next(neg, ctx, 1));
    // A penalty below 1 favours seen tokens.
    assertEquals(0, greedyWithPenalty(0.5).next(new float[] {1f, 1.5f, 0f}, ctx, 1));
  }

  private static Sampler greedyWithPenalty(double penalty) {
    return new Sampler(
        new SamplingParams(0, 1, 0, OptionalLong.empty(), penalty, 1, List.of(), false), 3);
  }

  @Test
  void sortKeyOrdersByValueThenLowerIdFirst() {
    float[] values = {-3f, -0.0f, 0.0f, 1e-30f, 2f, Float.NEGATIVE_INFINITY, 2f};
    long prev = Long.MIN_VALUE;
    float[] ascending = {Float.NEGATIVE_INFINITY, -3f, 0f, 1e-30f, 2f};
    for (float v : ascending) {
      long key = Sampler.sortKey(v, 10);
      assertTrue(key > prev, "key order broken at " + v);
      prev = key;
    }
    assertTrue(Sampler.sortKey(2f, 4) > Sampler.sortKey(2f, 6));
    assertEquals(Sampler.sortKey(-0.0f, 1), Sampler.sortKey(0.0f, 1));
    for (int id : new int[] {0, 1, 151551, Integer.MAX_VALUE}) {
      assertEquals(id, Sampler.keyIndex(Sampler.sortKey(values[0], id)));
    }
  }
}
