package dev.glance.server.fetch;

/**
 * An image URL could not be fetched: refused by the address policy, unreachable, timed out, not
 * 200, or too large. The message names the URL's host and what went wrong, for the client.
 */
public final class FetchException extends RuntimeException {
  private final boolean tooLarge;

  public FetchException(String message, boolean tooLarge) {
    super(message, null, false, false);
    this.tooLarge = tooLarge;
  }

  /** Whether the image was refused for its size rather than for where it is. */
  public boolean tooLarge() {
    return tooLarge;
  }
}
