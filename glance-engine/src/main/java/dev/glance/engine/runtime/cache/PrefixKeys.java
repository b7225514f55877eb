package dev.glance.engine.runtime.cache;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Keys of a prompt's full KV blocks for the prefix cache. Block i's key is SHA-256 over block
 * i-1's key and the content of its positions, so equal keys mean equal whole prefixes. A
 * position's content is its token id, except at image placeholders, whose ids are all alike: there
 * it is the image's identity (pixel hash and preprocessing, {@link ImageKey}) and the index of the
 * placeholder within that image, so two different images behind identical placeholder tokens never
 * share a block. Rotary positions need no place in the key: they are a function of the prefix
 * (token ids and image grids, which the image identity fixes).
 */
public final class PrefixKeys {
  private PrefixKeys() {}

  /**
   * Keys of the {@code ids.length / blockTokens} full blocks of a prompt whose image placeholders
   * ({@code imageToken}) belong, in order, to {@code images}, image i covering {@code
   * imageTokens[i]} placeholders.
   */
  public static BlockKey[] of(int[] ids, int imageToken, List<ImageKey> images, int[] imageTokens, int blockTokens) {
    if (images.size() != imageTokens.length) {
      throw new IllegalArgumentException(images.size() + " images but " + imageTokens.length + " token counts");
    }
    byte[][] imageIds = new byte[images.size()][];
    for (int i = 0; i < imageIds.length; i++) {
      ImageKey k = images.get(i);
      imageIds[i] = sha256().digest((k.pixelHash() + "\n" + k.preprocessing()).getBytes(StandardCharsets.UTF_8));
    }
    BlockKey[] keys = new BlockKey[ids.length / blockTokens];
    MessageDigest md = sha256();
    ByteBuffer position = ByteBuffer.allocate(1 + 32 + 4);
    int image = 0;
    int within = 0;
    long hi = 0;
    long lo = 0;
    for (int b = 0; b < keys.length; b++) {
      md.update(ByteBuffer.allocate(16).putLong(hi).putLong(lo).array());
      for (int p = b * blockTokens; p < (b + 1) * blockTokens; p++) {
        position.clear();
        if (ids[p] == imageToken && image < imageIds.length) {
          position.put((byte) 1).put(imageIds[image]).putInt(within);
          if (++within == imageTokens[image]) {
            image++;
            within = 0;
          }
        } else {
          position.put((byte) 0).putInt(ids[p]);
        }
        md.update(position.array(), 0, position.position());
      }
      ByteBuffer digest = ByteBuffer.wrap(md.digest());
      hi = digest.getLong();
      lo = digest.getLong();
      keys[b] = new BlockKey(hi, lo);
    }
    return keys;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
