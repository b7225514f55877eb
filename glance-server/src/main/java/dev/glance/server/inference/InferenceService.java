package dev.glance.server.inference;

import dev.glance.engine.runtime.BatchScheduler;
import dev.glance.engine.runtime.GenerationRequest;
import java.time.Duration;
import java.util.Optional;

/**
 * What the HTTP routes call to run generations: admission first ({@link #reserve}, before any
 * image is fetched or decoded, so that a full server refuses work cheaply), then {@link
 * Reservation#submit}. {@link EngineWorker} implements it with a continuous-batching engine loop;
 * the routes do not depend on how.
 */
public interface InferenceService {

  /**
   * Reserves a place for one request.
   *
   * @throws QueueFullException when as many requests as the queue holds are already admitted
   * @throws ServiceClosedException when the service is shutting down
   */
  Reservation reserve();

  /** Requests admitted but not yet running (waiting or being prepared). */
  int waiting();

  /** Requests the engine is running now. */
  int running();

  /** The engine's KV block pool now, when it has one (for gauges; callable from any thread). */
  default Optional<BatchScheduler.KvUsage> kvUsage() {
    return Optional.empty();
  }

  /**
   * Stops admitting requests, lets admitted ones finish for up to {@code grace}, then cancels the
   * rest and stops; returns when nothing runs any more.
   */
  void shutdown(Duration grace);

  /** A place in the service, held from admission until the job ends or the reservation closes. */
  interface Reservation extends AutoCloseable {
    /**
     * Counts {@code tokens} (an estimate of the prompt, images included) against the bound on
     * prompt tokens waiting for the engine; called before the request's images are decoded. The
     * tokens leave the count when the engine starts the job or the reservation ends.
     *
     * @throws QueueFullException when the waiting prompts already hold too many tokens
     */
    void claimPromptTokens(long tokens);

    /**
     * Queues the generation. The place is then the job's and is released when it ends.
     *
     * @throws ServiceClosedException when the service stopped while the request was prepared
     */
    Job submit(GenerationRequest request);

    /** Gives the place back if no job was submitted; otherwise does nothing. */
    @Override
    void close();
  }
}
