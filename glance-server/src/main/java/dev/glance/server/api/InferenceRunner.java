package dev.glance.server.api;

import dev.glance.engine.generate.FinishReason;
import dev.glance.engine.generate.Piece;
import dev.glance.engine.runtime.GenerationRequest;
import dev.glance.engine.runtime.GenerationResult;
import dev.glance.engine.runtime.ImageInput;
import dev.glance.engine.runtime.cache.ImageKey;
import dev.glance.server.ServedModel;
import dev.glance.server.cache.ResponseCache;
import dev.glance.server.cache.ResponseKey;
import dev.glance.server.http.ClientWatch;
import dev.glance.server.inference.CancelReason;
import dev.glance.server.inference.InferenceService;
import dev.glance.server.inference.Job;
import dev.glance.server.inference.JobEvent;
import dev.glance.server.log.RequestRecord;
import dev.glance.server.log.RequestTrace;
import dev.glance.server.metrics.ServerMetrics;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one validated request through the service, for both APIs: admission, then fetching and
 * decoding its images, then the job, whose output goes to a {@link Output} as it comes. The request
 * is cancelled when its client goes away or its time is up; every outcome other than a finished
 * generation becomes an exception that the route answers (or, for a client that is gone, does not).
 */
public final class InferenceRunner {

  /** Where generated text goes as it arrives; throws IOException once the client cannot be written to. */
  public interface Output {
    void piece(Piece piece) throws IOException;
  }

  /** After a cancelled job, how long to wait for the engine to acknowledge it at its next step. */
  private static final long CANCEL_WAIT_NANOS = TimeUnit.MINUTES.toNanos(5);
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final ImageLoader images;
  private final ClientWatch watch;
  private final ServerMetrics metrics;
  private final Duration timeout;
  private final Duration queueTimeout;
  private final ResponseCache responses;

  public InferenceRunner(ImageLoader images, ClientWatch watch, ServerMetrics metrics, Duration timeout,
      Duration queueTimeout, ResponseCache responses) {
    this.images = images;
    this.watch = watch;
    this.metrics = metrics;
    this.timeout = timeout;
    this.queueTimeout = queueTimeout;
    this.responses = responses;
  }

  /**
   * What a finished run yields: the result, whether the connection must close afterwards, and
   * whether the result came from the response cache (stored, or computed once for identical
   * requests in flight together) rather than from this request's own generation.
   */
  public record Outcome(GenerationResult result, boolean closeConnection, boolean responseCached) {}

  public Outcome run(ServedModel model, InferenceInput input, HttpServletRequest http, RequestTrace trace,
      Output output) throws InterruptedException {
    trace.maxTokens(input.sampling().maxTokens());
    try (InferenceService.Reservation place = model.service().reserve()) {
      List<ImageLoader.Fetched> fetched = images.fetch(input.images());
      // Priced from the headers, so a request that would overfill the queue is refused undecoded.
      place.claimPromptTokens(model.estimate().tokens(input.messages(),
          fetched.stream().map(ImageLoader.Fetched::header).toList()));
      List<LoadedImage> loaded = images.decode(fetched);
      List<ImageInput> decoded = new ArrayList<>(loaded.size());
      for (LoadedImage img : loaded) {
        trace.image(img.param(), img.image().width(), img.image().height(), img.bytes(), img.format(), img.sha256());
        decoded.add(new ImageInput.Decoded(img.param(), img.image()));
      }
      GenerationRequest request = new GenerationRequest(input.messages(), decoded, input.thinking(),
          input.sampling(), input.maxPixels(), input.strictContext());
      if (!cacheable(input, http)) {
        return generate(place, request, http, trace, output);
      }
      List<String> hashes = loaded.stream().map(img -> ImageKey.pixelHash(img.image())).toList();
      ResponseKey key = new ResponseKey(model.name(), hashes, input.messages(), input.thinking(), input.sampling(),
          input.maxPixels(), input.strictContext());
      switch (responses.lookup(key)) {
        case ResponseCache.Hit hit -> {
          metrics.cache("response", true);
          return replay(hit.result(), trace, output);
        }
        case ResponseCache.Follower follower -> {
          Optional<GenerationResult> leaders = awaitLeader(follower, trace);
          responses.followed(leaders.isPresent());
          metrics.cache("response", leaders.isPresent());
          if (leaders.isPresent()) {
            return replay(ResponseCache.replayed(leaders.get()), trace, output);
          }
          return generate(place, request, http, trace, output);
        }
        case ResponseCache.Leader leader -> {
          metrics.cache("response", false);
          try {
            Outcome outcome = generate(place, request, http, trace, output);
            leader.publish(outcome.result());
            return outcome;
          } finally {
            leader.abandon();
          }
        }
      }
    }
  }

  /**
   * Whether the response cache may answer: the output is deterministic (temperature 0 or a fixed
   * seed) and the client did not opt out with {@code "cache": false} or {@code Cache-Control: no-cache}.
   */
  private static boolean cacheable(InferenceInput input, HttpServletRequest http) {
    String control = http.getHeader("Cache-Control");
    boolean noCache = control != null && (control.toLowerCase(Locale.ROOT).contains("no-cache")
        || control.toLowerCase(Locale.ROOT).contains("no-store"));
    return input.cache() && !noCache && ResponseKey.deterministic(input.sampling());
  }

