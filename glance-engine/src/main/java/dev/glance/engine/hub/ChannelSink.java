package dev.glance.engine.hub;

import dev.glance.engine.GlanceException;
import dev.glance.engine.GlanceException.Download.Reason;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * Writes a response body to a partial blob file as it arrives, hashing it on the way, so a dropped
 * connection loses nothing already received (the next try resumes from the file's size) and the
 * file is never read twice. Refuses bytes beyond the size the hub announced, so a misbehaving
 * server cannot fill the disk.
 */
final class ChannelSink implements HttpResponse.BodySubscriber<Void> {
  private final FileChannel channel;
  private final long limit;
  private final LongConsumer progress;
  private final Supplier<MessageDigest> freshDigest;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private MessageDigest digest;
  private volatile long position;
  private volatile long lastActivity;
  private volatile boolean started;
  private volatile Flow.Subscription subscription;
  private final Path file;
  private volatile long restartFrom = -1;

  /**
   * @param file the partial file, for messages
   * @param channel its channel, positioned at its end
   * @param digest a digest already fed the bytes before the channel's position
   * @param freshDigest a new primed digest, for when the server restarts from byte 0
   * @param limit the file's full size, -1 if unknown
   * @param progress told of every byte written (negative when a restart discards bytes)
   */
  ChannelSink(Path file, FileChannel channel, MessageDigest digest, Supplier<MessageDigest> freshDigest, long limit,
      LongConsumer progress) throws IOException {
    this.file = file;
    this.channel = channel;
    this.digest = digest;
    this.freshDigest = freshDigest;
    this.limit = limit;
    this.progress = progress;
    this.position = channel.position();
    this.lastActivity = System.nanoTime();
  }

  /** The server ignored the Range header and sends the whole file: drop what was there. */
  void restartFromZero(long discarded) {
    restartFrom = discarded;
  }

  boolean started() {
    return started;
  }

  long lastActivityNanos() {
    return lastActivity;
  }

  long position() {
    return position;
  }

  MessageDigest digest() {
    return digest;
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription = s;
    started = true;
    lastActivity = System.nanoTime();
    if (restartFrom >= 0) {
      try {
        channel.truncate(0);
        channel.position(0);
        digest = freshDigest.get();
        position = 0;
        progress.accept(-restartFrom);
      } catch (IOException e) {
        fail(HfCacheLayout.storageFailure(e, file));
        return;
      }
    }
    s.request(1);
  }

  @Override
  public void onNext(List<ByteBuffer> buffers) {
    try {
      for (ByteBuffer b : buffers) {
        int n = b.remaining();
        if (limit >= 0 && position + n > limit) {
          throw new GlanceException.Download(Reason.PROTOCOL, file.getFileName()
              + ": the server sent more than the " + limit + " bytes the hub announced");
        }
        digest.update(b.duplicate());
        while (b.hasRemaining()) {
          channel.write(b);
        }
        position += n;
        progress.accept(n);
      }
      lastActivity = System.nanoTime();
      subscription.request(1);
    } catch (IOException e) {
      // A local write failure: retrying the network would not help.
      fail(HfCacheLayout.storageFailure(e, file));
    } catch (RuntimeException e) {
      fail(e);
    }
  }

  @Override
  public void onError(Throwable t) {
    done.completeExceptionally(t);
  }

  @Override
  public void onComplete() {
    done.complete(null);
  }

  @Override
  public CompletionStage<Void> getBody() {
    return done;
  }

  private void fail(Throwable t) {
    Flow.Subscription s = subscription;
    if (s != null) {
      s.cancel();
    }
    done.completeExceptionally(t);
  }
}
