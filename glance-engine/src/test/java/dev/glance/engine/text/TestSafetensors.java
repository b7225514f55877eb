package dev.glance.engine.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Minimal test-only safetensors reader (8-byte little-endian header length, JSON header, raw
 * little-endian data) for the integer tensors these tests compare against. The engine's own reader
 * lives elsewhere; this one keeps the text tests independent of it.
 */
final class TestSafetensors {
  private final ByteBuffer data;
  private final JsonNode header;

  private TestSafetensors(ByteBuffer data, JsonNode header) {
    this.data = data;
    this.header = header;
  }

  static TestSafetensors open(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
      all.order(ByteOrder.LITTLE_ENDIAN);
      int headerLen = Math.toIntExact(all.getLong(0));
      byte[] json = new byte[headerLen];
      all.get(8, json);
      JsonNode header = new ObjectMapper().readTree(new String(json, StandardCharsets.UTF_8));
      ByteBuffer data = all.slice(8 + headerLen, all.capacity() - 8 - headerLen);
      return new TestSafetensors(data.order(ByteOrder.LITTLE_ENDIAN), header);
    }
  }

  /** The shape of a tensor. */
  long[] shape(String name) {
    JsonNode shape = entry(name).get("shape");
    long[] out = new long[shape.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = shape.get(i).asLong();
    }
    return out;
  }

  /** An I64 tensor, flattened in row-major order. */
  long[] int64(String name) {
    JsonNode e = entry(name);
    if (!e.get("dtype").asText().equals("I64")) {
      throw new AssertionError(name + " is " + e.get("dtype") + ", expected I64");
    }
    int begin = Math.toIntExact(e.get("data_offsets").get(0).asLong());
    int end = Math.toIntExact(e.get("data_offsets").get(1).asLong());
    long[] out = new long[(end - begin) / 8];
    for (int i = 0; i < out.length; i++) {
      out[i] = data.getLong(begin + 8 * i);
    }
    return out;
  }

  private JsonNode entry(String name) {
    JsonNode e = header.get(name);
    if (e == null) {
      throw new AssertionError("tensor " + name + " not in safetensors file");
    }
    return e;
  }
}
