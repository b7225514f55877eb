package dev.glance.engine.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.glance.engine.GlanceException;
import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.TensorData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code .safetensors} file, memory-mapped once for the lifetime of the arena that owns it.
 * Tensors are slices of the mapping; the header is validated against the file length so a
 * truncated download is reported here, naming the file and the tensor, rather than as a crash
 * in a kernel.
 */
public final class SafetensorsFile {
  private static final long MAX_HEADER = 100L * 1024 * 1024;

  private final Path path;
  private final Map<String, TensorData> tensors;

  private SafetensorsFile(Path path, Map<String, TensorData> tensors) {
    this.path = path;
    this.tensors = tensors;
  }

  /** Maps {@code path} into {@code arena}; the tensors stay valid while the arena is open. */
  public static SafetensorsFile open(Path path, Arena arena) {
    MemorySegment whole;
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw new GlanceException.ModelLoad(path + ": truncated safetensors file (" + size + " bytes)");
      }
      whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
    } catch (NoSuchFileException e) {
      throw new GlanceException.ModelLoad(path + ": file not found");
    } catch (IOException e) {
      throw new GlanceException.ModelLoad(path + ": cannot read: " + e.getMessage(), e);
    }
    long headerLen = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
    if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > whole.byteSize()) {
      throw new GlanceException.ModelLoad(
          path + ": not a safetensors file or truncated (header length " + headerLen + ", file "
              + whole.byteSize() + " bytes)");
    }
    byte[] header = whole.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(new String(header, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new GlanceException.ModelLoad(path + ": unreadable safetensors header: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new GlanceException.ModelLoad(path + ": safetensors header is not a JSON object");
    }
    long dataStart = 8 + headerLen;
    long dataLen = whole.byteSize() - dataStart;
    Map<String, TensorData> map = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      if (name.equals("__metadata__")) {
        continue;
      }
      JsonNode t = e.getValue();
      DType dtype = DType.ofSafetensors(t.path("dtype").asText(), name);
      JsonNode shapeNode = t.path("shape");
      long[] shape = new long[shapeNode.size()];
      long elements = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shapeNode.get(i).asLong();
        elements *= shape[i];
      }
      long begin = t.path("data_offsets").path(0).asLong(-1);
      long end = t.path("data_offsets").path(1).asLong(-1);
      if (begin < 0 || end < begin || end - begin != elements * dtype.bytes()) {
        throw new GlanceException.ModelLoad(
            path + ": tensor " + name + " has inconsistent offsets [" + begin + ", " + end + ") for "
                + dtype + java.util.Arrays.toString(shape));
      }
      if (end > dataLen) {
        throw new GlanceException.ModelLoad(
            path + ": truncated: tensor " + name + " ends at byte " + (dataStart + end)
                + " but the file has " + whole.byteSize() + " bytes");
      }
      map.put(name, new TensorData(name, dtype, shape, whole.asSlice(dataStart + begin, end - begin)));
    }
    return new SafetensorsFile(path, Collections.unmodifiableMap(map));
  }

  public Path path() {
    return path;
  }

  public Map<String, TensorData> tensors() {
    return tensors;
  }

  public TensorData get(String name) {
    TensorData t = tensors.get(name);
    if (t == null) {
      throw new GlanceException.ModelLoad(path + ": no tensor named " + name);
    }
    return t;
  }
}
