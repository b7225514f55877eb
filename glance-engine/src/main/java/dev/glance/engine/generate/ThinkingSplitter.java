package dev.glance.engine.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * Separates GLM's {@code <think>…</think>} reasoning from the answer in streamed output.
 *
 * <p>Rules, following vLLM's {@code glm45} reasoning parser (streaming mode):
 *
 * <ul>
 *   <li>Output that begins with {@code <think>} (leading whitespace allowed) is reasoning until
 *       {@code </think>}, then answer. The tags themselves appear in neither part.
 *   <li>Output that does not begin with {@code <think>} is all answer: that is what GLM-4.6V emits
 *       when thinking is off, because the chat template already put {@code <think></think>} into
 *       the prompt. A stray {@code </think>} in an answer is left alone.
 *   <li>A {@code <think>} never closed (stopped by max_tokens, say) leaves everything reasoning
 *       and the answer empty.
 * </ul>
 *
 * <p>One deliberate difference from vLLM: leading newlines of the reasoning and of the answer are
 * dropped. The chat template renders past turns as {@code <think>{reasoning}</think>\n{answer}}
 * with both parts stripped, so the model emits that newline as a separator, not as content; vLLM
 * passes it through and clients then show an empty first line.
 *
 * <p>The tags must reach this class as text: they are special tokens in GLM's tokenizer, so the
 * caller has to decode them rather than skip them.
 *
 * <p>Tags may be split over any number of pushes; text that might be the start of a tag is held
 * back until the next push (or {@link #finish()}) decides it. One per sequence; not thread-safe.
 */
public final class ThinkingSplitter {

  static final String OPEN = "<think>";
  static final String CLOSE = "</think>";

  private enum State {
    /** Nothing decided yet: the output so far is whitespace and maybe part of {@code <think>}. */
    START,
    REASONING,
    ANSWER
  }

  private State state = State.START;
  private String held = ""; // undecided text: a possible tag prefix
  private final StringBuilder reasoning = new StringBuilder();
  private final StringBuilder answer = new StringBuilder();

  /**
   * Adds newly released output text and returns its classified pieces, in order (often one,
   * sometimes none while a possible tag is held back, two when a piece contains {@code </think>}).
   */
  public List<Piece> push(String text) {
    List<Piece> out = new ArrayList<>(2);
    String pending = held.isEmpty() ? text : held + text;
    held = "";
    if (state == State.START) {
      String trimmed = pending.stripLeading();
      if (trimmed.startsWith(OPEN)) {
        state = State.REASONING;
        pending = trimmed.substring(OPEN.length());
      } else if (OPEN.startsWith(trimmed)) {
        held = pending; // still could become <think>
        return out;
      } else {
        state = State.ANSWER;
      }
    }
    if (state == State.REASONING) {
      int close = pending.indexOf(CLOSE);
      if (close < 0) {
        int keep = partialCloseLength(pending);
        held = pending.substring(pending.length() - keep);
        emitReasoning(pending.substring(0, pending.length() - keep), out);
        return out;
      }
      emitReasoning(pending.substring(0, close), out);
      state = State.ANSWER;
      pending = pending.substring(close + CLOSE.length());
    }
    emitAnswer(pending, out);
    return out;
  }

  /** Ends the stream, releasing held-back text as what it turned out to be. */
  public List<Piece> finish() {
    List<Piece> out = new ArrayList<>(1);
    String rest = held;
    held = "";
    switch (state) {
      case START -> emitAnswer(rest, out); // an unfinished "<thi" is plain text
      case REASONING -> emitReasoning(rest, out); // an unfinished "</thi" too
      case ANSWER -> emitAnswer(rest, out);
    }
    return out;
  }

  /** All reasoning so far, without tags ("" when the model did not think). */
  public String reasoning() {
    return reasoning.toString();
  }

  /** All answer text so far. */
  public String answer() {
    return answer.toString();
  }

  private void emitReasoning(String text, List<Piece> out) {
    if (reasoning.isEmpty()) {
      text = stripLeadingNewlines(text);
    }
    if (!text.isEmpty()) {
      reasoning.append(text);
      out.add(new Piece.Reasoning(text));
    }
  }

  private void emitAnswer(String text, List<Piece> out) {
    if (answer.isEmpty()) {
      text = stripLeadingNewlines(text);
    }
    if (!text.isEmpty()) {
      answer.append(text);
      out.add(new Piece.Answer(text));
    }
  }

  private static String stripLeadingNewlines(String s) {
    int i = 0;
    while (i < s.length() && (s.charAt(i) == '\n' || s.charAt(i) == '\r')) {
      i++;
    }
    return s.substring(i);
  }

  /** Length of the longest suffix of {@code text} that is a proper prefix of {@code </think>}. */
  private static int partialCloseLength(String text) {
    for (int len = Math.min(text.length(), CLOSE.length() - 1); len > 0; len--) {
      if (text.regionMatches(text.length() - len, CLOSE, 0, len)) {
        return len;
      }
    }
    return 0;
  }
}
