package dev.glance.server.inference;

/** Admission refused: the service is shutting down. */
public final class ServiceClosedException extends RuntimeException {
  public ServiceClosedException(String message) {
    super(message, null, false, false);
  }
}
