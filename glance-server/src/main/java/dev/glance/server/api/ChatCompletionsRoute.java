package dev.glance.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.generate.Piece;
import dev.glance.engine.runtime.GenerationResult;
import dev.glance.server.ServedModel;
import dev.glance.server.ServerConfig;
import dev.glance.server.http.RequestBody;
import dev.glance.server.http.SseStream;
import dev.glance.server.log.RequestTrace;
import dev.glance.server.usage.UsageRecord;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.function.Supplier;

/**
 * {@code POST /v1/chat/completions}: the OpenAI Chat Completions API, as JSON or streamed as
 * server-sent events. The answer goes in {@code content}, the model's thinking in
 * {@code reasoning_content}; {@code usage} counts image tokens inside the prompt tokens and again in
 * {@code prompt_tokens_details.image_tokens}, and {@code usage.cost} (an extension) says what the
 * request was charged; {@code timings} (an extension) breaks the time down.
 */
public final class ChatCompletionsRoute {
  public static final String PATH = "/v1/chat/completions";
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final System.Logger LOG = System.getLogger("dev.glance.server");

  private final Supplier<ServedModel> model;
  private final ServerConfig config;
  private final RequestBody body;
  private final InferenceRunner runner;

  public ChatCompletionsRoute(Supplier<ServedModel> model, ServerConfig config, RequestBody body,
      InferenceRunner runner) {
    this.model = model;
    this.config = config;
    this.body = body;
    this.runner = runner;
  }

  public void handle(Context ctx, RequestTrace trace, Admission admission) throws InterruptedException, IOException {
    ServedModel m = model.get();
    String id = ResponseJson.newId("chatcmpl-");
    long created = System.currentTimeMillis() / 1000;
    ResponseJson.identify(ctx, trace, id, m);
    JsonNode json = body.readJson(ctx.req());
    ChatRequest request = new ChatRequestParser(m, config).parse(json);
    trace.stream(request.stream());
    admission.reserve(m.upperBoundTokens(request.input()));
    Chunks chunks = new Chunks(id, created, m.name());
    if (!request.stream()) {
      InferenceRunner.Outcome outcome = runner.run(m, request.input(), ctx.req(), trace, piece -> {});
      UsageRecord used = admission.record(200);
      if (outcome.closeConnection()) {
        ctx.header("Connection", "close");
      }
      ctx.status(200).contentType("application/json").result(completion(chunks, outcome, used, request, trace)
          .toString());
      return;
    }
    SseStream sse = new SseStream(ctx.res());
    InferenceRunner.Output output = piece -> {
      if (!sse.started()) {
        sse.event(chunks.role().toString());
      }
      sse.event(chunks.delta(piece).toString());
    };
    InferenceRunner.Outcome outcome;
    try {
      outcome = runner.run(m, request.input(), ctx.req(), trace, output);
    } catch (ClientGoneException e) {
      throw e;
    } catch (RuntimeException e) {
      if (!sse.started()) {
        throw e;
      }
      failAfterStart(sse, trace, admission, e, true);
      return;
    }
    UsageRecord used;
    try {
      // In the ledger before the last chunks go out: a client that saw [DONE] was charged.
      used = admission.record(200);
    } catch (RuntimeException e) {
      if (!sse.started()) {
        throw e;
      }
      failAfterStart(sse, trace, admission, e, false);
      return;
    }
    try {
      GenerationResult r = outcome.result();
      if (!sse.started()) {
        sse.event(chunks.role().toString());
      }
      ObjectNode last = chunks.finish(r.finishReason().apiName());
      if (request.returnTokenIds()) {
        ((ObjectNode) last.withArray("choices").get(0)).set("token_ids", ids(r));
      }
      // The finish chunk carries the timings (an extension) even without include_usage, so a
      // streaming client sees what the caches saved.
      last.set("timings", ResponseJson.timings(r, trace, outcome.responseCached()));
      sse.event(last.toString());
      if (request.includeUsage()) {
        ObjectNode usage = chunks.base();
        usage.putArray("choices");
        usage.set("usage", ResponseJson.usage(r, used));
        usage.set("timings", ResponseJson.timings(r, trace, outcome.responseCached()));
        sse.event(usage.toString());
      }
      sse.done();
    } catch (IOException e) {
      throw new ClientGoneException();
    }
  }

