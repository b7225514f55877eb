package dev.glance.server.api;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.runtime.GenerationResult;
import dev.glance.server.ServedModel;
import dev.glance.server.log.RequestTrace;
import dev.glance.server.usage.UsageRecord;
import io.javalin.http.Context;
import java.util.UUID;

/** The parts of responses both APIs share: ids, usage and the timing breakdown. */
final class ResponseJson {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private ResponseJson() {}

  static String newId(String prefix) {
    return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
  }

  /**
   * Names the request for the client (X-Request-Id, also on errors), the request log and the
   * usage ledger, before anything can fail.
   */
  static void identify(Context ctx, RequestTrace trace, String id, ServedModel model) {
    trace.id(id);
    trace.model(model.name());
    ctx.header("X-Request-Id", id);
  }

  /**
   * OpenAI's usage, with the image tokens (part of the prompt tokens) also given on their own,
   * the cached prompt tokens (served from the prefix KV cache, not prefilled) and what the request
   * cost.
   */
  static ObjectNode usage(GenerationResult r, UsageRecord used) {
    ObjectNode u = JSON.objectNode();
    u.put("prompt_tokens", r.promptTokens());
    u.put("completion_tokens", r.completionTokens());
    u.put("total_tokens", r.promptTokens() + r.completionTokens());
    ObjectNode details = u.putObject("prompt_tokens_details");
    details.put("image_tokens", r.imageTokens());
    details.put("cached_tokens", used.cachedTokens());
    u.set("cost", Admission.costJson(used));
    return u;
  }

  /**
   * Where the time went, in milliseconds: waiting for the engine, preprocessing (images and
   * prompt), the vision encoder, prefill, decoding, arrival to first text, and in all; and the
   * decode speed in tokens per second after the first token. {@code cache} says what the caches
   * saved: {@code vision_hits} images whose embeddings were reused, {@code prefix_tokens} prompt
   * tokens whose keys and values came from the prefix cache, and {@code response} whether
   * the whole answer came from the response cache (then every engine stage is 0).
   */
  static ObjectNode timings(GenerationResult r, RequestTrace trace, boolean responseCached) {
    ObjectNode t = JSON.objectNode();
    var engine = r.timings();
    t.put("queue_ms", round(trace.queueMillis()));
    t.put("preprocess_ms", round(engine.preprocessMs()));
    t.put("vision_ms", round(engine.visionMs()));
    t.put("prefill_ms", round(engine.prefillMs()));
    t.put("decode_ms", round(engine.decodeMs()));
    if (trace.firstTokenNanos() != null) {
      t.put("first_token_ms", round(trace.firstTokenNanos() / 1e6));
    }
    t.put("total_ms", round((System.nanoTime() - trace.startNanos()) / 1e6));
    int steps = r.completionTokens() - 1;
    if (steps > 0 && engine.decodeMs() > 0) {
      t.put("decode_tokens_per_second", round(steps / (engine.decodeMs() / 1000)));
    }
    t.putObject("cache").put("vision_hits", r.visionCacheHits()).put("prefix_tokens", r.cachedTokens())
        .put("response", responseCached);
    return t;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
