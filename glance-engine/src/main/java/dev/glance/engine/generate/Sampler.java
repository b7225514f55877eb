package dev.glance.engine.generate;

import java.util.Arrays;
import java.util.Objects;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;

/**
 * Picks the next token id from a logit vector the way Hugging Face {@code generate} does: repetition
 * penalty → temperature → top-k → top-p → draw (or argmax when the temperature is 0).
 *
 * <p>One sampler serves one request (one sequence) and is not thread-safe. It owns its random
 * generator, seeded from {@link SamplingParams#seed()}, so the same seed and the same logits always
 * give the same tokens (the sequence is our own, not PyTorch's). All vocabulary-sized scratch
 * arrays are allocated once here, never per token: for a 151552-token vocabulary that is a few
 * megabytes per request instead of garbage on every step.
 *
 * <p>The caller's logits are never modified: they are copied into a scratch array first. The copy
 * is one {@code arraycopy} per token, negligible next to a forward pass, and it lets the engine
 * still read the raw logits (for log-probabilities, say) after sampling. Reading the penalty's
 * inputs from the untouched logits also gives HF's gather/scatter semantics for free: an id that
 * occurs many times in the context is penalized once, not once per occurrence (see {@link
 * RepetitionPenalty}).
 *
 * <p>A NaN logit is a numerical bug upstream; rather than silently skipping it (which would hide
 * the bug behind plausible text), the sampler fails with {@link IllegalStateException}.
 */
public final class Sampler {

  private static final String ALGORITHM = "L64X128MixRandom";

  private final int vocabSize;
  private final boolean greedy;
  private final float temperature;
  private final RepetitionPenalty penalty;
  private final int topK; // 0 when off or when it would keep the whole vocabulary
  private final double topP; // 1 when off
  private final RandomGenerator random;

  // Scratch, allocated once per request (only what the parameters need).
  private final float[] work; // penalized, temperature-scaled logits
  private final float[] weights; // exp(work - max), indexed by token id; null when greedy
  private final int[] candidates; // ids surviving top-k (all ids when top-k is off); null if unused
  private final long[] heap; // top-k min-heap of sort keys; null when top-k is off
  private final long[] sortKeys; // top-p candidates in sort-key form; null when top-p is off

  /**
   * @param params the request's sampling parameters (already validated by construction)
   * @param vocabSize number of logits per step; {@link #next} reads {@code logits[0, vocabSize)}
   */
  public Sampler(SamplingParams params, int vocabSize) {
    Objects.requireNonNull(params, "params");
    if (vocabSize < 1) {
      throw new IllegalArgumentException("vocabSize must be >= 1, got " + vocabSize);
    }
    this.vocabSize = vocabSize;
    this.greedy = params.isGreedy();
    this.temperature = (float) params.temperature();
    this.penalty = new RepetitionPenalty((float) params.repetitionPenalty());
    this.topK = params.topK() > 0 && params.topK() < vocabSize ? params.topK() : 0;
    this.topP = params.topP();
    RandomGeneratorFactory<RandomGenerator> factory = RandomGeneratorFactory.of(ALGORITHM);
    this.random =
        params.seed().isPresent() ? factory.create(params.seed().getAsLong()) : factory.create();

    this.work = new float[vocabSize];
    this.weights = greedy ? null : new float[vocabSize];
    this.candidates = !greedy && topK > 0 ? new int[vocabSize] : null;
    this.heap = !greedy && topK > 0 ? new long[topK] : null;
    this.sortKeys = !greedy && topP < 1.0 ? new long[vocabSize] : null;
  }

  /** Number of logits this sampler reads per step. */
  public int vocabSize() {
    return vocabSize;
  }

  /**
   * Chooses the next token.
   *
   * @param logits the model's logits for the next position; at least {@link #vocabSize()} long
   *     (extra entries, e.g. padding of the output layer, are ignored). Not modified.
   * @param context every token id in the sequence so far, prompt included (the repetition penalty
   *     looks at all of them, as HF does); only the first {@code contextLength} entries are read
   * @param contextLength number of valid entries in {@code context}
   * @return the chosen token id in {@code [0, vocabSize)}
   * @throws IllegalStateException when the logits contain NaN or every allowed logit is -infinity
   */
  public int next(float[] logits, int[] context, int contextLength) {
    if (logits.length < vocabSize) {
      throw new IllegalArgumentException(
          "expected at least " + vocabSize + " logits, got " + logits.length);
    }
    if (contextLength < 0 || contextLength > context.length) {
      throw new IllegalArgumentException(
          "contextLength " + contextLength + " outside [0, " + context.length + "]");
    }
    System.arraycopy(logits, 0, work, 0, vocabSize);
    if (!penalty.isOff()) {
      penalty.apply(logits, work, vocabSize, context, contextLength);
    }
    if (greedy) {
      return argmax(work, vocabSize);
    }
    if (temperature != 1.0f) {
      for (int i = 0; i < vocabSize; i++) {
        work[i] /= temperature;
      }
    }
    int n = topK > 0 ? selectTopK() : vocabSize;
    return sample(n);
  }

  /** Greedy decoding: {@link #argmax(float[], int)} over the whole array (also what tests and benchmarks use). */
  public static int argmax(float[] values) {
    return argmax(values, values.length);
  }

