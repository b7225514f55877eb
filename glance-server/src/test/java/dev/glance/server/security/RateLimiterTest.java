package dev.glance.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import dev.glance.server.ManualClock;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  static KeyLimits limits(Integer rpm, Integer tpm, Integer conc) {
    return new KeyLimits(rpm == null ? OptionalInt.empty() : OptionalInt.of(rpm),
        tpm == null ? OptionalInt.empty() : OptionalInt.of(tpm),
        conc == null ? OptionalInt.empty() : OptionalInt.of(conc), OptionalDouble.empty(), KeyLimits.BudgetPeriod.MONTH);
  }

  @Test
  void requestsPerMinuteHitAndRecoveredAfterTheWindow() {
    ManualClock clock = new ManualClock();
    RateLimiter rl = new RateLimiter(clock, Duration.ofMinutes(1));
    KeyLimits l = limits(3, null, null);
    for (int i = 0; i < 3; i++) {
      ((RateLimiter.Granted) rl.admit("k", l, 10)).permit().close();
      clock.advance(Duration.ofSeconds(10));
    }
    var limited = assertInstanceOf(RateLimiter.Limited.class, rl.admit("k", l, 10));
    assertEquals("requests per minute", limited.limit());
    assertEquals(30, limited.retryAfterSeconds()); // the first request leaves the window at t=60 s
    assertTrue(limited.message().contains("3 requests per minute"), limited.message());
    // Another principal is unaffected.
    assertInstanceOf(RateLimiter.Granted.class, rl.admit("other", l, 10));
    clock.advance(Duration.ofSeconds(30));
    assertInstanceOf(RateLimiter.Granted.class, rl.admit("k", l, 10));
  }

  @Test
  void tokensPerMinuteReservedAtAdmissionAndSettledAtTheEnd() {
    ManualClock clock = new ManualClock();
    RateLimiter rl = new RateLimiter(clock, Duration.ofMinutes(1));
    KeyLimits l = limits(null, 1000, null);
    var a = ((RateLimiter.Granted) rl.admit("k", l, 600)).permit();
    // The reservation counts before the request ends.
    var limited = assertInstanceOf(RateLimiter.Limited.class, rl.admit("k", l, 600));
    assertEquals("tokens per minute", limited.limit());
    a.settle(100);
    a.close();
    // Settled to 100: now 600 more fit.
    var b = assertInstanceOf(RateLimiter.Granted.class, rl.admit("k", l, 600));
    b.permit().settle(600);
    b.permit().close();
    assertInstanceOf(RateLimiter.Limited.class, rl.admit("k", l, 400));
    var tooBig = assertInstanceOf(RateLimiter.Limited.class, rl.admit("fresh", l, 5000));
    assertTrue(tooBig.message().contains("more than the limit"), tooBig.message());
    clock.advance(Duration.ofSeconds(61));
    assertInstanceOf(RateLimiter.Granted.class, rl.admit("k", l, 900));
  }

  @Test
  void concurrentRequests() {
    RateLimiter rl = new RateLimiter(new ManualClock(), Duration.ofMinutes(1));
    KeyLimits l = limits(null, null, 2);
    var a = ((RateLimiter.Granted) rl.admit("k", l, 1)).permit();
    var b = ((RateLimiter.Granted) rl.admit("k", l, 1)).permit();
    var limited = assertInstanceOf(RateLimiter.Limited.class, rl.admit("k", l, 1));
    assertEquals("concurrent requests", limited.limit());
    a.close();
    a.close(); // closing twice releases once
    assertInstanceOf(RateLimiter.Granted.class, rl.admit("k", l, 1));
    assertInstanceOf(RateLimiter.Limited.class, rl.admit("k", l, 1));
    b.close();
  }

  @Test
  void manyThreadsNeverExceedALimit() throws Exception {
    RateLimiter rl = new RateLimiter(new ManualClock(), Duration.ofMinutes(1));
    KeyLimits l = limits(50, 5000, 3);
    AtomicInteger granted = new AtomicInteger();
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 16; t++) {
      threads.add(Thread.ofPlatform().start(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < 200; i++) {
          if (rl.admit("k", l, 40) instanceof RateLimiter.Granted g) {
            granted.incrementAndGet();
            int now = inFlight.incrementAndGet();
            maxInFlight.accumulateAndGet(now, Math::max);
            Thread.onSpinWait();
            inFlight.decrementAndGet();
            g.permit().close();
          }
        }
      }));
    }
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }
    assertTrue(granted.get() <= 50, "granted " + granted.get() + " > rpm 50");
    assertTrue(granted.get() * 40 <= 5000, "tokens over tpm");
    assertTrue(maxInFlight.get() <= 3, "in flight " + maxInFlight.get() + " > 3");
    assertTrue(granted.get() >= 3, "something was granted");
  }
}
