package dev.glance.engine.text;

/**
 * A prompt ready for the model.
 *
 * @param text the rendered chat template (before image expansion)
 * @param inputIds token ids with each image placeholder expanded to its token count; not copied,
 *     callers must not modify it
 * @param imageTokenCount how many image-placeholder ids {@code inputIds} holds in total
 * @param imageOrder for each placeholder in prompt order, the index of the supplied image it shows;
 *     vision embeddings must be concatenated in this order
 */
public record EncodedPrompt(String text, int[] inputIds, int imageTokenCount, int[] imageOrder) {

  /** The prompt length in tokens. */
  public int length() {
    return inputIds.length;
  }
}
