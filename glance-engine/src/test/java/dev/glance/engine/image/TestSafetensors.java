package dev.glance.engine.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Minimal test-only safetensors reader for the reference fixtures: an 8-byte little-endian header
 * length, a JSON header {name: {dtype, shape, data_offsets}}, then raw little-endian data. The
 * production reader lives elsewhere; this one only needs F32 and I64.
 */
final class TestSafetensors {

  private final ByteBuffer data;
  private final JsonNode header;

  private TestSafetensors(ByteBuffer data, JsonNode header) {
    this.data = data;
    this.header = header;
  }

  static TestSafetensors open(Path file) throws IOException {
    ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength = all.getLong(0);
    byte[] json = new byte[(int) headerLength];
    all.get(8, json);
    JsonNode header = new ObjectMapper().readTree(new String(json, StandardCharsets.UTF_8));
    ByteBuffer data = all.slice(8 + (int) headerLength, all.capacity() - 8 - (int) headerLength)
        .order(ByteOrder.LITTLE_ENDIAN);
    return new TestSafetensors(data, header);
  }

  int[] shape(String name) {
    JsonNode shape = entry(name).get("shape");
    int[] out = new int[shape.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = shape.get(i).asInt();
    }
    return out;
  }

  float[] f32(String name) {
    ByteBuffer b = bytes(name, "F32");
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  long[] i64(String name) {
    ByteBuffer b = bytes(name, "I64");
    long[] out = new long[b.remaining() / 8];
    b.asLongBuffer().get(out);
    return out;
  }

  private ByteBuffer bytes(String name, String dtype) {
    JsonNode e = entry(name);
    if (!dtype.equals(e.get("dtype").asText())) {
      throw new IllegalArgumentException(name + " is " + e.get("dtype").asText() + ", not " + dtype);
    }
    int begin = e.get("data_offsets").get(0).asInt();
    int end = e.get("data_offsets").get(1).asInt();
    return data.slice(begin, end - begin).order(ByteOrder.LITTLE_ENDIAN);
  }

  private JsonNode entry(String name) {
    JsonNode e = header.get(name);
    if (e == null) {
      throw new IllegalArgumentException("no tensor " + name);
    }
    return e;
  }
}
