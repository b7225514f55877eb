package dev.glance.engine.text;

import java.util.Arrays;

/**
 * Turns generated token ids, fed one at a time, into text pieces as soon as they are complete.
 *
 * <p>A byte-level BPE token can end in the middle of a UTF-8 character (an emoji is often split
 * over two or three tokens); decoding such a prefix gives a trailing U+FFFD. This decoder holds text
 * back while it ends in U+FFFD and emits it once the character is completed. It decodes only a
 * short window of recent ids: the ids since the last point where the text was complete, plus the
 * ids of the previous piece so decoders that treat the first token specially (leading spaces) see
 * the same context every time. The concatenation of all pieces returned by {@link #push} and
 * {@link #finish} equals {@link Tokenizer#decode} of all ids.
 *
 * <p>Not thread-safe: one instance per generated sequence.
 */
public final class TokenStreamDecoder {
  private static final String REPLACEMENT = "\uFFFD";

  private final Tokenizer tokenizer;
  private final boolean skipSpecial;
  private int[] ids = new int[64];
  private int count;
  // ids[prefixOffset, readOffset) were already emitted and are decoded again only as context;
  // ids[readOffset, count) are pending.
  private int prefixOffset;
  private int readOffset;

  /**
   * @param skipSpecial drop special tokens from the text, as {@link Tokenizer#decode} does
   */
  public TokenStreamDecoder(Tokenizer tokenizer, boolean skipSpecial) {
    this.tokenizer = tokenizer;
    this.skipSpecial = skipSpecial;
  }

  /**
   * Adds one generated id.
   *
   * @return the newly completed text, possibly empty (while a character is still incomplete)
   */
  public String push(int id) {
    if (count == ids.length) {
      ids = Arrays.copyOf(ids, count * 2);
    }
    ids[count++] = id;
    String prefixText = decode(prefixOffset, readOffset);
    String newText = decode(prefixOffset, count);
    if (newText.length() > prefixText.length() && !newText.endsWith(REPLACEMENT)
        && newText.startsWith(prefixText)) {
      prefixOffset = readOffset;
      readOffset = count;
      return newText.substring(prefixText.length());
    }
    return "";
  }

  /**
   * Returns whatever is still held back (text ending in U+FFFD because the sequence stopped inside a
   * character, or the model really produced U+FFFD). Call once when generation ends.
   */
  public String finish() {
    String prefixText = decode(prefixOffset, readOffset);
    String newText = decode(prefixOffset, count);
    prefixOffset = count;
    readOffset = count;
    return newText.length() > prefixText.length() ? newText.substring(prefixText.length()) : "";
  }

  /** All ids pushed so far. */
  public int[] ids() {
    return Arrays.copyOf(ids, count);
  }

  private String decode(int from, int to) {
    return from == to ? "" : tokenizer.decode(Arrays.copyOfRange(ids, from, to), skipSpecial);
  }
}
