package dev.glance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint whose final norm holds NaN makes every logit NaN: the request fails as the server's
 * fault (500, code nan_logits, never a made-up answer), the request log flags it, and the server
 * keeps serving.
 */
class NanLogitsTest {
  @TempDir Path tmp;

  /** A copy of the fixture with one BF16 tensor overwritten by NaN. */
  Path poisoned(String tensor) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("nan-model"));
    try (var files = Files.list(Fixture.DIR)) {
      for (Path f : files.toList()) {
        if (!f.getFileName().toString().startsWith("expected")) {
          Files.copy(f, dir.resolve(f.getFileName()));
        }
      }
    }
    Path weights = dir.resolve("model.safetensors");
    try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      ch.read(len, 0);
      long headerLength = len.getLong(0);
      ByteBuffer header = ByteBuffer.allocate((int) headerLength);
      ch.read(header, 8);
      JsonNode entry = Fixture.JSON.readTree(header.array()).path(tensor);
      assertEquals("BF16", entry.path("dtype").asText());
      long begin = entry.path("data_offsets").get(0).asLong();
      long end = entry.path("data_offsets").get(1).asLong();
      ByteBuffer nan = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
      while (nan.hasRemaining()) {
        nan.putShort((short) 0x7FC0);
      }
      nan.flip();
      ch.write(nan, 8 + headerLength + begin);
    }
    return dir;
  }

  @Test
  void nanLogitsAreAnInternalErrorFlaggedInTheLog() throws Exception {
    try (TestServer server = TestServer.start(poisoned("model.language_model.norm.weight"), c -> c)) {
      ObjectNode r = Fixture.JSON.createObjectNode();
      r.put("image", Fixture.base64("case0_0.png"));
      r.put("text", "What is in this picture?");
      r.put("max_tokens", 4);
      TestServer.Reply reply = server.post("/infer", r.toString());
      assertEquals(500, reply.status(), reply.body());
      JsonNode error = reply.json().path("error");
      assertEquals("nan_logits", error.path("code").asText());
      assertEquals("server_error", error.path("type").asText());
      assertTrue(error.path("message").asText().contains("NaN logits"), reply.body());
      JsonNode log = server.lastLogFor("/infer", 1);
      assertEquals(500, log.path("status").asInt());
      assertTrue(log.path("flags").toString().contains("nan_logits"), log.toString());
      assertTrue(server.get("/metrics").body().contains("glance_flagged_requests_total{flag=\"nan_logits\"} 1.0"));
      assertEquals(200, server.get("/health").status());
    }
  }
}
