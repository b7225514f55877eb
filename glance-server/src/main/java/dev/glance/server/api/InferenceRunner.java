package dev.glance.server.api;

import dev.glance.engine.generate.FinishReason;
import dev.glance.engine.generate.Piece;
import dev.glance.engine.runtime.GenerationRequest;
import dev.glance.engine.runtime.GenerationResult;
import dev.glance.engine.runtime.ImageInput;
import dev.glance.server.ServedModel;
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
import java.util.Optional;
import java.util.concurrent.TimeUnit;

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

  public InferenceRunner(ImageLoader images, ClientWatch watch, ServerMetrics metrics, Duration timeout) {
    this.images = images;
    this.watch = watch;
    this.metrics = metrics;
    this.timeout = timeout;
  }

  /** What a finished run yields: the result, and whether the connection must close afterwards. */
  public record Outcome(GenerationResult result, boolean closeConnection) {}

  public Outcome run(ServedModel model, InferenceInput input, HttpServletRequest http, RequestTrace trace,
      Output output) throws InterruptedException {
    trace.maxTokens(input.sampling().maxTokens());
    try (InferenceService.Reservation place = model.service().reserve()) {
      List<LoadedImage> loaded = images.load(input.images());
      List<ImageInput> decoded = new ArrayList<>(loaded.size());
      for (LoadedImage img : loaded) {
        trace.image(img.param(), img.image().width(), img.image().height(), img.bytes(), img.format(), img.sha256());
        decoded.add(new ImageInput.Decoded(img.param(), img.image()));
      }
      GenerationRequest request = new GenerationRequest(input.messages(), decoded, input.thinking(),
          input.sampling(), input.maxPixels(), input.strictContext());
      Job job = place.submit(request);
      try (ClientWatch.Watch w = watch.watch(http, () -> job.cancel(CancelReason.CLIENT_GONE))) {
        GenerationResult result = follow(job, trace, output);
        return new Outcome(result, w.connectionSpoiled());
      }
    }
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
      }
      // Short waits, so that a cancellation from the client watch is seen while nothing happens.
      long wait = job.isCancelRequested() ? POLL_NANOS : Math.min(POLL_NANOS, deadline - System.nanoTime());
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
      case SHUTDOWN -> new ApiError.Unavailable("the server is shutting down; the request was stopped",
          "shutting_down", Duration.ofSeconds(5));
    };
  }
}
