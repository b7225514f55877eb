package dev.glance.server.fetch;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Fetches http(s) image URLs for the chat API, defending the server's network from its clients
 * (SSRF): every address a connection is about to use is checked by the {@link AddressPolicy} in
 * the client's own resolver, so the address checked is the address connected to (no DNS
 * rebinding between check and use); redirects are followed by hand, at most {@link
 * #MAX_REDIRECTS}, each target checked the same way; the whole fetch has one deadline; and the body
 * is capped, an over-long Content-Length refused before the body is read.
 */
public final class ImageFetcher implements AutoCloseable {
  public static final int MAX_REDIRECTS = 5;

  private final HttpClient client;
  private final AddressPolicy policy;
  private final Duration timeout;
  private final int maxBytes;

  public ImageFetcher(AddressPolicy policy, Duration timeout, long maxBytes) {
    this.policy = policy;
    this.timeout = timeout;
    this.maxBytes = (int) Math.min(maxBytes, Integer.MAX_VALUE - 8);
    this.client = new HttpClient();
    QueuedThreadPool pool = new QueuedThreadPool(16, 2);
    pool.setName("glance-fetch");
    pool.setDaemon(true);
    client.setExecutor(pool);
    client.setFollowRedirects(false);
    client.setConnectTimeout(timeout.toMillis());
    client.setIdleTimeout(timeout.toMillis());
    client.setUserAgentField(new HttpField(HttpHeader.USER_AGENT, "glance-image-fetcher"));
    client.setSocketAddressResolver(new CheckingResolver());
    try {
      client.start();
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the image fetcher: " + e.getMessage(), e);
    }
  }

  /**
   * The bytes at {@code url}.
   *
   * @throws FetchException saying why not
   */
  public byte[] fetch(URI url) {
    long deadline = System.nanoTime() + timeout.toNanos();
    URI current = url;
    for (int hop = 0; ; hop++) {
      checkScheme(current);
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw timedOut(url);
      }
      Request request = client.newRequest(current).timeout(left, TimeUnit.NANOSECONDS)
          .headers(h -> h.put(HttpHeader.ACCEPT, "image/*"));
      ContentResponse response;
      try {
        response = new CompletableResponseListener(request, maxBytes).send()
            .get(left + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new FetchException("fetching " + shown(url) + " was interrupted", false);
      } catch (TimeoutException e) {
        request.abort(e);
        throw timedOut(url);
      } catch (ExecutionException e) {
        throw failure(url, current, e.getCause());
      }
      int status = response.getStatus();
      if (status >= 300 && status < 400 && response.getHeaders().get(HttpHeader.LOCATION) != null) {
        if (hop >= MAX_REDIRECTS) {
          throw new FetchException("fetching " + shown(url) + " took more than " + MAX_REDIRECTS
              + " redirects", false);
        }
        try {
          current = current.resolve(response.getHeaders().get(HttpHeader.LOCATION).strip());
        } catch (IllegalArgumentException e) {
          throw new FetchException("fetching " + shown(url) + " redirected to an invalid URL", false);
        }
        continue;
      }
      if (status != 200) {
        throw new FetchException("fetching " + shown(url) + " returned HTTP " + status, false);
      }
      return response.getContent();
    }
  }

  private static void checkScheme(URI uri) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new FetchException("image URLs must be http or https; " + shown(uri) + " is not", false);
    }
    if (uri.getHost() == null) {
      throw new FetchException("image URL " + shown(uri) + " has no host", false);
    }
  }

  private FetchException failure(URI original, URI current, Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof FetchException f) {
        return f;
      }
      if (t instanceof TimeoutException) {
        return timedOut(original);
      }
      String m = String.valueOf(t.getMessage());
      // Jetty's buffering listener reports an over-long body so ("Buffering capacity N exceeded").
      if (t instanceof IllegalArgumentException && m.contains("capacity") && m.contains("exceeded")) {
        return new FetchException("the image at " + shown(original) + " is larger than " + maxBytes
            + " bytes (--max-image-bytes)", true);
      }
    }
    String detail = cause == null ? "unknown error" : cause.getClass().getSimpleName()
        + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
    return new FetchException("fetching " + shown(current) + " failed: " + detail, false);
  }

  private FetchException timedOut(URI url) {
    return new FetchException("fetching " + shown(url) + " took longer than " + timeout.toSeconds()
        + " s (--fetch-timeout)", false);
  }

  /** A URL for messages: scheme, host and port only, so query strings with secrets stay out of logs. */
  static String shown(URI uri) {
    return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "") + "/...";
  }

  @Override
  public void close() {
    try {
      client.stop();
    } catch (Exception e) {
      // Stopping only releases sockets and threads; nothing a caller could do about a failure.
    }
  }

  /** Resolves names and checks every address before Jetty connects to any of them. */
  private final class CheckingResolver implements SocketAddressResolver {
    @Override
    public void resolve(String host, int port, Map<String, Object> context,
        Promise<List<InetSocketAddress>> promise) {
      // Jetty calls this on its own threads; a blocking lookup is acceptable for a few images.
      try {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        InetAddress[] addresses = InetAddress.getAllByName(bare);
        boolean hostAllowed = policy.hostAllowed(bare);
        List<InetSocketAddress> out = new ArrayList<>(addresses.length);
        for (InetAddress a : addresses) {
          Optional<String> why = hostAllowed ? Optional.empty() : policy.refusal(a);
          if (why.isPresent()) {
            promise.failed(new FetchException("image URL host " + host + " is " + why.get() + " ("
                + a.getHostAddress() + "), which the server does not fetch from; --fetch-allow can permit it",
                false));
            return;
          }
          out.add(new InetSocketAddress(a, port));
        }
        promise.succeeded(out);
      } catch (UnknownHostException e) {
        promise.failed(new FetchException("image URL host " + host + " could not be resolved", false));
      } catch (RuntimeException e) {
        promise.failed(e);
      }
    }
  }
}
