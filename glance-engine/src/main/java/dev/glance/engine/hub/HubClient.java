package dev.glance.engine.hub;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.GlanceException;
import dev.glance.engine.GlanceException.Download.Reason;
import dev.glance.engine.io.Json;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * Speaks the Hugging Face Hub's HTTP protocol, which mirrors ({@code HF_ENDPOINT}) speak too:
 * repository info from {@code /api/models/{repo}/revision/{rev}?blobs=true}, file metadata from a
 * HEAD on {@code /{repo}/resolve/{commit}/{file}} (following only relative redirects, as a renamed
 * repository answers, and stopping at a redirect to a CDN host), and file content by GET with an
 * optional {@code Range}. The token goes only to the hub's own origin, never to a CDN it redirects
 * to. Hub error answers ({@code X-Error-Code}) become {@link GlanceException.Download}s that say
 * what to do; answers worth retrying (5xx, 429, dropped or stalled connections) are thrown as
 * {@link IOException}s for the caller's retry loop.
 */
public final class HubClient implements AutoCloseable {
  private static final int MAX_REDIRECTS = 5;
  private static final int MAX_JSON_BYTES = 64 << 20;
  private static final Duration POLL = Duration.ofMillis(200);

  private final HubSettings settings;
  private final HttpClient http;
  private final String userAgent = "glance/0.1.0; java/" + Runtime.version().feature();

  public HubClient(HubSettings settings) {
    this.settings = settings;
    // HTTP/1.1 on purpose: parallel downloads then get a TCP connection each, as with other hub
    // clients, instead of sharing one HTTP/2 connection's window. Redirects are followed by hand
    // so the token never leaves the hub's origin.
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(settings.metadataTimeout())
        .build();
  }

  public HubSettings settings() {
    return settings;
  }

  /**
   * The commit a revision resolves to and its files with sizes and checksums. Fails fast when the
   * hub cannot be reached at all (nothing to resume yet); retries 5xx answers and dropped
   * connections per the retry policy.
   */
  public RepoInfo repoInfo(HubRepo repo) throws InterruptedException {
    URI uri = URI.create(settings.endpoint() + "/api/models/" + repo.id() + "/revision/"
        + encode(repo.revision()) + "?blobs=true");
    int failures = 0;
    int hops = 0;
    while (true) {
      try {
        HttpResponse<byte[]> r = send(request(uri, "GET").build());
        URI base = uri;
        Optional<URI> next = r.headers().firstValue("location").map(l -> resolve(base, l));
        if (r.statusCode() >= 300 && r.statusCode() < 400 && next.isPresent()
            && sameOrigin(next.get(), settings.endpoint()) && hops++ < MAX_REDIRECTS) {
          uri = next.get(); // a renamed repository
          continue;
        }
        if (r.statusCode() != 200) {
          throw failure(r.statusCode(), r.headers(), repo, null, uri);
        }
        return parseRepoInfo(r.body(), repo, uri);
      } catch (IOException e) {
        failures++;
        if (isConnectFailure(e) || failures >= settings.retry().attempts()) {
          throw unreachable(e);
        }
        Thread.sleep(backoff(e, failures).toMillis());
      }
    }
  }

  /**
   * A small JSON answer, read whole within a deadline (the request timeout covers only the wait
   * for headers) and refused when it announces more than {@link #MAX_JSON_BYTES}.
   */
  private HttpResponse<byte[]> send(HttpRequest request) throws IOException, InterruptedException {
    CompletableFuture<HttpResponse<byte[]>> f = http.sendAsync(request, info -> {
      long declared = info.headers().firstValueAsLong("content-length").orElse(0);
      return declared > MAX_JSON_BYTES
          ? HttpResponse.BodySubscribers.replacing(new byte[0])
          : HttpResponse.BodySubscribers.ofByteArray();
    });
    try {
      HttpResponse<byte[]> r = f.get(settings.metadataTimeout().toMillis() * 3, TimeUnit.MILLISECONDS);
      if (r.statusCode() == 200 && r.headers().firstValueAsLong("content-length").orElse(0) > MAX_JSON_BYTES) {
        throw new GlanceException.Download(Reason.PROTOCOL, request.uri() + ": repository info is over "
            + (MAX_JSON_BYTES >> 20) + " MB");
      }
      return r;
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new IOException("no complete answer from " + request.uri().getHost() + " within "
          + settings.metadataTimeout().multipliedBy(3).toSeconds() + " s", e);
    } catch (InterruptedException e) {
      f.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    }
  }

