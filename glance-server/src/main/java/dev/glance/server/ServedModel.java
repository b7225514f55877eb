package dev.glance.server;

import dev.glance.engine.io.GenerationConfig;
import dev.glance.engine.runtime.Engine;
import dev.glance.server.api.InferenceInput;
import dev.glance.server.api.PromptEstimate;
import dev.glance.server.inference.InferenceService;

/**
 * The model the server answers for, once loaded: its public name, the service that runs it, and
 * the limits requests are checked against before they are queued.
 *
 * @param name the name clients send as {@code model}
 * @param service runs the generations
 * @param contextLength most tokens a sequence may hold (prompt and output)
 * @param minPixels the checkpoint's smallest resize target (a request's max_pixels may not go below)
 * @param maxPixels the server's resize ceiling (a request's max_pixels may not go above)
 * @param defaults the checkpoint's sampling defaults, used for fields a request leaves out
 * @param createdEpochSeconds when it was loaded, as OpenAI's {@code created}
 * @param estimate prices a request in tokens before its images are fetched or decoded
 */
public record ServedModel(
    String name,
    InferenceService service,
    int contextLength,
    long minPixels,
    long maxPixels,
    GenerationConfig defaults,
    long createdEpochSeconds,
    PromptEstimate estimate) {

  /** The most tokens a parsed request can use, for rate-limit reservations (see {@link PromptEstimate}). */
  public int upperBoundTokens(InferenceInput input) {
    return estimate.upperBound(input, maxPixels, contextLength);
  }

  /** Describes a loaded engine served by {@code service} under the config's name and limits. */
  public static ServedModel of(Engine engine, InferenceService service, ServerConfig config) {
    String name = !config.servedModelName().isBlank() ? config.servedModelName()
        : engine.dir().toAbsolutePath().normalize().getFileName().toString();
    var pre = engine.imageProcessor().config();
    long max = config.maxPixels() > 0 ? config.maxPixels() : pre.maxPixels();
    if (max < pre.minPixels()) {
      throw new IllegalArgumentException("--max-pixels " + max + " is below the checkpoint's min_pixels "
          + pre.minPixels());
    }
    return new ServedModel(name, service, engine.contextLength(), pre.minPixels(), max,
        engine.generationConfig(), System.currentTimeMillis() / 1000, new PromptEstimate(engine.imageProcessor().withMaxPixels(max)));
  }
}
