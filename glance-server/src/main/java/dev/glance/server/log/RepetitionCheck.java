package dev.glance.server.log;

/**
 * Recognises a generation that ended stuck in a loop: its last tokens are one short pattern
 * repeated, such as "the the the" or a sentence said three times over. Used only to flag requests
 * in the log, so it errs on the side of a clear pattern: at least {@link #MIN_REPEATS} repeats of a
 * pattern of at most {@link #MAX_PERIOD} tokens, covering at least {@link #MIN_SPAN} tokens.
 */
public final class RepetitionCheck {
  public static final int MAX_PERIOD = 64;
  public static final int MIN_REPEATS = 3;
  public static final int MIN_SPAN = 16;

  private RepetitionCheck() {}

  /** Whether {@code ids} ends in a loop. */
  public static boolean endsInLoop(int[] ids) {
    int n = ids.length;
    for (int period = 1; period <= MAX_PERIOD && period * MIN_REPEATS <= n; period++) {
      // Count how far back the last `period` tokens keep repeating.
      int matched = 0;
      while (matched + period < n && ids[n - 1 - matched] == ids[n - 1 - matched - period]) {
        matched++;
      }
      int span = matched + period;
      if (span / period >= MIN_REPEATS && span >= MIN_SPAN) {
        return true;
      }
    }
    return false;
  }
}