  /**
   * HEAD on the file's resolve URL: its blob id (ETag), size, commit and download location.
   *
   * @throws IOException a transient failure worth retrying
   */
  public FileMetadata metadata(HubRepo repo, String commit, String path)
      throws IOException, InterruptedException {
    URI uri = resolveUri(repo, commit, path);
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      HttpResponse<Void> r = http.send(request(uri, "HEAD").header("Accept-Encoding", "identity").build(),
          HttpResponse.BodyHandlers.discarding());
      int status = r.statusCode();
      HttpHeaders h = r.headers();
      Optional<String> location = h.firstValue("location");
      if (status >= 300 && status < 400 && location.isPresent()) {
        URI next = resolve(uri, location.get());
        if (!location.get().contains("://")) {
          uri = next; // a renamed repository: the hub points at its new name on the same host
          continue;
        }
        return fileMetadata(h, repo, commit, path, next);
      }
      if (status == 200) {
        return fileMetadata(h, repo, commit, path, uri);
      }
      throw failure(status, h, repo, path, uri);
    }
    throw new GlanceException.Download(Reason.PROTOCOL, uri + ": more than " + MAX_REDIRECTS + " redirects");
  }

  /**
   * GETs {@code location} from byte {@code offset} into {@code sink}, following redirects (the
   * token only to the hub's origin), until the body ends. Returns the HTTP status that delivered
   * the body: 206 when the range was honoured, 200 when the server sent the whole file (the sink
   * then restarted from byte 0).
   *
   * @throws IOException a transient failure (dropped, stalled, 5xx): retry from the sink's size
   */
  public int fetch(URI location, long offset, ChannelSink sink, HubRepo repo, String path)
      throws IOException, InterruptedException {
    URI uri = location;
    for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
      HttpRequest.Builder b = request(uri, "GET").header("Accept-Encoding", "identity");
      if (offset > 0) {
        b.header("Range", "bytes=" + offset + "-");
      }
      ResponseHead head = new ResponseHead();
      CompletableFuture<HttpResponse<Void>> future = http.sendAsync(b.build(), info -> {
        head.status = info.statusCode();
        head.headers = info.headers();
        if (info.statusCode() == 206 && contentRangeStart(info.headers()).equals(OptionalLong.of(offset))) {
          return sink;
        }
        if (info.statusCode() == 200) {
          if (offset > 0) {
            sink.restartFromZero(offset); // the server ignored Range
          }
          return sink;
        }
        return HttpResponse.BodySubscribers.discarding();
      });
      await(future, sink, uri);
      int status = head.status;
      if (status == 200 || (status == 206 && contentRangeStart(head.headers).equals(OptionalLong.of(offset)))) {
        return status;
      }
      if (status == 206) {
        throw new GlanceException.Download(Reason.PROTOCOL, uri + ": asked for bytes from " + offset
            + ", got Content-Range " + head.headers.firstValue("content-range").orElse("(none)"));
      }
      Optional<String> next = head.headers.firstValue("location");
      if (status >= 300 && status < 400 && next.isPresent()) {
        uri = resolve(uri, next.get());
        continue;
      }
      if (status == 416) {
        throw new RangeNotSatisfiable(uri, offset);
      }
      throw failure(status, head.headers, repo, path, uri);
    }
    throw new GlanceException.Download(Reason.PROTOCOL, location + ": more than " + MAX_REDIRECTS + " redirects");
  }

  /** Turns a network failure into the message a person needs. */
  GlanceException.Download unreachable(IOException e) {
    return new GlanceException.Download(Reason.UNREACHABLE, "cannot reach " + settings.endpoint()
        + ": " + describe(e) + " (check the network; where the hub is blocked set HF_ENDPOINT to a "
        + "mirror, e.g. https://hf-mirror.com; HF_HUB_OFFLINE=1 uses the local cache only)", e);
  }

  /** The wait before the next try: the server's Retry-After if it sent one, else the policy's. */
  Duration backoff(IOException e, int failures) {
    Duration d = settings.retry().backoff(failures);
    if (e instanceof RetryableStatus s && s.retryAfter.isPresent()) {
      Duration ra = s.retryAfter.get();
      return ra.compareTo(settings.retry().maxBackoff()) > 0 ? settings.retry().maxBackoff() : ra;
    }
    return d;
  }

  static boolean isConnectFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || t instanceof UnresolvedAddressException
          || t instanceof HttpConnectTimeoutException || t instanceof java.net.UnknownHostException) {
        return true;
      }
    }
    return false;
  }

  static String describe(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
        return "unknown host";
      }
      if (t instanceof HttpConnectTimeoutException) {
        return "connection timed out";
      }
      if (t instanceof SSLException) {
        return "TLS failure: " + t.getMessage();
      }
      if (t instanceof java.io.EOFException) {
        return "connection dropped" + (t.getMessage() == null ? "" : " (" + t.getMessage() + ")");
      }
    }
    boolean connect = false;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException) {
        connect = true;
        if (t.getMessage() != null && !t.getMessage().isBlank()) {
          return t.getMessage().toLowerCase(Locale.ROOT);
        }
      }
    }
    if (connect) {
      // Java's HTTP client reports a refused connection without a message.
      return "could not connect (connection refused or no route to host)";
    }
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }

  private void await(CompletableFuture<HttpResponse<Void>> future, ChannelSink sink, URI uri)
      throws IOException, InterruptedException {
    long stallNanos = settings.readTimeout().toNanos();
    try {
      while (true) {
        try {
          future.get(POLL.toMillis(), TimeUnit.MILLISECONDS);
          return;
        } catch (TimeoutException e) {
          if (sink.started() && System.nanoTime() - sink.lastActivityNanos() > stallNanos) {
            future.cancel(true);
            throw new IOException("no data from " + uri.getHost() + " for "
                + settings.readTimeout().toSeconds() + " s");
          }
        }
      }
    } catch (InterruptedException e) {
      future.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof GlanceException g) {
        throw g;
      }
      if (c instanceof HttpTimeoutException t) {
        throw new IOException("no answer from " + uri.getHost() + " within "
            + settings.metadataTimeout().toSeconds() + " s", t);
      }
      if (c instanceof IOException io) {
        throw io;
      }
      throw new IOException(c);
    }
  }

  private FileMetadata fileMetadata(HttpHeaders h, HubRepo repo, String commit, String path, URI location) {
    String etag = h.firstValue("x-linked-etag").or(() -> h.firstValue("etag")).map(HubClient::normaliseEtag)
        .orElseThrow(() -> new GlanceException.Download(Reason.PROTOCOL, settings.endpoint() + " sent no ETag for "
            + path + " of " + repo.id() + " (is HF_ENDPOINT a Hugging Face hub or mirror?)"));
    long size = h.firstValue("x-linked-size").or(() -> h.firstValue("content-length"))
        .map(HubClient::parseLong).orElse(-1L);
    String served = h.firstValue("x-repo-commit").orElse(commit);
    return new FileMetadata(served, etag, size, location);
  }

  private RepoInfo parseRepoInfo(byte[] bytes, HubRepo repo, URI uri) {
    JsonNode root;
    try {
      root = Json.mapper().readTree(bytes);
    } catch (IOException e) {
      throw new GlanceException.Download(Reason.PROTOCOL, uri + ": repository info is not JSON"
          + " (is HF_ENDPOINT a Hugging Face hub or mirror?)", e);
    }
    String sha = root.path("sha").asText("");
    if (!HfCacheLayout.isSafeName(sha)) {
      throw new GlanceException.Download(Reason.PROTOCOL, uri + ": repository info has no commit sha");
    }
    Map<String, RepoFile> files = new HashMap<>();
    for (JsonNode s : root.path("siblings")) {
      String name = s.path("rfilename").asText("");
      if (name.isEmpty()) {
        continue;
      }
      JsonNode lfs = s.path("lfs");
      Optional<Checksum> checksum;
      long size;
      if (lfs.isObject()) {
        checksum = Checksum.Sha256.parse(lfs.path("sha256").asText(""));
        size = lfs.path("size").asLong(s.path("size").asLong(-1));
      } else {
        checksum = Checksum.GitBlobSha1.parse(s.path("blobId").asText(""));
        size = s.path("size").asLong(-1);
      }
      files.put(name, new RepoFile(name, size, checksum));
    }
    return new RepoInfo(sha, files);
  }

  /** Maps an error answer to what a person should do; throws the ones worth retrying. */
  private GlanceException.Download failure(int status, HttpHeaders h, HubRepo repo, String path, URI uri)
      throws RetryableStatus {
    String code = h.firstValue("x-error-code").orElse("");
    String serverMessage = h.firstValue("x-error-message").map(m -> " (hub: " + m + ")").orElse("");
    boolean hub = sameOrigin(uri, settings.endpoint());
    boolean token = settings.token().isPresent();
    switch (code) {
      case "GatedRepo" -> {
        return gated(repo, serverMessage);
      }
      case "RevisionNotFound" -> {
        return new GlanceException.Download(Reason.NOT_FOUND,
            "revision '" + repo.revision() + "' not found in " + repo.id());
      }
      case "EntryNotFound" -> {
        return new GlanceException.Download(Reason.NOT_FOUND, "file " + path + " not found in " + repo);
      }
      case "RepoNotFound" -> {
        return notFound(repo);
      }
      default -> {
        // No error code (older mirrors): fall back on the status.
      }
    }
    if (status == 429 || status >= 500 || (!hub && (status == 401 || status == 403))) {
      // A CDN's 401/403 is an expired signed URL: a new HEAD on the hub gives a fresh one.
      throw new RetryableStatus(status, uri, h);
    }
    if (status == 403 || (status == 401 && token)) {
      return gated(repo, serverMessage);
    }
    if (status == 401 || (status == 404 && path == null)) {
      // The hub answers 401 both for private repositories and, to not reveal them, unknown ones.
      return notFound(repo);
    }
    if (status == 404) {
      return new GlanceException.Download(Reason.NOT_FOUND, "file " + path + " not found in " + repo);
    }
    return new GlanceException.Download(Reason.PROTOCOL,
        "unexpected HTTP " + status + " from " + stripQuery(uri) + serverMessage);
  }

  private GlanceException.Download gated(HubRepo repo, String serverMessage) {
    String page = settings.endpoint() + "/" + repo.id();
    String what = repo.id() + " is a gated repository";
    return new GlanceException.Download(Reason.GATED, settings.token().isPresent()
        ? what + " and the token in HF_TOKEN has no access to it: accept its terms at " + page
            + " with the token's account" + serverMessage
        : what + ": accept its terms at " + page + ", then set HF_TOKEN to an access token of that"
            + " account" + serverMessage);
  }

  private GlanceException.Download notFound(HubRepo repo) {
    return new GlanceException.Download(Reason.NOT_FOUND, "repository not found: " + repo.id()
        + " on " + settings.endpoint()
        + (settings.token().isPresent() ? "" : " (if it is private, set HF_TOKEN)"));
  }

  private HttpRequest.Builder request(URI uri, String method) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri)
        .method(method, HttpRequest.BodyPublishers.noBody())
        .timeout(settings.metadataTimeout())
        .header("User-Agent", userAgent);
    if (settings.token().isPresent() && sameOrigin(uri, settings.endpoint())) {
      b.header("Authorization", "Bearer " + settings.token().get());
    }
    return b;
  }

  URI resolveUri(HubRepo repo, String commit, String path) {
    StringBuilder p = new StringBuilder();
    for (String part : HfCacheLayout.checkedRelativePath(path).split("/")) {
      p.append('/').append(encode(part));
    }
    return URI.create(settings.endpoint() + "/" + repo.id() + "/resolve/" + encode(commit) + p);
  }

  private static URI resolve(URI base, String location) {
    try {
      return base.resolve(location);
    } catch (IllegalArgumentException e) {
      throw new GlanceException.Download(Reason.PROTOCOL, stripQuery(base) + " redirected to a malformed URL", e);
    }
  }

  /** Same scheme, host and port: only then may the request carry the token. */
  static boolean sameOrigin(URI a, URI b) {
    return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
        && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
  }

  private static int port(URI u) {
    return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  static String normaliseEtag(String etag) {
    String e = etag.strip();
    if (e.startsWith("W/")) {
      e = e.substring(2);
    }
    if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
      e = e.substring(1, e.length() - 1);
    }
    return e;
  }

  private static OptionalLong contentRangeStart(HttpHeaders h) {
    // "bytes START-END/TOTAL"
    Optional<String> v = h.firstValue("content-range");
    if (v.isEmpty() || !v.get().startsWith("bytes ")) {
      return OptionalLong.empty();
    }
    String r = v.get().substring(6);
    int dash = r.indexOf('-');
    if (dash <= 0) {
      return OptionalLong.empty();
    }
    long start = parseLong(r.substring(0, dash));
    return start < 0 ? OptionalLong.empty() : OptionalLong.of(start);
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String stripQuery(URI u) {
    // CDN URLs carry signatures in the query: keep them out of messages.
    String s = u.toString();
    int q = s.indexOf('?');
    return q < 0 ? s : s.substring(0, q);
  }

  @Override
  public void close() {
    http.close();
  }

  /** Status and headers of a GET, captured when they arrive. */
  private static final class ResponseHead {
    volatile int status;
    volatile HttpHeaders headers;
  }

  /** 416: the partial file is longer than what the server has; it must be started over. */
  static final class RangeNotSatisfiable extends IOException {
    private static final long serialVersionUID = 1L;

    RangeNotSatisfiable(URI uri, long offset) {
      super("the server has no bytes from " + offset + " on (" + stripQuery(uri) + ")");
    }
  }

  /** A 5xx or 429 answer: the caller waits (Retry-After if given) and tries again. */
  static final class RetryableStatus extends IOException {
    private static final long serialVersionUID = 1L;
    final transient Optional<Duration> retryAfter;

    RetryableStatus(int status, URI uri, HttpHeaders h) {
      super("HTTP " + status + " from " + stripQuery(uri));
      long s = h.firstValue("retry-after").map(HubClient::parseLong).orElse(-1L);
      this.retryAfter = s >= 0 ? Optional.of(Duration.ofSeconds(s)) : Optional.empty();
    }
  }
}
