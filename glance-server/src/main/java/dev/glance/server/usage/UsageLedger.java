package dev.glance.server.usage;

import dev.glance.engine.GlanceException;
import dev.glance.server.state.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Writes usage records off the request path, in batches (group commit): one writer thread takes
 * whatever has queued, inserts it in one transaction and completes each record's future when the
 * transaction is durable. A caller that waits for its future before answering the client gets
 * "one row per answered request" even if the process is killed; the request id is the primary
 * key and inserts skip existing ids, so a retried write never doubles a row.
 */
public final class UsageLedger implements AutoCloseable {
  private static final int MAX_BATCH = 256;
  private static final String INSERT_SQL = "INSERT INTO usage_records (request_id, ts_ms, key_id, client_ip, route,"
      + " model, image_count, image_hashes, text_tokens, image_tokens, cached_tokens, completion_tokens, queue_ms,"
      + " vision_ms, prefill_ms, decode_ms, busy_ms, latency_ms, status, finish_reason, cost, reference_cost, currency)"
      + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      + " ON CONFLICT (request_id) DO NOTHING";

  private record Pending(UsageRecord record, CompletableFuture<Void> done) {}

  private final Database db;
  private final BlockingQueue<Pending> queue;
  private final Thread writer;
  private volatile boolean closing;

  public UsageLedger(Database db, int capacity) {
    this.db = db;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.writer = Thread.ofPlatform().name("glance-ledger").daemon(true).start(this::run);
  }

  /** Queues a record; the future completes once it is committed (or fails with the reason). */
  public CompletableFuture<Void> record(UsageRecord r) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (closing) {
      done.completeExceptionally(new GlanceException.Storage("usage ledger is closed", null));
    } else if (!queue.offer(new Pending(r, done))) {
      done.completeExceptionally(new GlanceException.Storage("usage ledger queue is full", null));
    }
    return done;
  }

  /** Records and waits for the commit; throws Storage when it cannot be written in time. */
  public void recordAndWait(UsageRecord r, Duration timeout) {
    try {
      record(r).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof GlanceException g ? g
          : new GlanceException.Storage("usage ledger: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new GlanceException.Storage("usage ledger write took longer than " + timeout, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GlanceException.Storage("interrupted while writing usage", e);
    }
  }

  private void run() {
    List<Pending> batch = new ArrayList<>(MAX_BATCH);
    while (!(closing && queue.isEmpty())) {
      try {
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, MAX_BATCH - 1);
        write(batch);
        batch.forEach(p -> p.done().complete(null));
      } catch (InterruptedException e) {
        closing = true;
      } catch (SQLException | RuntimeException e) {
        GlanceException failure = new GlanceException.Storage("usage ledger: " + e.getMessage(), e);
        batch.forEach(p -> p.done().completeExceptionally(failure));
      }
      batch.clear();
    }
  }

  private void write(List<Pending> batch) throws SQLException {
    try (Connection c = db.connection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(INSERT_SQL)) {
        for (Pending p : batch) {
          bind(ps, p.record());
          ps.addBatch();
        }
        ps.executeBatch();
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    }
  }

  private static void bind(PreparedStatement ps, UsageRecord r) throws SQLException {
    int i = 1;
    ps.setString(i++, r.requestId());
    ps.setLong(i++, r.time().toEpochMilli());
    ps.setString(i++, r.keyId());
    ps.setString(i++, r.clientIp());
    ps.setString(i++, r.route());
    ps.setString(i++, r.model());
    ps.setInt(i++, r.imageCount());
    ps.setString(i++, r.imageHashes());
    ps.setInt(i++, r.textTokens());
    ps.setInt(i++, r.imageTokens());
    ps.setInt(i++, r.cachedTokens());
    ps.setInt(i++, r.completionTokens());
    ps.setDouble(i++, r.queueMs());
    ps.setDouble(i++, r.visionMs());
    ps.setDouble(i++, r.prefillMs());
    ps.setDouble(i++, r.decodeMs());
    ps.setDouble(i++, r.busyMs());
    ps.setDouble(i++, r.latencyMs());
    ps.setInt(i++, r.status());
    ps.setString(i++, r.finishReason());
    ps.setDouble(i++, r.cost());
    ps.setDouble(i++, r.referenceCost());
    ps.setString(i, r.currency());
  }

  /** Stops taking records, writes what is queued, and stops the writer. */
  @Override
  public void close() {
    closing = true;
    try {
      writer.join(Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
