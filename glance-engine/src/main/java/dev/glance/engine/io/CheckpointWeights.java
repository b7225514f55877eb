package dev.glance.engine.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.GlanceException;
import dev.glance.engine.tensor.TensorData;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All weight tensors of a checkpoint directory: a single {@code model.safetensors} or the shards
 * named by {@code model.safetensors.index.json}. Lookups accept the tensor names of both the
 * transformers 5.x layout ({@code model.language_model.*}, {@code model.visual.*}) and the older
 * one ({@code model.*}, {@code visual.*}), so checkpoints saved by either load.
 */
public final class CheckpointWeights implements TensorSource, AutoCloseable {
  public static final String SINGLE = "model.safetensors";
  public static final String INDEX = "model.safetensors.index.json";

  private final Path dir;
  private final Arena arena;
  private final Map<String, TensorData> tensors;

  private CheckpointWeights(Path dir, Arena arena, Map<String, TensorData> tensors) {
    this.dir = dir;
    this.arena = arena;
    this.tensors = tensors;
  }

  /** Maps every weight file of {@code dir}; the mapping lives until {@link #close()}. */
  public static CheckpointWeights open(Path dir) {
    Arena arena = Arena.ofShared();
    try {
      Map<String, TensorData> all = new LinkedHashMap<>();
      Path index = dir.resolve(INDEX);
      Path single = dir.resolve(SINGLE);
      if (Files.isRegularFile(index)) {
        JsonNode map = Json.read(index).path("weight_map");
        if (!map.isObject() || map.isEmpty()) {
          throw new GlanceException.ModelLoad(index + ": no weight_map");
        }
        Map<String, SafetensorsFile> shards = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          String shard = e.getValue().asText();
          SafetensorsFile f =
              shards.computeIfAbsent(shard, s -> SafetensorsFile.open(dir.resolve(s), arena));
          TensorData t = f.tensors().get(e.getKey());
          if (t == null) {
            throw new GlanceException.ModelLoad(
                dir.resolve(shard) + ": tensor " + e.getKey() + " listed in " + INDEX + " is missing");
          }
          all.put(e.getKey(), t);
        }
      } else if (Files.isRegularFile(single)) {
        all.putAll(SafetensorsFile.open(single, arena).tensors());
      } else {
        throw new GlanceException.ModelLoad(
            dir + ": no " + SINGLE + " or " + INDEX + " (is this a Hugging Face checkpoint directory?)");
      }
      return new CheckpointWeights(dir, arena, all);
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  public Path dir() {
    return dir;
  }

  public Map<String, TensorData> all() {
    return tensors;
  }

  @Override
  public String describe() {
    return dir.toString();
  }

  /** The tensor under {@code name} or one of its legacy spellings; null when absent. */
  @Override
  public TensorData find(String name) {
    for (String candidate : spellings(name)) {
      TensorData t = tensors.get(candidate);
      if (t != null) {
        return t;
      }
    }
    return null;
  }

  /** The tensor {@code name}, checked to have exactly {@code shape}. */
  @Override
  public TensorData require(String name, long... shape) {
    TensorData t = find(name);
    if (t == null) {
      throw new GlanceException.ModelLoad(dir + ": checkpoint has no tensor " + name);
    }
    if (!Arrays.equals(t.shape(), shape)) {
      throw new GlanceException.ModelLoad(
          dir + ": tensor " + name + " has shape " + t.shapeString() + ", expected "
              + Arrays.toString(shape) + " from config.json");
    }
    return t;
  }

  private static List<String> spellings(String name) {
    if (name.startsWith("model.language_model.")) {
      String rest = name.substring("model.language_model.".length());
      return List.of(name, "model." + rest, "language_model.model." + rest);
    }
    if (name.startsWith("model.visual.")) {
      String rest = name.substring("model.visual.".length());
      return List.of(name, "visual." + rest);
    }
    if (name.equals("lm_head.weight")) {
      return List.of(name, "language_model.lm_head.weight", "model.lm_head.weight");
    }
    return List.of(name);
  }

  @Override
  public void close() {
    arena.close();
  }
}
