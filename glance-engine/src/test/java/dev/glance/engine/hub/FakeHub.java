package dev.glance.engine.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A local stand-in for the Hugging Face Hub on 127.0.0.1, speaking its protocol: repository info
 * ({@code /api/models/{repo}/revision/{rev}?blobs=true} with sizes, git blob ids and LFS sha256),
 * resolve URLs answering HEAD and GET with {@code X-Repo-Commit}, {@code ETag}/{@code X-Linked-Etag},
 * {@code X-Linked-Size}, LFS files redirected (302) to a second server on another port that plays
 * the CDN, Range requests (206 + Content-Range), {@code X-Error-Code} errors and gated repositories.
 * Faults are injected per file: a connection dropped after some bytes, a stall, corrupted bytes, a
 * CDN that ignores Range. Every request is logged for the tests to inspect.
 */
public final class FakeHub implements AutoCloseable {

  /** One request as the servers saw it. */
  public record Request(String server, String method, String path, String file, Optional<String> range,
      boolean authorized, long bytesSent) {}

  /** A repository: its commit, files (path to content) and which of them are LFS. */
  public record Repo(String commit, Map<String, byte[]> files, Set<String> lfs, Optional<String> gatedToken) {}

  private final HttpServer hub;
  private final HttpServer cdn;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final Map<String, Repo> repos = new ConcurrentHashMap<>();
  private final Map<String, Map<String, String>> refs = new ConcurrentHashMap<>();
  private final List<Request> log = new ArrayList<>();
  private final List<String> arrivals = new ArrayList<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Set by a handler that stalls on purpose: it stops counting as in flight before it sleeps. */
  private final ThreadLocal<Boolean> released = ThreadLocal.withInitial(() -> false);
  private final Map<String, Long> dropAfter = new ConcurrentHashMap<>();
  private final Map<String, Long> stallAfter = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> corruptions = new ConcurrentHashMap<>();
  private final Map<String, String> renamed = new ConcurrentHashMap<>();
  private final AtomicInteger apiFailures = new AtomicInteger();
  private volatile int apiFailureStatus;
  private volatile boolean ignoreRange;
  private volatile long stallMillis;

  public FakeHub() throws IOException {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    hub = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
    cdn = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
    hub.setExecutor(executor);
    cdn.setExecutor(executor);
    hub.createContext("/", this::hub);
    cdn.createContext("/", this::cdn);
    hub.start();
    cdn.start();
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
  }

  public URI cdnBase() {
    return URI.create("http://127.0.0.1:" + cdn.getAddress().getPort());
  }

