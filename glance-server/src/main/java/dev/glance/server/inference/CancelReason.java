package dev.glance.server.inference;

/** Why a job was stopped before it finished on its own. */
public enum CancelReason {
  /** The client closed its connection: nobody is waiting for the answer. */
  CLIENT_GONE,
  /** The request ran past the server's request timeout. */
  TIMEOUT,
  /** The request waited for the engine longer than the server's queue timeout, and never ran. */
  QUEUE_TIMEOUT,
  /** The server is shutting down and the grace period for in-flight work is over. */
  SHUTDOWN
}