  /** Index of the largest value; the lowest index wins ties, like {@code torch.argmax}. */
  static int argmax(float[] values, int length) {
    int best = 0;
    float bestValue = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < length; i++) {
      float v = values[i];
      if (v > bestValue) {
        bestValue = v;
        best = i;
      } else if (v != v) {
        throw nan(i);
      }
    }
    return best;
  }

  /**
   * Fills {@code candidates} with the ids whose logit is at least the k-th largest, and returns
   * their count. Like HF's TopKLogitsWarper ({@code scores < topk(scores, k)[-1]} are removed),
   * every token tied with the k-th largest survives, so the count can exceed k. Uses a size-k
   * min-heap: O(V log k) and in practice close to one pass, since after the heap fills almost
   * every logit is below its root.
   */
  private int selectTopK() {
    int k = topK;
    for (int i = 0; i < k; i++) {
      heap[i] = sortKey(work[i], i);
    }
    for (int i = k / 2 - 1; i >= 0; i--) {
      siftDown(heap, i, k);
    }
    for (int i = k; i < vocabSize; i++) {
      long key = sortKey(work[i], i);
      if (key > heap[0]) {
        heap[0] = key;
        siftDown(heap, 0, k);
      }
    }
    float threshold = work[keyIndex(heap[0])];
    int n = 0;
    for (int i = 0; i < vocabSize; i++) {
      // NaN compares false with everything, so it would silently drop out here: check it now.
      float v = work[i];
      if (v >= threshold) {
        candidates[n++] = i;
      } else if (v != v) {
        throw nan(i);
      }
    }
    return n;
  }

  /**
   * Softmax over the candidates (the first {@code n} of {@code candidates}, or the whole
   * vocabulary when top-k is off), then top-p, then one draw.
   */
  private int sample(int n) {
    float max = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < n; j++) {
      int id = candidateAt(j);
      float v = work[id];
      if (v > max) {
        max = v;
      } else if (v != v) {
        throw nan(id);
      }
    }
    if (max == Float.NEGATIVE_INFINITY) {
      throw new IllegalStateException("every allowed token has logit -infinity; nothing to sample");
    }
    double total = 0;
    for (int j = 0; j < n; j++) {
      int id = candidateAt(j);
      float w = (float) Math.exp(work[id] - max);
      weights[id] = w;
      total += w;
    }
    if (topP < 1.0) {
      return sampleTopP(n, total);
    }
    double u = random.nextDouble() * total;
    double cum = 0;
    int last = candidateAt(0);
    for (int j = 0; j < n; j++) {
      int id = candidateAt(j);
      float w = weights[id];
      if (w > 0) {
        cum += w;
        last = id;
        if (u < cum) {
          return id;
        }
      }
    }
    return last; // rounding left u just above the final sum
  }

  /**
   * HF's TopPLogitsWarper keeps, in descending order of probability, every token whose preceding
   * tokens' probability mass is still below {@code topP} (the most likely one is always kept).
   *
   * <p>Sorting all candidates every token would cost milliseconds for a full vocabulary, so first
   * drop the tokens that top-p removes for certain: if a token's probability is at most (1 - p)/n,
   * it and every smaller token together hold at most (1 - p) of the mass, which is exactly HF's
   * removal condition. What is left is usually a few hundred tokens; only those are sorted, as
   * primitive longs (no boxing).
   */
  private int sampleTopP(int n, double total) {
    double cutoff = total * (1.0 - topP) / n;
    int m = 0;
    for (int j = 0; j < n; j++) {
      int id = candidateAt(j);
      if (weights[id] > cutoff) {
        sortKeys[m++] = sortKey(work[id], id);
      }
    }
    if (m == 0) { // only reachable through rounding; the maximum always survives in exact math
      return argmax(work, vocabSize);
    }
    Arrays.sort(sortKeys, 0, m); // ascending: the most likely token is last
    double needed = topP * total;
    double kept = 0;
    int first = m - 1; // lowest sorted position still kept
    for (int r = m - 1; r >= 0; r--) {
      if (kept >= needed) {
        break;
      }
      kept += weights[keyIndex(sortKeys[r])];
      first = r;
    }
    double u = random.nextDouble() * kept;
    double cum = 0;
    for (int r = m - 1; r >= first; r--) {
      int id = keyIndex(sortKeys[r]);
      cum += weights[id];
      if (u < cum) {
        return id;
      }
    }
    return keyIndex(sortKeys[first]);
  }

  private int candidateAt(int j) {
    return candidates == null ? j : candidates[j];
  }

  /**
   * Packs (value, id) into one long so candidates sort as primitives: ascending keys are ascending
   * values, and among equal values the lower id has the larger key. Taking the largest keys
   * therefore prefers the lowest id among ties, as argmax does. The float's bits are mapped to an
   * order-preserving int (negative floats get their magnitude bits flipped).
   */
  static long sortKey(float value, int id) {
    int bits = Float.floatToRawIntBits(value + 0.0f); // + 0.0f turns -0.0 into 0.0
    bits ^= (bits >> 31) & 0x7fffffff;
    return ((long) bits << 32) | (0xffffffffL - id);
  }

  static int keyIndex(long key) {
    return (int) (0xffffffffL - (key & 0xffffffffL));
  }

  private static void siftDown(long[] h, int i, int size) {
    long x = h[i];
    while (true) {
      int child = 2 * i + 1;
      if (child >= size) {
        break;
      }
      if (child + 1 < size && h[child + 1] < h[child]) {
        child++;
      }
      if (h[child] >= x) {
        break;
      }
      h[i] = h[child];
      i = child;
    }
    h[i] = x;
  }

  private static IllegalStateException nan(int id) {
    return new IllegalStateException("logit for token " + id + " is NaN");
  }
}
