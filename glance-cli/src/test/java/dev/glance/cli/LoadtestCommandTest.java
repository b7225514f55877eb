package dev.glance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code glance loadtest} against a real {@code glance serve} on loopback: it sends exactly the
 * requests it was asked for, from several clients at once, reads each stream to the end, and
 * reports what the server did (every status, the tokens, the caches) — and refuses a server that is
 * not on this machine.
 */
class LoadtestCommandTest {
  @TempDir Path state;

  @Test
  void reportsEveryRequestAndTheCachesAgainstARealServer() throws Exception {
    List<String> lines = new ArrayList<>();
    Process serve = ServeCommandTest.startServe("--data-dir", state.toString(), "--max-batch", "4");
    try {
      int port = ServeCommandTest.awaitServing(serve, lines);
      AskCommandTest.Run run = AskCommandTest.ask(List.of("loadtest", "--server", "http://127.0.0.1:" + port,
          "--model", ServeCommandTest.FIXTURE.getFileName().toString(), "--clients", "3", "--requests", "12",
          "--duration", "120", "--repeat", "0.75", "--images", "2", "--image-size", "56", "--max-tokens", "4",
          "--seed", "7", "--json"));
      assertEquals(0, run.code(), run.err());
      JsonNode r = AskCommandTest.JSON.readTree(run.out());
      assertEquals(12, r.path("requests").asInt(), run.out());
      assertEquals(12, r.path("ok").asInt(), run.out());
      assertEquals(12, r.path("by_status").path("200").asInt(), run.out());
      assertEquals(3, r.path("clients").asInt());
      assertTrue(r.path("generated_tokens_per_second").asDouble() > 0, run.out());
      double ttft50 = r.path("ttft_ms").path("p50").asDouble();
      assertTrue(ttft50 > 0 && ttft50 <= r.path("latency_ms").path("p99").asDouble(), run.out());
      // Nine of twelve requests draw from two images: most of them are repeats the server has seen,
      // and each such request is served by the vision cache or, same question again, the response
      // cache.
      double cacheHits = r.path("vision_cache_hit_rate").asDouble() + r.path("response_cache_hit_rate").asDouble();
      assertTrue(cacheHits > 0.25, run.out());
      assertTrue(r.path("ttft_ms").path("median_repeated_image").asDouble() > 0, run.out());
      assertTrue(r.has("prefix_cache_hit_rate") && r.has("cached_prompt_tokens"), run.out());
    } finally {
      serve.destroy();
      serve.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void refusesAServerOffThisMachine() {
    AskCommandTest.Run run = AskCommandTest.ask(List.of("loadtest", "--server", "http://192.0.2.1:8080",
        "--requests", "1", "--duration", "1"));
    assertTrue(run.code() != 0, run.out());
    assertTrue(run.err().contains("--server must be on loopback"), run.err());
  }

  @Test
  void namesABadFlag() {
    AskCommandTest.Run run = AskCommandTest.ask(List.of("loadtest", "--repeat", "1.5", "--requests", "1"));
    assertTrue(run.code() != 0, run.out());
    assertTrue(run.err().contains("--repeat must be between 0 and 1"), run.err());
  }
}
