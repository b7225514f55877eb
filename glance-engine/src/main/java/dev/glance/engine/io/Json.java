package dev.glance.engine.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.glance.engine.GlanceException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads the small JSON files of a checkpoint, turning any failure into a message naming the file. */
public final class Json {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  public static JsonNode read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new GlanceException.ModelLoad(file + ": file not found");
    }
    try {
      JsonNode n = MAPPER.readTree(file.toFile());
      if (n == null || n.isMissingNode()) {
        throw new GlanceException.ModelLoad(file + ": empty JSON file");
      }
      return n;
    } catch (JsonProcessingException e) {
      throw new GlanceException.ModelLoad(file + ": invalid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new GlanceException.ModelLoad(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  public static ObjectMapper mapper() {
    return MAPPER;
  }
}