  /** The files of checkpoint directory {@code dir}, without the fixture's expected.* reference outputs. */
  public static Map<String, byte[]> filesOf(Path dir) throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : list.sorted().toList()) {
        String name = p.getFileName().toString();
        if (!name.startsWith("expected.")) {
          files.put(name, Files.readAllBytes(p));
        }
      }
    }
    return files;
  }

  /** Serves {@code files} as repository {@code id}, branch main; gated when a token is given. */
  public void addRepo(String id, Map<String, byte[]> files, Optional<String> gatedToken) {
    String commit = sha1Hex((id + files.keySet()).getBytes(StandardCharsets.UTF_8));
    Set<String> lfs = ConcurrentHashMap.newKeySet();
    for (String name : files.keySet()) {
      if (name.endsWith(".safetensors") || name.equals("tokenizer.json") || name.endsWith(".bin")) {
        lfs.add(name);
      }
    }
    repos.put(id, new Repo(commit, Map.copyOf(files), lfs, gatedToken));
    refs.computeIfAbsent(id, k -> new ConcurrentHashMap<>()).put("main", commit);
  }

  public Repo repo(String id) {
    return repos.get(id);
  }

  /** The next GET of {@code file} sends this many bytes, then the connection drops. */
  public void dropOnce(String file, long afterBytes) {
    dropAfter.put(file, afterBytes);
  }

  /** The next GET of {@code file} sends this many bytes, then sends nothing for {@code millis}. */
  public void stallOnce(String file, long afterBytes, long millis) {
    stallMillis = millis;
    stallAfter.put(file, afterBytes);
  }

  /** The next {@code times} GETs of {@code file} serve it with one byte changed. */
  public void corrupt(String file, int times) {
    corruptions.put(file, new AtomicInteger(times));
  }

  /** {@code oldId} was renamed to {@code newId}: its URLs redirect (307, relative) to the new name. */
  public void rename(String oldId, String newId) {
    renamed.put(oldId, newId);
  }

  /** The next {@code times} repository-info requests fail with {@code status}. */
  public void failApi(int status, int times) {
    apiFailureStatus = status;
    apiFailures.set(times);
  }

  /** The CDN answers Range requests with the whole file (200), as some servers do. */
  public void ignoreRange(boolean value) {
    ignoreRange = value;
  }

  /**
   * Every answered request, in order. Waits (up to 5 s) for answers still being written: a server
   * thread logs after its last write, which the client may have read already.
   */
  public List<Request> requests() {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      sleep(5);
    }
    synchronized (this) {
      return List.copyOf(log);
    }
  }

  public synchronized void clearLog() {
    log.clear();
    arrivals.clear();
  }

  /**
   * "METHOD path" of every request as it arrived, before any answer: unlike {@link #requests()}
   * (logged when the answer is done) it is complete the moment the client has sent.
   */
  public synchronized List<String> arrivals() {
    return List.copyOf(arrivals);
  }

  private synchronized void arrived(HttpExchange ex) {
    inFlight.incrementAndGet();
    released.set(false);
    arrivals.add(ex.getRequestMethod() + " " + URLDecoder.decode(ex.getRequestURI().getRawPath(), StandardCharsets.UTF_8));
  }

  /** Requests for repository file {@code file} (on either server). */
  public List<Request> requestsFor(String file) {
    return requests().stream().filter(r -> r.file().equals(file)).toList();
  }

  private synchronized void record(Request r) {
    log.add(r);
  }

  private void hub(HttpExchange ex) throws IOException {
    arrived(ex);
    try {
      answerHub(ex);
    } finally {
      if (!released.get()) {
        inFlight.decrementAndGet();
      }
    }
  }

  private void answerHub(HttpExchange ex) throws IOException {
    try (ex) {
      String path = URLDecoder.decode(ex.getRequestURI().getRawPath(), StandardCharsets.UTF_8);
      if (path.startsWith("/api/models/")) {
        api(ex, path.substring("/api/models/".length()));
      } else {
        resolve(ex, path);
      }
    } catch (RuntimeException e) {
      e.printStackTrace();
      throw e;
    }
  }

  // /api/models/{org}/{name}/revision/{rev}
  private void api(HttpExchange ex, String rest) throws IOException {
    String[] p = rest.split("/", 4);
    log(ex, "hub", 0);
    if (p.length < 4 || !p[2].equals("revision")) {
      error(ex, 404, null, "Not found");
      return;
    }
    String id = p[0] + "/" + p[1];
    if (apiFailures.getAndDecrement() > 0) {
      ex.getResponseHeaders().set("Retry-After", "0");
      error(ex, apiFailureStatus, null, "Service unavailable");
      return;
    }
    if (renamed.containsKey(id)) {
      ex.getResponseHeaders().set("Location", "/api/models/" + renamed.get(id) + "/revision/" + p[3]
          + "?" + ex.getRequestURI().getRawQuery());
      ex.sendResponseHeaders(307, -1);
      return;
    }
    Repo repo = repos.get(id);
    if (repo == null) {
      error(ex, 404, "RepoNotFound", "Repository not found");
      return;
    }
    String commit = commitFor(id, p[3]);
    if (commit == null) {
      error(ex, 404, "RevisionNotFound", "Invalid rev id: " + p[3]);
      return;
    }
    // The hub lists gated repositories to anyone; their files need a token.
    ObjectMapper m = new ObjectMapper();
    ObjectNode root = m.createObjectNode();
    root.put("id", id);
    root.put("sha", commit);
    root.put("gated", repo.gatedToken().isPresent() ? "manual" : "false");
    ArrayNode siblings = root.putArray("siblings");
    for (var e : repo.files().entrySet()) {
      ObjectNode s = siblings.addObject();
      s.put("rfilename", e.getKey());
      if (repo.lfs().contains(e.getKey())) {
        byte[] pointer = pointer(e.getValue());
        s.put("blobId", gitBlobId(pointer));
        s.put("size", e.getValue().length);
        ObjectNode lfs = s.putObject("lfs");
        lfs.put("sha256", sha(e.getValue()));
        lfs.put("size", e.getValue().length);
        lfs.put("pointerSize", pointer.length);
      } else {
        s.put("blobId", gitBlobId(e.getValue()));
        s.put("size", e.getValue().length);
      }
    }
    byte[] body = m.writeValueAsBytes(root);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(200, body.length);
    ex.getResponseBody().write(body);
  }

  // /{org}/{name}/resolve/{rev}/{file}
  private void resolve(HttpExchange ex, String path) throws IOException {
    String[] p = path.substring(1).split("/", 5);
    if (p.length < 5 || !p[2].equals("resolve")) {
      log(ex, "hub", 0);
      error(ex, 404, null, "Not found");
      return;
    }
    String id = p[0] + "/" + p[1];
    if (renamed.containsKey(id)) {
      log(ex, "hub", p[4], 0);
      ex.getResponseHeaders().set("Location", "/" + renamed.get(id) + "/resolve/" + p[3] + "/" + p[4]);
      ex.sendResponseHeaders(307, -1);
      return;
    }
    Repo repo = repos.get(id);
    if (repo == null) {
      log(ex, "hub", 0);
      error(ex, 404, "RepoNotFound", "Repository not found");
      return;
    }
    if (repo.gatedToken().isPresent()) {
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      if (auth == null) {
        log(ex, "hub", p[4], 0);
        error(ex, 401, "GatedRepo", "Access to model " + id + " is restricted. You must have access to it"
            + " and be authenticated to access it. Please log in.");
        return;
      }
      if (!auth.equals("Bearer " + repo.gatedToken().get())) {
        log(ex, "hub", p[4], 0);
        error(ex, 403, "GatedRepo", "Access to model " + id + " is restricted and you are not in the"
            + " authorized list.");
        return;
      }
    }
    String commit = commitFor(id, p[3]);
    if (commit == null) {
      log(ex, "hub", p[4], 0);
      error(ex, 404, "RevisionNotFound", "Invalid rev id: " + p[3]);
      return;
    }
    String file = p[4];
    byte[] content = repo.files().get(file);
    if (content == null) {
      log(ex, "hub", p[4], 0);
      error(ex, 404, "EntryNotFound", file + " does not exist on \"" + p[3] + "\"");
      return;
    }
    var h = ex.getResponseHeaders();
    h.set("X-Repo-Commit", commit);
    if (repo.lfs().contains(file)) {
      String sha = sha(content);
      h.set("ETag", "\"" + gitBlobId(pointer(content)) + "\"");
      h.set("X-Linked-Etag", "\"" + sha + "\"");
      h.set("X-Linked-Size", Long.toString(content.length));
      h.set("Location", cdnBase() + "/repos/" + id + "/" + sha + "?X-Amz-Signature=secret&name=" + file);
      log(ex, "hub", p[4], 0);
      ex.sendResponseHeaders(302, -1);
      return;
    }
    h.set("ETag", "\"" + gitBlobId(content) + "\"");
    serve(ex, "hub", file, content);
  }

  private void cdn(HttpExchange ex) throws IOException {
    arrived(ex);
    try {
      answerCdn(ex);
    } finally {
      if (!released.get()) {
        inFlight.decrementAndGet();
      }
    }
  }

  private void answerCdn(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath(); // /repos/{org}/{name}/{sha}
      String[] p = path.substring(1).split("/");
      Repo repo = p.length == 4 ? repos.get(p[1] + "/" + p[2]) : null;
      String file = null;
      if (repo != null) {
        for (var e : repo.files().entrySet()) {
          if (repo.lfs().contains(e.getKey()) && sha(e.getValue()).equals(p[3])) {
            file = e.getKey();
          }
        }
      }
      if (file == null) {
        log(ex, "cdn", 0);
        error(ex, 404, null, "NoSuchKey");
        return;
      }
      serve(ex, "cdn", file, repo.files().get(file));
    }
  }

  /** Sends a file or the asked range of it, applying any fault planned for it. */
  private void serve(HttpExchange ex, String server, String file, byte[] content) throws IOException {
    long start = 0;
    String range = ex.getRequestHeaders().getFirst("Range");
    boolean partial = false;
    if (range != null && range.startsWith("bytes=") && range.endsWith("-") && !(server.equals("cdn") && ignoreRange)) {
      start = Long.parseLong(range.substring(6, range.length() - 1));
      if (start >= content.length) {
        log(ex, server, file, 0);
        ex.getResponseHeaders().set("Content-Range", "bytes */" + content.length);
        ex.sendResponseHeaders(416, -1);
        return;
      }
      partial = true;
    }
    byte[] body = java.util.Arrays.copyOfRange(content, (int) start, content.length);
    boolean head = ex.getRequestMethod().equals("HEAD");
    if (!head) {
      AtomicInteger c = corruptions.get(file);
      if (c != null && c.getAndDecrement() > 0) {
        body[body.length / 2] ^= 0x5A;
      }
    }
    var h = ex.getResponseHeaders();
    h.set("Accept-Ranges", "bytes");
    if (partial) {
      h.set("Content-Range", "bytes " + start + "-" + (content.length - 1) + "/" + content.length);
    }
    if (head) {
      h.set("Content-Length", Long.toString(content.length));
      log(ex, server, file, 0);
      ex.sendResponseHeaders(200, -1);
      return;
    }
    Long drop = dropAfter.remove(file);
    Long stall = stallAfter.remove(file);
    ex.sendResponseHeaders(partial ? 206 : 200, body.length);
    OutputStream out = ex.getResponseBody();
    if (drop != null && drop < body.length) {
      out.write(body, 0, drop.intValue());
      out.flush();
      sleep(300); // let the client take in what was sent before the connection goes
      log(ex, server, file, drop);
      throw new IOException("dropping the connection on purpose"); // the server closes the socket
    }
    if (stall != null && stall < body.length) {
      out.write(body, 0, stall.intValue());
      out.flush();
      log(ex, server, file, stall);
      released.set(true);
      inFlight.decrementAndGet();
      sleep(stallMillis);
      throw new IOException("stalled on purpose");
    }
    long sent = 0;
    try {
      for (int off = 0; off < body.length; off += 65536) {
        int n = Math.min(65536, body.length - off);
        out.write(body, off, n);
        sent += n;
      }
    } finally {
      log(ex, server, file, sent); // also when the client went away mid-body
    }
  }

  private String commitFor(String id, String rev) {
    Map<String, String> r = refs.getOrDefault(id, Map.of());
    if (r.containsKey(rev)) {
      return r.get(rev);
    }
    return r.containsValue(rev) ? rev : null;
  }

  private void log(HttpExchange ex, String server, long bytes) {
    log(ex, server, "", bytes);
  }

  private void log(HttpExchange ex, String server, String file, long bytes) {
    record(new Request(server, ex.getRequestMethod(),
        URLDecoder.decode(ex.getRequestURI().getRawPath(), StandardCharsets.UTF_8), file,
        Optional.ofNullable(ex.getRequestHeaders().getFirst("Range")),
        ex.getRequestHeaders().containsKey("Authorization"), bytes));
  }

  private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
    if (code != null) {
      ex.getResponseHeaders().set("X-Error-Code", code);
    }
    ex.getResponseHeaders().set("X-Error-Message", message);
    byte[] body = ("{\"error\":\"" + message.replace("\"", "'") + "\"}").getBytes(StandardCharsets.UTF_8);
    if (ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(status, -1);
      return;
    }
    ex.sendResponseHeaders(status, body.length);
    ex.getResponseBody().write(body);
  }

  /** Hashes of served contents, computed once: a gigabyte file is hashed on every request otherwise. */
  private final Map<byte[], String> memo = new ConcurrentHashMap<>(); // identity keys

  private String sha(byte[] content) {
    return memo.computeIfAbsent(content, FakeHub::sha256Hex);
  }

  private byte[] pointer(byte[] content) {
    return ("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha(content) + "\nsize "
        + content.length + "\n").getBytes(StandardCharsets.US_ASCII);
  }

  public static String sha256Hex(byte[] b) {
    return hex("SHA-256", b, null);
  }

  public static String gitBlobId(byte[] b) {
    return hex("SHA-1", b, ("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
  }

  private static String sha1Hex(byte[] b) {
    return hex("SHA-1", b, null);
  }

  private static String hex(String alg, byte[] b, byte[] prefix) {
    try {
      MessageDigest d = MessageDigest.getInstance(alg);
      if (prefix != null) {
        d.update(prefix);
      }
      return HexFormat.of().formatHex(d.digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    hub.stop(0);
    cdn.stop(0);
    executor.shutdownNow();
  }
}
