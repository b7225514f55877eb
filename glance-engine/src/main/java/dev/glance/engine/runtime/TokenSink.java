package dev.glance.engine.runtime;

import dev.glance.engine.generate.Piece;

/** Receives generated text as it is produced, already split into reasoning and answer. */
@FunctionalInterface
public interface TokenSink {
  void accept(Piece piece);

  static TokenSink discard() {
    return p -> {};
  }
}
