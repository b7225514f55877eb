package dev.glance.engine.generate;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.GlanceException;
import java.util.Arrays;

/**
 * The token ids that end generation: the checkpoint's {@code eos_token_id} (for GLM-4.6V
 * {@code <|endoftext|>}, {@code <|user|>}, {@code <|observation|>}). Immutable; {@link
 * #contains} is a binary search over a handful of ids, cheap enough to call once per token.
 */
public final class StopTokenIds {

  private static final StopTokenIds NONE = new StopTokenIds(new int[0]);

  private final int[] sorted;

  private StopTokenIds(int[] sorted) {
    this.sorted = sorted;
  }

  /** The given ids (duplicates ignored). */
  public static StopTokenIds of(int... ids) {
    int[] copy = Arrays.stream(ids).sorted().distinct().toArray();
    for (int id : copy) {
      if (id < 0) {
        throw new IllegalArgumentException("token ids are >= 0, got " + id);
      }
    }
    return new StopTokenIds(copy);
  }

  /** No stop ids. */
  public static StopTokenIds none() {
    return NONE;
  }

  /**
   * Reads {@code eos_token_id} from {@code generation_config.json} or {@code config.json}, where it
   * is either one integer or a list of integers. A missing or null node gives {@link #none()}, so
   * the caller can fall back from one file to the other.
   *
   * @throws GlanceException.ModelLoad when the value has another shape
   */
  public static StopTokenIds fromEosTokenId(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return NONE;
    }
    if (node.isIntegralNumber() && node.canConvertToInt()) {
      return of(checked(node.intValue(), node));
    }
    if (node.isArray()) {
      int[] ids = new int[node.size()];
      for (int i = 0; i < ids.length; i++) {
        JsonNode item = node.get(i);
        if (!item.isIntegralNumber() || !item.canConvertToInt()) {
          throw bad(node);
        }
        ids[i] = checked(item.intValue(), node);
      }
      return of(ids);
    }
    throw bad(node);
  }

  /** True when {@code tokenId} ends generation. */
  public boolean contains(int tokenId) {
    return Arrays.binarySearch(sorted, tokenId) >= 0;
  }

  /** The ids in ascending order (a copy). */
  public int[] ids() {
    return sorted.clone();
  }

  public boolean isEmpty() {
    return sorted.length == 0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StopTokenIds other && Arrays.equals(sorted, other.sorted);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(sorted);
  }

  @Override
  public String toString() {
    return "StopTokenIds" + Arrays.toString(sorted);
  }

  private static int checked(int id, JsonNode whole) {
    if (id < 0) {
      throw bad(whole);
    }
    return id;
  }

  private static GlanceException.ModelLoad bad(JsonNode node) {
    return new GlanceException.ModelLoad(
        "eos_token_id must be a non-negative integer or a list of them, got " + node);
  }
}
