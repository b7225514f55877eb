package dev.glance.engine.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * A checkpoint's Hugging Face tokenizer ({@code tokenizer.json}), run by the native
 * {@code tokenizers} library through DJL so ids match the reference exactly.
 *
 * <p>Encoding adds no special tokens (GLM's chat template writes {@code [gMASK]<sop>} itself) and
 * never truncates or pads. Special tokens that appear in the text, such as {@code <|image|>}, are
 * matched whole. Thread-safe; {@link #close()} frees the native tokenizer.
 */
public final class Tokenizer implements AutoCloseable {
  /** The file this class reads from a checkpoint directory. */
  public static final String FILE = "tokenizer.json";
  /** DJL's switch (environment or system property) for which build of its native library to load. */
  private static final String NATIVE_FLAVOR = "RUST_FLAVOR";

  private final HuggingFaceTokenizer hf;
  private final VocabIndex vocab;

  private Tokenizer(HuggingFaceTokenizer tokenizer, VocabIndex vocab) {
    this.hf = tokenizer;
    this.vocab = vocab;
  }

  /**
   * Loads {@code tokenizer.json} from a checkpoint directory.
   *
   * @throws GlanceException.ModelLoad if the file is missing or cannot be parsed
   */
  public static Tokenizer load(Path checkpointDir) {
    Path file = checkpointDir.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      throw new GlanceException.ModelLoad(FILE + " not found in " + checkpointDir);
    }
    VocabIndex vocab;
    try {
      vocab = VocabIndex.read(file);
    } catch (IOException | RuntimeException e) {
      throw new GlanceException.ModelLoad("cannot read " + file + ": " + e.getMessage(), e);
    }
    // DJL picks a CUDA build of its native library when it finds a CUDA runtime on the library
    // path (as on a GPU machine with PyTorch's wheels) and downloads one when its jar has none;
    // the bundled CPU build is all a tokenizer needs, and Glance fetches nothing at run time.
    if (System.getenv(NATIVE_FLAVOR) == null && System.getProperty(NATIVE_FLAVOR) == null) {
      System.setProperty(NATIVE_FLAVOR, "cpu");
    }
    try {
      HuggingFaceTokenizer tokenizer =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(file)
              .optAddSpecialTokens(false)
              .optTruncation(false)
              .optPadding(false)
              .build();
      return new Tokenizer(tokenizer, vocab);
    } catch (IOException | RuntimeException e) {
      // The native library reports a malformed file as a RuntimeException.
      throw new GlanceException.ModelLoad("cannot load " + file + ": " + e.getMessage(), e);
    }
  }

  /** Token ids of {@code text}, exactly as the reference tokenizer with no special tokens added. */
  public int[] encode(String text) {
    long[] ids = hf.encode(text, false, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /**
   * Text of token ids. Byte-level BPE tokens can end inside a UTF-8 character; incomplete bytes
   * decode to U+FFFD (use {@link TokenStreamDecoder} for incremental output). Ids outside the
   * vocabulary decode to nothing, as in transformers.
   *
   * @param skipSpecial drop special tokens ({@code <|user|>}, {@code [gMASK]}...) from the text
   */
  public String decode(int[] ids, boolean skipSpecial) {
    long[] wide = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      wide[i] = ids[i];
    }
    return hf.decode(wide, skipSpecial);
  }

  /** One past the largest token id, special tokens included. */
  public int vocabSize() {
    return vocab.size();
  }

  /**
   * The id of a token given in the vocabulary's spelling (a special token such as {@code
   * <|image|>}, or a byte-level BPE token such as {@code Ġthe}), if the vocabulary has it.
   */
  public OptionalInt tokenId(String token) {
    return vocab.id(token);
  }

  /** A fresh incremental decoder for one generated sequence. */
  public TokenStreamDecoder streamDecoder(boolean skipSpecial) {
    return new TokenStreamDecoder(this, skipSpecial);
  }

  @Override
  public void close() {
    hf.close();
  }
}