  private Outcome generate(InferenceService.Reservation place, GenerationRequest request, HttpServletRequest http,
      RequestTrace trace, Output output) throws InterruptedException {
    Job job = place.submit(request);
    try (ClientWatch.Watch w = watch.watch(http, () -> job.cancel(CancelReason.CLIENT_GONE))) {
      GenerationResult result = follow(job, trace, output);
      return new Outcome(result, w.connectionSpoiled(), false);
    }
  }

  /** Waits for an identical request's result, within this request's own timeout. */
  private Optional<GenerationResult> awaitLeader(ResponseCache.Follower follower, RequestTrace trace)
      throws InterruptedException {
    long left = trace.startNanos() + timeout.toNanos() - System.nanoTime();
    try {
      return follower.result().get(Math.max(0, left), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw cancelled(CancelReason.TIMEOUT, trace);
    } catch (ExecutionException e) {
      return Optional.empty();
    }
  }

  /**
   * Answers with a result computed before: its text goes out as one reasoning piece and one answer
   * piece, and the metrics count its tokens (but no engine time).
   */
  private Outcome replay(GenerationResult r, RequestTrace trace, Output output) {
    try {
      if (!r.reasoning().isEmpty()) {
        output.piece(new Piece.Reasoning(r.reasoning()));
      }
      if (!r.answer().isEmpty()) {
        output.piece(new Piece.Answer(r.answer()));
      }
    } catch (IOException e) {
      throw new ClientGoneException();
    }
    if (trace.firstTokenNanos() == null && r.completionTokens() > 0) {
      metrics.firstToken(trace.firstToken() / 1e9);
    }
    trace.result(r);
    metrics.cachedGeneration(r.promptTokens(), r.imageTokens(), r.completionTokens());
    return new Outcome(r, false, true);
  }

  private GenerationResult follow(Job job, RequestTrace trace, Output output) throws InterruptedException {
    long deadline = trace.startNanos() + timeout.toNanos();
    long cancelDeadline = Long.MAX_VALUE;
    boolean started = false;
    boolean writable = true;
    while (true) {
      if (job.isCancelRequested()) {
        // Not started yet: answer now, the worker drops the job when it comes to it. Running: the
        // engine stops at its next decode step, normally at once; a long prefill gets a bound.
        if (!started || System.nanoTime() > cancelDeadline) {
          throw cancelled(job.cancelReason().orElseThrow(), trace);
        }
        cancelDeadline = Math.min(cancelDeadline, System.nanoTime() + CANCEL_WAIT_NANOS);
      } else if (System.nanoTime() >= deadline) {
        job.cancel(CancelReason.TIMEOUT);
        continue;
      } else if (!started && System.nanoTime() - job.submittedNanos() >= queueTimeout.toNanos()) {
        job.cancel(CancelReason.QUEUE_TIMEOUT);
        continue;
      }
      // Short waits, so that a cancellation from the client watch is seen while nothing happens.
      long wait = job.isCancelRequested() ? POLL_NANOS : Math.min(POLL_NANOS, deadline - System.nanoTime());
      if (!started) {
        wait = Math.min(wait, job.submittedNanos() + queueTimeout.toNanos() - System.nanoTime());
      }
      Optional<JobEvent> next = job.next(wait);
      if (next.isEmpty()) {
        continue;
      }
      switch (next.get()) {
        case JobEvent.Started s -> {
          started = true;
          trace.queued(s.queueNanos());
          metrics.queued(s.queueNanos() / 1e9);
        }
        case JobEvent.Output o -> {
          if (trace.firstTokenNanos() == null) {
            metrics.firstToken(trace.firstToken() / 1e9);
          }
          if (writable) {
            try {
              output.piece(o.piece());
            } catch (IOException e) {
              writable = false;
              job.cancel(CancelReason.CLIENT_GONE);
            }
          }
        }
        case JobEvent.Finished f -> {
          GenerationResult r = f.result();
          trace.result(r);
          var t = r.timings();
          metrics.generation(t.preprocessMs(), t.visionMs(), t.prefillMs(), t.decodeMs(), r.promptTokens(),
              r.imageTokens(), r.completionTokens());
          metrics.visionCache(r.visionCacheHits(), r.imageHashes().size() - r.visionCacheHits());
          metrics.prefixCache(r.cachedTokens());
          if (r.finishReason() == FinishReason.CANCELLED) {
            throw cancelled(job.cancelReason().orElse(CancelReason.SHUTDOWN), trace);
          }
          return r;
        }
        case JobEvent.Failed f -> throw ErrorMapper.map(f.error());
        case JobEvent.Dropped d -> throw cancelled(d.reason(), trace);
      }
    }
  }

  private RuntimeException cancelled(CancelReason reason, RequestTrace trace) {
    return switch (reason) {
      case CLIENT_GONE -> {
        trace.flag(RequestRecord.Flag.CLIENT_GONE);
        yield new ClientGoneException();
      }
      case TIMEOUT -> {
        trace.flag(RequestRecord.Flag.TIMEOUT);
        yield new ApiError.Timeout("the request took longer than the server's timeout of "
            + timeout.toSeconds() + " s (--request-timeout) and was stopped");
      }
      case QUEUE_TIMEOUT -> {
        trace.flag(RequestRecord.Flag.TIMEOUT);
        yield new ApiError.Unavailable("the request waited " + queueTimeout.toSeconds() + " s for the engine"
            + " without starting (--queue-timeout) and was dropped; the server is overloaded, retry later",
            "queue_timeout", Duration.ofSeconds(Math.max(1, queueTimeout.toSeconds())));
      }
      case SHUTDOWN -> new ApiError.Unavailable("the server is shutting down; the request was stopped",
          "shutting_down", Duration.ofSeconds(5));
    };
  }
}
