package dev.glance.server.api;

/** The client closed its connection before the answer was complete: nothing is left to send. */
public final class ClientGoneException extends RuntimeException {
  public ClientGoneException() {
    super("the client went away", null, false, false);
  }
}
