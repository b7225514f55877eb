package dev.glance.server.security;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Requests per minute, tokens per minute and concurrent requests for each principal (an API key,
 * or a client IP when keys are off), over a sliding window. Tokens are reserved at admission from
 * the request's estimate and settled to the real count when it ends, so many requests arriving at
 * once cannot overrun a limit between admission and accounting.
 */
public final class RateLimiter {
  private static final int PRUNE_ABOVE = 10_000;

  private final Clock clock;
  private final long windowMs;
  private final Map<String, State> states = new ConcurrentHashMap<>();

  public RateLimiter(Clock clock, Duration window) {
    this.clock = clock;
    this.windowMs = window.toMillis();
  }

  /** The outcome of asking to start a request. */
  public sealed interface Admission permits Granted, Limited {}

  /** Admitted: close the permit when the request ends (after settling its tokens). */
  public record Granted(Permit permit) implements Admission {}

  /** Refused: which limit, when to retry (whole seconds, at least 1), and a sentence saying so. */
  public record Limited(String limit, long retryAfterSeconds, String message) implements Admission {}

  public Admission admit(String principal, KeyLimits limits, int estimatedTokens) {
    if (states.size() > PRUNE_ABOVE) {
      prune();
    }
    State s = states.computeIfAbsent(principal, p -> new State());
    long now = clock.millis();
    synchronized (s) {
      s.expire(now - windowMs);
      if (limits.maxConcurrent().isPresent() && s.inFlight >= limits.maxConcurrent().getAsInt()) {
        return new Limited("concurrent requests", 1, "too many concurrent requests: the limit is "
            + limits.maxConcurrent().getAsInt() + " at a time");
      }
      if (limits.rpm().isPresent() && s.requests.size() >= limits.rpm().getAsInt()) {
        long retry = s.requests.peekFirst() + windowMs - now;
        return new Limited("requests per minute", seconds(retry), "rate limit of "
            + limits.rpm().getAsInt() + " requests per minute reached");
      }
      if (limits.tpm().isPresent()) {
        int tpm = limits.tpm().getAsInt();
        if (estimatedTokens > tpm) {
          return new Limited("tokens per minute", seconds(windowMs), "this request needs about "
              + estimatedTokens + " tokens, more than the limit of " + tpm + " tokens per minute");
        }
        long used = s.tokensInWindow();
        if (used + estimatedTokens > tpm) {
          return new Limited("tokens per minute", seconds(s.timeUntilFree(used + estimatedTokens - tpm, now, windowMs)),
              "rate limit of " + tpm + " tokens per minute reached (" + used + " used in the last minute)");
        }
      }
      s.requests.addLast(now);
      long[] entry = {now, estimatedTokens};
      s.tokens.addLast(entry);
      s.inFlight++;
      return new Granted(new Permit(s, entry));
    }
  }

  private static long seconds(long ms) {
    return Math.max(1, (ms + 999) / 1000);
  }

  private void prune() {
    long cutoff = clock.millis() - windowMs;
    states.entrySet().removeIf(e -> {
      synchronized (e.getValue()) {
        e.getValue().expire(cutoff);
        return e.getValue().idle();
      }
    });
  }

  /** A request in progress: holds a concurrency slot and a token reservation. */
  public static final class Permit implements AutoCloseable {
    private final State state;
    private final long[] entry;
    private boolean closed;

    private Permit(State state, long[] entry) {
      this.state = state;
      this.entry = entry;
    }

    /** Replaces the reservation with the tokens the request really used. */
    public void settle(int actualTokens) {
      synchronized (state) {
        entry[1] = actualTokens;
      }
    }

    @Override
    public void close() {
      synchronized (state) {
        if (!closed) {
          closed = true;
          state.inFlight--;
        }
      }
    }
  }

  private static final class State {
    final ArrayDeque<Long> requests = new ArrayDeque<>();
    final ArrayDeque<long[]> tokens = new ArrayDeque<>(); // {time ms, tokens}
    int inFlight;

    void expire(long cutoff) {
      while (!requests.isEmpty() && requests.peekFirst() <= cutoff) {
        requests.removeFirst();
      }
      while (!tokens.isEmpty() && tokens.peekFirst()[0] <= cutoff) {
        tokens.removeFirst();
      }
    }

    long tokensInWindow() {
      long sum = 0;
      for (long[] t : tokens) {
        sum += t[1];
      }
      return sum;
    }

    /** How long until at least {@code excess} tokens have left the window. */
    long timeUntilFree(long excess, long now, long windowMs) {
      long freed = 0;
      for (Iterator<long[]> it = tokens.iterator(); it.hasNext(); ) {
        long[] t = it.next();
        freed += t[1];
        if (freed >= excess) {
          return t[0] + windowMs - now;
        }
      }
      return windowMs;
    }

    boolean idle() {
      return inFlight == 0 && requests.isEmpty() && tokens.isEmpty();
    }
  }
}
