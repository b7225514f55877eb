package dev.glance.server.security;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
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

  /**
   * Admits one request of {@code principal} under {@code limits}, reserving {@code estimatedTokens}
   * (0 to reserve later with {@link Permit#reserve}, once the request has been read).
   */
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
      Limited overTokens = s.tokenCheck(limits, estimatedTokens, 0, now, windowMs);
      if (overTokens != null) {
        return overTokens;
      }
      s.requests.addLast(now);
      long[] entry = {now, estimatedTokens};
      s.tokens.addLast(entry);
      s.inFlight++;
      return new Granted(new Permit(s, entry, limits, windowMs, clock));
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
    private final KeyLimits limits;
    private final long windowMs;
    private final Clock clock;
    private boolean closed;

    private Permit(State state, long[] entry, KeyLimits limits, long windowMs, Clock clock) {
      this.state = state;
      this.entry = entry;
      this.limits = limits;
      this.windowMs = windowMs;
      this.clock = clock;
    }

    /**
     * Reserves {@code estimatedTokens} in place of the current reservation, if they fit the
     * tokens-per-minute limit beside what the window already holds; otherwise keeps the old
     * reservation and says which limit refused.
     */
    public Optional<Limited> reserve(int estimatedTokens) {
      synchronized (state) {
        long now = clock.millis();
        state.expire(now - windowMs);
        // The request's own entry leaves the window like any other.
        long own = entry[0] > now - windowMs ? entry[1] : 0;
        Limited over = state.tokenCheck(limits, estimatedTokens, own, now, windowMs);
        if (over != null) {
          return Optional.of(over);
        }
        entry[1] = estimatedTokens;
        return Optional.empty();
      }
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

    /**
     * Null when {@code estimated} more tokens fit the tokens-per-minute limit, given that
     * {@code alreadyReserved} of the window's tokens are this request's own reservation (which the
     * new estimate replaces); else the refusal.
     */
    Limited tokenCheck(KeyLimits limits, int estimated, long alreadyReserved, long now, long windowMs) {
      if (limits.tpm().isEmpty()) {
        return null;
      }
      int tpm = limits.tpm().getAsInt();
      if (estimated > tpm) {
        return new Limited("tokens per minute", seconds(windowMs), "this request may use up to "
            + estimated + " tokens (prompt, images and max_tokens), more than the limit of " + tpm
            + " tokens per minute; lower max_tokens or send fewer or smaller images");
      }
      long used = tokensInWindow() - alreadyReserved;
      if (used + estimated > tpm) {
        return new Limited("tokens per minute", seconds(timeUntilFree(used + estimated - tpm, now, windowMs)),
            "rate limit of " + tpm + " tokens per minute reached (" + used + " used in the last minute, this"
                + " request may use up to " + estimated + ")");
      }
      return null;
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
