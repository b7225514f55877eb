package dev.glance.engine.io;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.tensor.DType;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Test helper: writes float tensors to a safetensors file in F32, F16 or BF16. */
final class SafetensorsWriter {
  record Entry(long[] shape, float[] values) {}

  private final Map<String, Entry> entries = new LinkedHashMap<>();

  SafetensorsWriter put(String name, long[] shape, float[] values) {
    entries.put(name, new Entry(shape, values));
    return this;
  }

  void write(Path file, DType dtype) throws IOException {
    ObjectNode header = Json.mapper().createObjectNode();
    long offset = 0;
    for (var e : entries.entrySet()) {
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", dtype.name());
      var shape = t.putArray("shape");
      for (long d : e.getValue().shape()) {
        shape.add(d);
      }
      long bytes = (long) e.getValue().values().length * dtype.bytes();
      t.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] json = Json.mapper().writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    try (OutputStream out = Files.newOutputStream(file)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length);
      out.write(len.array());
      out.write(json);
      for (Entry e : entries.values()) {
        ByteBuffer buf = ByteBuffer.allocate(e.values().length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : e.values()) {
          switch (dtype) {
            case F32 -> buf.putFloat(v);
            case F16 -> buf.putShort(Float.floatToFloat16(v));
            case BF16 -> buf.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
            default -> throw new IllegalArgumentException(dtype.name());
          }
        }
        out.write(buf.array());
      }
    }
  }
}
