package dev.glance.engine.generate;

import java.util.Objects;

/** A run of streamed output text, classified as the model's reasoning or its answer. */
public sealed interface Piece {

  /** The text of this piece, never empty. */
  String text();

  /** Text inside {@code <think>…</think>}, without the tags. */
  record Reasoning(String text) implements Piece {
    public Reasoning {
      Objects.requireNonNull(text, "text");
    }
  }

  /** Text outside the thinking block: what the user asked for. */
  record Answer(String text) implements Piece {
    public Answer {
      Objects.requireNonNull(text, "text");
    }
  }
}
