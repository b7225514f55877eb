package dev.glance.server.http;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.BufferUtil;

/**
 * Notices a client that goes away while its request is being worked on, without writing to it.
 *
 * <p>Jetty does not read an HTTP/1.1 connection while a handler runs, so a closed connection is
 * otherwise only seen at the next write: for a non-streaming generation, only after all of it. Here
 * each watched connection's channel is also registered for reads with one selector of our own;
 * when it becomes readable, one byte is read: end-of-stream means the client closed. Clients do not
 * send on a connection while they wait for its response, except pipelining ones (rare); a byte so
 * read is lost, so that connection is marked to be closed after the response ({@link
 * Watch#connectionSpoiled()}).
 */
public final class ClientWatch implements AutoCloseable {
  private final Selector selector;
  private final Queue<Watch> pending = new ConcurrentLinkedQueue<>();
  private final Thread thread;
  private volatile boolean open = true;

  public ClientWatch() {
    try {
      this.selector = Selector.open();
    } catch (IOException e) {
      throw new IllegalStateException("cannot open a selector: " + e.getMessage(), e);
    }
    this.thread = Thread.ofPlatform().name("glance-client-watch").daemon(true).start(this::loop);
  }

  /**
   * Watches the connection of {@code request}; {@code onGone} runs (on the watcher's thread) once
   * the client has closed it. Close the returned watch before the response is complete.
   */
  public Watch watch(HttpServletRequest request, Runnable onGone) {
    EndPoint endPoint;
    try {
      endPoint = ServletContextRequest.getServletContextRequest(request).getConnectionMetaData()
          .getConnection().getEndPoint();
    } catch (RuntimeException e) {
      return new Watch(null, null, onGone);
    }
    if (!(endPoint.getTransport() instanceof SocketChannel channel)) {
      return new Watch(null, null, onGone);
    }
    Watch w = new Watch(endPoint, channel, onGone);
    pending.add(w);
    selector.wakeup();
    return w;
  }

  private void loop() {
    while (open) {
      try {
        selector.select(1000);
        Watch w;
        while ((w = pending.poll()) != null) {
          w.register(selector);
        }
        for (SelectionKey key : selector.selectedKeys()) {
          ((Watch) key.attachment()).readable(key);
        }
        selector.selectedKeys().clear();
      } catch (IOException | RuntimeException e) {
        // Keep watching the others; a broken registration only loses its own notification.
      }
    }
  }

  @Override
  public void close() {
    open = false;
    selector.wakeup();
    try {
      thread.join(2000);
      selector.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // Nothing left to release.
    }
  }

  /** One watched connection. */
  public static final class Watch implements AutoCloseable {
    private final EndPoint endPoint;
    private final SocketChannel channel;
    private final Runnable onGone;
    private SelectionKey key;
    private boolean closed;
    private boolean gone;
    private boolean spoiled;

    Watch(EndPoint endPoint, SocketChannel channel, Runnable onGone) {
      this.endPoint = endPoint;
      this.channel = channel;
      this.onGone = onGone;
    }

    synchronized void register(Selector selector) {
      if (closed) {
        return;
      }
      try {
        key = channel.register(selector, SelectionKey.OP_READ, this);
      } catch (ClosedChannelException e) {
        markGone();
      }
    }

    synchronized void readable(SelectionKey k) {
      if (closed) {
        k.cancel();
        return;
      }
      try {
        int n = endPoint.fill(BufferUtil.allocate(1));
        if (n < 0) {
          markGone();
        } else if (n > 0) {
          spoiled = true;
        }
      } catch (IOException e) {
        markGone();
      }
      if (gone || spoiled) {
        k.cancel();
      }
    }

    private void markGone() {
      if (!gone) {
        gone = true;
        onGone.run();
      }
    }

    public synchronized boolean clientGone() {
      return gone;
    }

    /** Whether a byte of a pipelined request was consumed: the connection must close afterwards. */
    public synchronized boolean connectionSpoiled() {
      return spoiled;
    }

    @Override
    public synchronized void close() {
      closed = true;
      if (key != null) {
        key.cancel();
      }
    }
  }
}