  /**
   * Tells a failure after the stream started (status 200 and chunks already sent) as an error
   * event, as vLLM and OpenAI do, after recording it in the usage ledger when it is not yet.
   */
  private static void failAfterStart(SseStream sse, RequestTrace trace, Admission admission, RuntimeException e,
      boolean record) {
    ApiError error = ErrorMapper.map(e);
    trace.error(error.type(), error.code(), error.getMessage());
    if (record) {
      try {
        admission.record(error.status());
      } catch (RuntimeException storage) {
        // The failure is told all the same; the request log has the request.
        LOG.log(System.Logger.Level.WARNING, "could not record a failed request in the usage ledger: "
            + storage.getMessage());
      }
    }
    try {
      sse.event(ErrorMapper.body(error).toString());
      sse.done();
    } catch (IOException gone) {
      throw new ClientGoneException();
    }
  }

  private ObjectNode completion(Chunks chunks, InferenceRunner.Outcome outcome, UsageRecord used,
      ChatRequest request, RequestTrace trace) {
    GenerationResult r = outcome.result();
    ObjectNode root = JSON.objectNode();
    root.put("id", chunks.id());
    root.put("object", "chat.completion");
    root.put("created", chunks.created());
    root.put("model", chunks.model());
    ObjectNode choice = root.putArray("choices").addObject();
    choice.put("index", 0);
    ObjectNode message = choice.putObject("message");
    message.put("role", "assistant");
    message.put("content", r.answer());
    if (r.reasoning().isEmpty()) {
      message.putNull("reasoning_content");
    } else {
      message.put("reasoning_content", r.reasoning());
    }
    choice.putNull("logprobs");
    choice.put("finish_reason", r.finishReason().apiName());
    if (request.returnTokenIds()) {
      choice.set("token_ids", ids(r));
    }
    root.set("usage", ResponseJson.usage(r, used));
    root.set("timings", ResponseJson.timings(r, trace, outcome.responseCached()));
    return root;
  }

  private static ArrayNode ids(GenerationResult r) {
    ArrayNode a = JSON.arrayNode(r.tokenIds().length);
    for (int id : r.tokenIds()) {
      a.add(id);
    }
    return a;
  }

  /** Builds the chunks of one streamed completion. */
  private record Chunks(String id, long created, String model) {
    ObjectNode base() {
      ObjectNode c = JSON.objectNode();
      c.put("id", id);
      c.put("object", "chat.completion.chunk");
      c.put("created", created);
      c.put("model", model);
      return c;
    }

    private ObjectNode withChoice(ObjectNode delta, String finishReason) {
      ObjectNode c = base();
      ObjectNode choice = c.putArray("choices").addObject();
      choice.put("index", 0);
      choice.set("delta", delta);
      choice.putNull("logprobs");
      if (finishReason == null) {
        choice.putNull("finish_reason");
      } else {
        choice.put("finish_reason", finishReason);
      }
      return c;
    }

    ObjectNode role() {
      return withChoice(JSON.objectNode().put("role", "assistant").put("content", ""), null);
    }

    ObjectNode delta(Piece piece) {
      ObjectNode d = JSON.objectNode();
      switch (piece) {
        case Piece.Answer a -> d.put("content", a.text());
        case Piece.Reasoning r -> d.put("reasoning_content", r.text());
      }
      return withChoice(d, null);
    }

    ObjectNode finish(String reason) {
      return withChoice(JSON.objectNode(), reason);
    }
  }
}
