package dev.glance.server.api;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.runtime.GenerationResult;
import dev.glance.server.ServedModel;
import dev.glance.server.ServerConfig;
import dev.glance.server.http.RequestBody;
import dev.glance.server.log.RequestTrace;
import dev.glance.server.usage.UsageRecord;
import io.javalin.http.Context;
import java.util.function.Supplier;

/**
 * {@code POST /infer}: one image (or several) and a question in, {@code {"output", "id", "usage",
 * "timings"}} out, plus {@code reasoning}, {@code finish_reason} and {@code model}. {@code output}
 * is the answer without the thinking; {@code usage.cost} is what the request was charged.
 */
public final class InferRoute {
  public static final String PATH = "/infer";

  private final Supplier<ServedModel> model;
  private final ServerConfig config;
  private final RequestBody body;
  private final InferenceRunner runner;

  public InferRoute(Supplier<ServedModel> model, ServerConfig config, RequestBody body, InferenceRunner runner) {
    this.model = model;
    this.config = config;
    this.body = body;
    this.runner = runner;
  }

  public void handle(Context ctx, RequestTrace trace, Admission admission) throws InterruptedException {
    ServedModel m = model.get();
    String id = ResponseJson.newId("infer-");
    ResponseJson.identify(ctx, trace, id, m);
    trace.stream(false);
    InferenceInput input = new InferRequestParser(m, config).parse(body.readJson(ctx.req()));
    admission.reserve(m.upperBoundTokens(input));
    InferenceRunner.Outcome outcome = runner.run(m, input, ctx.req(), trace, piece -> {});
    GenerationResult r = outcome.result();
    UsageRecord used = admission.record(200);
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("id", id);
    out.put("output", r.answer());
    out.put("reasoning", r.reasoning());
    out.put("finish_reason", r.finishReason().apiName());
    out.put("model", m.name());
    out.set("usage", ResponseJson.usage(r, used).put("image_tokens", r.imageTokens()));
    out.set("timings", ResponseJson.timings(r, trace, outcome.responseCached()));
    if (outcome.closeConnection()) {
      ctx.header("Connection", "close");
    }
    ctx.status(200).contentType("application/json").result(out.toString());
  }
}
