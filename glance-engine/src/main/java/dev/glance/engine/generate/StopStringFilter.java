package dev.glance.engine.generate;

import java.util.List;
import java.util.Optional;

/**
 * Watches streamed text for stop strings and decides how much of it may be shown.
 *
 * <p>A stop string can arrive split over several tokens ("&lt;/ans" + "wer&gt;"), and none of it
 * may ever reach the client. So the filter holds back the longest tail of the text that is still
 * the beginning of some stop string, and releases it as soon as the next text shows it is not. A
 * match can then only start inside the held-back tail or the new text: anything already released
 * was, at release time, not the start of any stop string, so searching {@code held + new} finds
 * every match. When several stop strings match, the one that starts first wins and the text is
 * cut right before it; everything after is discarded.
 *
 * <p>Cost per push is O((held + new) × stop strings), with {@code held} shorter than the longest
 * stop string. Not thread-safe; one per sequence.
 */
public final class StopStringFilter {

  private final List<String> stops;
  private final int longest;
  private String held = "";
  private String matched; // null until a stop string is found

  /** @param stops the stop strings, each non-empty; an empty list makes the filter pass-through */
  public StopStringFilter(List<String> stops) {
    this.stops = List.copyOf(stops);
    int max = 0;
    for (String s : this.stops) {
      if (s.isEmpty()) {
        throw new IllegalArgumentException("stop strings must be non-empty");
      }
      max = Math.max(max, s.length());
    }
    this.longest = max;
  }

  /**
   * Adds newly decoded text and returns the part that is now safe to show (possibly empty). After
   * this returns with {@link #stopped()} true, the returned text is everything before the stop
   * string, and later calls are an error.
   */
  public String push(String text) {
    if (matched != null) {
      throw new IllegalStateException("a stop string already matched");
    }
    if (longest == 0) {
      return text;
    }
    String pending = held.isEmpty() ? text : held + text;
    int cut = -1;
    for (String s : stops) {
      // Only a match that starts before the current best can improve it.
      int at = pending.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
        matched = s;
      }
    }
    if (cut >= 0) {
      held = "";
      return pending.substring(0, cut);
    }
    int keep = partialMatchLength(pending);
    held = pending.substring(pending.length() - keep);
    return pending.substring(0, pending.length() - keep);
  }

  /**
   * Ends the stream without a match: the held-back tail turned out not to be a stop string, so it
   * is released. Returns "" after a match.
   */
  public String flush() {
    String out = held;
    held = "";
    return out;
  }

  /** True once a stop string has matched. */
  public boolean stopped() {
    return matched != null;
  }

  /** The stop string that matched, if one has. */
  public Optional<String> matched() {
    return Optional.ofNullable(matched);
  }

  /** Length of the longest suffix of {@code text} that is a proper prefix of some stop string. */
  private int partialMatchLength(String text) {
    int max = Math.min(text.length(), longest - 1);
    for (int len = max; len > 0; len--) {
      int from = text.length() - len;
      for (String s : stops) {
        if (s.length() > len && text.regionMatches(from, s, 0, len)) {
          return len;
        }
      }
    }
    return 0;
  }
}
