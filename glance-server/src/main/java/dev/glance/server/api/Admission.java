package dev.glance.server.api;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.server.log.RequestTrace;
import dev.glance.server.security.AccessControl;
import dev.glance.server.usage.UsageMeter;
import dev.glance.server.usage.UsageRecord;

/**
 * One inference request that access control let in: its claim on the caller's rate limits, and
 * its one row in the usage ledger. The route reserves the request's token estimate once the body
 * is parsed ({@link #reserve}) and records the outcome before it completes the response ({@link
 * #record}); closing settles the reservation to the tokens really used and frees the concurrency
 * slot. Used by the one thread serving the request.
 */
public final class Admission implements AutoCloseable {
  private final AccessControl access;
  private final AccessControl.Admitted admitted;
  private final UsageMeter meter;
  private final RequestTrace trace;
  private boolean refused;
  private boolean recorded;

  public Admission(AccessControl access, AccessControl.Admitted admitted, UsageMeter meter, RequestTrace trace) {
    this.access = access;
    this.admitted = admitted;
    this.meter = meter;
    this.trace = trace;
  }

  /** Reserves the request's token estimate; throws 429 when it does not fit the tokens-per-minute limit. */
  public void reserve(int estimatedTokens) {
    var refusal = access.reserve(admitted, estimatedTokens);
    if (refusal.isPresent()) {
      refused = true;
      throw ErrorMapper.refused(refusal.get());
    }
  }

  /**
   * Writes the request's ledger row with {@code status} and waits until it is durable; returns it
   * (with its cost). Only the first call writes: a request has one row, whatever happens after.
   * Throws Storage when the ledger cannot be written in time; the request is then not answered
   * as a success.
   */
  public UsageRecord record(int status) {
    if (recorded) {
      throw new IllegalStateException("request " + trace.id() + " is already in the usage ledger");
    }
    recorded = true;
    return meter.record(new UsageMeter.Ending(trace.id(), trace.arrived(), trace.keyId(), trace.client(),
        trace.route(), trace.model(), trace.result(), trace.queueMillis(), trace.elapsedMillis(), status));
  }

  /**
   * Whether the request still needs its ledger row: not yet written, and not refused by a rate
   * limit (refusals by access control are not usage; the request log has them).
   */
  public boolean needsRecord() {
    return !recorded && !refused;
  }

  /** The {@code cost} object of a response's usage: the amount charged, its currency, and the reference price. */
  public static ObjectNode costJson(UsageRecord r) {
    ObjectNode c = JsonNodeFactory.instance.objectNode();
    c.put("amount", r.cost());
    c.put("currency", r.currency());
    c.put("reference_amount", r.referenceCost());
    c.put("busy_ms", Math.round(r.busyMs() * 1000) / 1000.0);
    return c;
  }

  @Override
  public void close() {
    var used = trace.result();
    admitted.permit().settle(used.map(r -> r.promptTokens() + r.completionTokens()).orElse(0));
    admitted.permit().close();
  }
}
