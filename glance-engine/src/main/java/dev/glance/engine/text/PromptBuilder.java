package dev.glance.engine.text;

import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.GlanceException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns a conversation and its images into model input ids: render the chat template, tokenize,
 * then expand each single image placeholder token (one per image, written by the template) into as
 * many copies as the image has vision tokens, {@code t·h·w / merge²}. The model later scatters the
 * vision embeddings over exactly those positions, so the counts must agree image by image.
 *
 * <p>The placeholder id and merge size come from the checkpoint's {@code config.json} ({@code
 * image_token_id}, {@code vision_config.spatial_merge_size}); layouts differ between checkpoints.
 */
public final class PromptBuilder {
  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final int imageTokenId;
  private final int mergeSize;

  public PromptBuilder(Tokenizer tokenizer, ChatTemplate template, int imageTokenId, int mergeSize) {
    this.tokenizer = Objects.requireNonNull(tokenizer);
    this.template = Objects.requireNonNull(template);
    if (mergeSize <= 0) {
      throw new IllegalArgumentException("merge size must be positive, got " + mergeSize);
    }
    this.imageTokenId = imageTokenId;
    this.mergeSize = mergeSize;
  }

  /**
   * Builds the prompt for generation ({@code add_generation_prompt=true}).
   *
   * @param templateKwargs extra template variables such as {@code enable_thinking}; omit a key to
   *     leave it undefined
   * @param images the grid of each supplied image; {@link ContentPart.ImagePart#index()} refers
   *     into this list
   * @throws GlanceException.BadRequest if an image part refers to a missing image, an image is not
   *     referred to exactly once, or the rendered prompt's placeholders do not match the images
   */
  public EncodedPrompt build(
      List<ChatMessage> messages, Map<String, ?> templateKwargs, List<ImageGrid> images) {
    int[] order = imageOrder(messages, images.size());
    String text = template.render(messages, templateKwargs);
    List<ImageGrid> inPromptOrder = new ArrayList<>(order.length);
    for (int index : order) {
      inPromptOrder.add(images.get(index));
    }
    return expand(text, inPromptOrder, order);
  }

  /**
   * Encodes an already rendered prompt whose image placeholders appear in the order of {@code
   * images}.
   *
   * @throws GlanceException.BadRequest if the prompt's placeholder count differs from the images
   */
  public EncodedPrompt encodeRendered(String renderedPrompt, List<ImageGrid> images) {
    int[] order = new int[images.size()];
    Arrays.setAll(order, i -> i);
    return expand(renderedPrompt, images, order);
  }

  private EncodedPrompt expand(String text, List<ImageGrid> images, int[] order) {
    int[] ids = tokenizer.encode(text);
    int placeholders = 0;
    for (int id : ids) {
      if (id == imageTokenId) {
        placeholders++;
      }
    }
    if (placeholders != images.size()) {
      throw new GlanceException.BadRequest(
          "the prompt has " + placeholders + " image placeholder(s) but " + images.size()
              + " image(s) were supplied (is an image token written in the message text?)");
    }
    int[] counts = new int[images.size()];
    int imageTokens = 0;
    for (int i = 0; i < counts.length; i++) {
      counts[i] = images.get(i).tokens(mergeSize);
      imageTokens = Math.addExact(imageTokens, counts[i]);
    }
    int[] out = new int[ids.length - placeholders + imageTokens];
    int pos = 0;
    int image = 0;
    for (int id : ids) {
      if (id == imageTokenId) {
        Arrays.fill(out, pos, pos + counts[image], imageTokenId);
        pos += counts[image++];
      } else {
        out[pos++] = id;
      }
    }
    return new EncodedPrompt(text, out, imageTokens, order);
  }

  // The image index of each image part in message order, which is the placeholder order in the
  // rendered prompt; every supplied image must appear exactly once.
  private static int[] imageOrder(List<ChatMessage> messages, int imageCount) {
    List<Integer> order = new ArrayList<>();
    boolean[] seen = new boolean[imageCount];
    for (ChatMessage m : messages) {
      for (ContentPart.ImagePart part : m.images()) {
        int index = part.index();
        if (index >= imageCount) {
          throw new GlanceException.BadRequest(
              "message refers to image " + index + " but " + imageCount + " image(s) were supplied");
        }
        if (seen[index]) {
          throw new GlanceException.BadRequest("image " + index + " is referred to more than once");
        }
        seen[index] = true;
        order.add(index);
      }
    }
    if (order.size() != imageCount) {
      throw new GlanceException.BadRequest(
          imageCount + " image(s) were supplied but the messages refer to " + order.size());
    }
    return order.stream().mapToInt(Integer::intValue).toArray();
  }
}
