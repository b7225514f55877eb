package dev.glance.engine.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.Fixture;
import dev.glance.engine.GlanceException;
import dev.glance.engine.GlanceException.Download.Reason;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pulls from {@link FakeHub}: the full protocol, resume, verification, errors, offline. */
class ModelPullerTest {
  static final String ID = "test-org/glm4v-tiny";
  static final HubRepo REPO = new HubRepo(ID, "main");
  static final String WEIGHTS = "model.safetensors";
  static final Set<String> ENGINE_FILES = Set.of("config.json", "generation_config.json",
      "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja", WEIGHTS);

  @TempDir Path cache;
  FakeHub hub;
  Map<String, byte[]> files;
  RecordingProgress progress = new RecordingProgress();

  @BeforeEach
  void start() throws IOException {
    hub = new FakeHub();
    files = new LinkedHashMap<>(FakeHub.filesOf(Fixture.DIR));
    // Files the engine does not read must not be fetched.
    files.put("README.md", "# tiny\n".getBytes(StandardCharsets.UTF_8));
    files.put("pytorch_model.bin", new byte[4096]);
    hub.addRepo(ID, files, Optional.empty());
  }

  @AfterEach
  void stop() {
    hub.close();
  }

  HubSettings settings() {
    return HubSettings.of(hub.endpoint(), cache).withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5),
        new RetryPolicy(4, Duration.ofMillis(20), Duration.ofMillis(100)));
  }

  PulledModel pull(HubSettings s, HubRepo repo) {
    return new ModelPuller(s, progress).pull(repo);
  }

  Path repoDir() {
    return cache.resolve("models--test-org--glm4v-tiny");
  }

  List<FakeHub.Request> gets(String file) {
    return hub.requestsFor(file).stream().filter(r -> r.method().equals("GET")).toList();
  }

  @Test
  void pullsTheEngineFilesIntoTheHuggingFaceCacheLayout() throws IOException {
    String commit = hub.repo(ID).commit();
    PulledModel m = pull(settings().withToken("hf_not_for_the_cdn"), REPO);

    Path snapshot = repoDir().resolve("snapshots").resolve(commit);
    assertEquals(snapshot, m.dir());
    assertEquals(commit, m.commit());
    assertEquals(ENGINE_FILES, new TreeSet<>(m.files()));
    assertEquals(ENGINE_FILES, listNames(snapshot));
    for (String name : ENGINE_FILES) {
      Path f = snapshot.resolve(name);
      assertTrue(Files.isSymbolicLink(f), name + " is a symlink into blobs");
      String blobId = name.equals(WEIGHTS) || name.equals("tokenizer.json")
          ? FakeHub.sha256Hex(files.get(name)) : FakeHub.gitBlobId(files.get(name));
      assertEquals(Path.of("..", "..", "blobs", blobId), Files.readSymbolicLink(f), name);
      assertArrayEquals(files.get(name), Files.readAllBytes(f), name);
    }
    assertEquals(commit, Files.readString(repoDir().resolve("refs").resolve("main")));
    try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
      assertTrue(blobs.noneMatch(p -> p.toString().endsWith(".incomplete")));
    }
    long total = ENGINE_FILES.stream().mapToLong(n -> files.get(n).length).sum();
    assertEquals(total, m.totalBytes());
    assertEquals(total, m.downloadedBytes());
    assertEquals(total, progress.transferred.get());

    // Only engine files were asked for; the token went to the hub, never to the CDN.
    assertTrue(hub.requestsFor("README.md").isEmpty());
    assertTrue(hub.requestsFor("pytorch_model.bin").isEmpty());
    assertTrue(hub.requests().stream().noneMatch(r -> r.path().endsWith(".png")));
    List<FakeHub.Request> cdn = hub.requests().stream().filter(r -> r.server().equals("cdn")).toList();
    assertEquals(2, cdn.size(), "model.safetensors and tokenizer.json come from the CDN: " + cdn);
    assertTrue(cdn.stream().noneMatch(FakeHub.Request::authorized));
    assertTrue(hub.requests().stream().filter(r -> r.server().equals("hub")).allMatch(FakeHub.Request::authorized));

    // A second pull finds everything in place and transfers nothing.
    hub.clearLog();
    PulledModel again = pull(settings(), REPO);
    assertEquals(0, again.downloadedBytes());
    assertTrue(hub.requests().stream().noneMatch(r -> r.method().equals("GET") && !r.path().startsWith("/api/")),
        hub.requests().toString());
  }

  @Test
  void resumesADroppedTransferWithARangeRequestForTheRestOnly() throws IOException {
    int size = files.get(WEIGHTS).length;
    hub.dropOnce(WEIGHTS, 500_000);
    PulledModel m = pull(settings(), REPO);

    List<FakeHub.Request> gets = gets(WEIGHTS);
    assertEquals(2, gets.size(), gets.toString());
    assertEquals(Optional.empty(), gets.get(0).range());
    assertEquals(500_000, gets.get(0).bytesSent());
    assertEquals(Optional.of("bytes=500000-"), gets.get(1).range());
    assertEquals(size - 500_000, gets.get(1).bytesSent());
    assertArrayEquals(files.get(WEIGHTS), Files.readAllBytes(m.dir().resolve(WEIGHTS)));
    assertEquals(1, progress.matching("retry " + WEIGHTS + ": connection dropped").size(), progress.events.toString());
  }

  @Test
  void resumesAPartialFileLeftByAnInterruptedRun() throws IOException {
    byte[] weights = files.get(WEIGHTS);
    Path partial = repoDir().resolve("blobs").resolve(FakeHub.sha256Hex(weights) + ".incomplete");
    Files.createDirectories(partial.getParent());
    Files.write(partial, java.util.Arrays.copyOf(weights, 700_000));

    PulledModel m = pull(settings(), REPO);

    List<FakeHub.Request> gets = gets(WEIGHTS);
    assertEquals(1, gets.size());
    assertEquals(Optional.of("bytes=700000-"), gets.get(0).range());
    assertEquals(weights.length - 700_000, gets.get(0).bytesSent());
    assertEquals(weights.length - 700_000, m.downloadedBytes() - smallFilesBytes());
    assertArrayEquals(weights, Files.readAllBytes(m.dir().resolve(WEIGHTS)));
  }

  @Test
  void aServerThatIgnoresRangeRestartsTheFileFromZero() throws IOException {
    hub.ignoreRange(true);
    hub.dropOnce(WEIGHTS, 400_000);
    PulledModel m = pull(settings(), REPO);

    List<FakeHub.Request> gets = gets(WEIGHTS);
    assertEquals(2, gets.size());
    assertEquals(Optional.of("bytes=400000-"), gets.get(1).range());
    assertEquals(files.get(WEIGHTS).length, gets.get(1).bytesSent());
    assertArrayEquals(files.get(WEIGHTS), Files.readAllBytes(m.dir().resolve(WEIGHTS)));
  }

  @Test
  void aStalledTransferIsDroppedAndResumed() throws IOException {
    hub.stallOnce(WEIGHTS, 300_000, 4000);
    HubSettings s = settings().withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(800),
        new RetryPolicy(4, Duration.ofMillis(20), Duration.ofMillis(100)));
    PulledModel m = pull(s, REPO);

    List<FakeHub.Request> gets = gets(WEIGHTS);
    assertEquals(2, gets.size(), gets.toString());
    assertEquals(Optional.of("bytes=300000-"), gets.get(1).range());
    assertArrayEquals(files.get(WEIGHTS), Files.readAllBytes(m.dir().resolve(WEIGHTS)));
    assertTrue(progress.matching("retry " + WEIGHTS + ": no data").size() == 1, progress.events.toString());
  }

  @Test
  void aCorruptedDownloadIsDetectedDeletedAndFetchedAgain() throws IOException {
    hub.corrupt(WEIGHTS, 1);
    hub.corrupt("config.json", 1); // a small git-stored file: checked against its git blob id
    PulledModel m = pull(settings(), REPO);

    assertEquals(2, gets(WEIGHTS).size());
    assertEquals(Optional.empty(), gets(WEIGHTS).get(1).range(), "fetched again from the start");
    assertEquals(2, gets("config.json").size());
    assertArrayEquals(files.get(WEIGHTS), Files.readAllBytes(m.dir().resolve(WEIGHTS)));
    assertArrayEquals(files.get("config.json"), Files.readAllBytes(m.dir().resolve("config.json")));
    assertEquals(1, progress.matching("note " + WEIGHTS + " failed SHA-256 verification").size());
    assertEquals(1, progress.matching("note config.json failed git blob SHA-1 verification").size());
  }

  @Test
  void aFileThatKeepsFailingVerificationIsNeverUsed() throws IOException {
    hub.corrupt(WEIGHTS, 100);
    var e = assertThrows(GlanceException.Download.class, () -> pull(settings(), REPO));
    assertEquals(Reason.CORRUPT, e.reason());
    assertTrue(e.getMessage().contains(WEIGHTS) && e.getMessage().contains("SHA-256"), e.getMessage());

    String sha = FakeHub.sha256Hex(files.get(WEIGHTS));
    assertFalse(Files.exists(repoDir().resolve("blobs").resolve(sha)));
    assertFalse(Files.exists(repoDir().resolve("blobs").resolve(sha + ".incomplete")));
    assertFalse(Files.exists(repoDir().resolve("snapshots").resolve(hub.repo(ID).commit()).resolve(WEIGHTS),
        LinkOption()));
    assertFalse(Files.exists(repoDir().resolve("refs").resolve("main")), "no ref for an incomplete snapshot");
  }

  @Test
  void offlineUsesTheCacheAndNothingElse() {
    PulledModel online = pull(settings(), REPO);
    hub.clearLog();
    PulledModel offline = pull(settings().withOffline(true), REPO);
    assertEquals(online.dir(), offline.dir());
    assertEquals(0, offline.downloadedBytes());
    assertEquals(List.of(), hub.arrivals());
  }

  @Test
  void offlineWithoutTheModelCachedSaysSo() throws IOException {
    var e = assertThrows(GlanceException.Download.class, () -> pull(settings().withOffline(true), REPO));
    assertEquals(Reason.OFFLINE, e.reason());
    assertTrue(e.getMessage().contains("not in the cache") && e.getMessage().contains("HF_HUB_OFFLINE")
        && e.getMessage().contains("glance pull " + ID), e.getMessage());

    PulledModel m = pull(settings(), REPO);
    Files.delete(m.dir().resolve(WEIGHTS));
    hub.clearLog();
    var partial = assertThrows(GlanceException.Download.class, () -> pull(settings().withOffline(true), REPO));
    assertEquals(Reason.OFFLINE, partial.reason());
    assertTrue(partial.getMessage().contains("missing " + WEIGHTS), partial.getMessage());
    assertEquals(List.of(), hub.arrivals());
  }

  @Test
  void aGatedRepositoryNeedsAToken() {
    hub.addRepo("test-org/gated", files, Optional.of("hf_right"));
    HubRepo gated = new HubRepo("test-org/gated", "main");

    var none = assertThrows(GlanceException.Download.class, () -> pull(settings(), gated));
    assertEquals(Reason.GATED, none.reason());
    assertTrue(none.getMessage().contains("test-org/gated is a gated repository")
        && none.getMessage().contains("set HF_TOKEN"), none.getMessage());

    var wrong = assertThrows(GlanceException.Download.class, () -> pull(settings().withToken("hf_wrong"), gated));
    assertEquals(Reason.GATED, wrong.reason());
    assertTrue(wrong.getMessage().contains("has no access"), wrong.getMessage());
    assertTrue(hub.requestsFor(WEIGHTS).isEmpty(), "nothing past config.json was tried");

    PulledModel m = pull(settings().withToken("hf_right"), gated);
    assertEquals(ENGINE_FILES, new TreeSet<>(m.files()));
    assertTrue(hub.requests().stream().filter(r -> r.server().equals("cdn")).noneMatch(FakeHub.Request::authorized));
  }

  @Test
  void anUnknownRepositoryOrRevisionIsNamed() {
    var repo = assertThrows(GlanceException.Download.class,
        () -> pull(settings(), new HubRepo("test-org/nope", "main")));
    assertEquals(Reason.NOT_FOUND, repo.reason());
    assertTrue(repo.getMessage().startsWith("repository not found: test-org/nope"), repo.getMessage());

    var rev = assertThrows(GlanceException.Download.class, () -> pull(settings(), REPO.withRevision("v9")));
    assertEquals(Reason.NOT_FOUND, rev.reason());
    assertEquals("revision 'v9' not found in " + ID, rev.getMessage());
  }

  @Test
  void noNetworkFailsFastNamingTheEndpoint() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    URI dead = URI.create("http://127.0.0.1:" + port);
    long t0 = System.nanoTime();
    var e = assertThrows(GlanceException.Download.class,
        () -> pull(HubSettings.of(dead, cache).withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5),
            new RetryPolicy(4, Duration.ofSeconds(2), Duration.ofSeconds(2))), REPO));
    assertEquals(Reason.UNREACHABLE, e.reason());
    assertTrue(e.getMessage().startsWith("cannot reach " + dead + ": could not connect (connection refused"), e.getMessage());
    assertTrue(e.getMessage().contains("HF_ENDPOINT"), e.getMessage());
    assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "no retries when nothing answers at all");
  }

  @Test
  void anUnsupportedArchitectureIsRefusedBeforeTheWeightsAreFetched() {
    Map<String, byte[]> llama = new LinkedHashMap<>(files);
    llama.put("config.json", """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096}
        """.getBytes(StandardCharsets.UTF_8));
    hub.addRepo("test-org/llama", llama, Optional.empty());

    var e = assertThrows(GlanceException.Unsupported.class,
        () -> pull(settings(), new HubRepo("test-org/llama", "main")));
    assertTrue(e.getMessage().contains("test-org/llama config.json") && e.getMessage().contains("'llama'")
        && e.getMessage().contains("not supported"), e.getMessage());
    assertTrue(hub.requestsFor(WEIGHTS).isEmpty(), hub.requests().toString());
    assertTrue(hub.requestsFor("tokenizer.json").isEmpty());
  }

  @Test
  void notEnoughDiskSpaceIsRefusedBeforeDownloading() {
    var e = assertThrows(GlanceException.Download.class,
        () -> new ModelPuller(settings(), progress, dir -> 100_000).pull(REPO));
    assertEquals(Reason.DISK_FULL, e.reason());
    assertTrue(e.getMessage().startsWith("disk full: " + ID + " needs 1.4 MB more in " + cache
        + " but only 100.0 kB is free"), e.getMessage());
    assertTrue(hub.requestsFor(WEIGHTS).isEmpty());
  }

  @Test
  void aDiskThatFillsUpDuringTheDownloadIsReportedAsDiskFull() throws IOException {
    // /dev/full fails every write with ENOSPC, exactly as a full disk does.
    Path partial = repoDir().resolve("blobs").resolve(FakeHub.sha256Hex(files.get(WEIGHTS)) + ".incomplete");
    Files.createDirectories(partial.getParent());
    Files.createSymbolicLink(partial, Path.of("/dev/full"));
    var e = assertThrows(GlanceException.Download.class, () -> pull(settings(), REPO));
    assertEquals(Reason.DISK_FULL, e.reason());
    assertTrue(e.getMessage().startsWith("disk full: cannot write " + partial), e.getMessage());
    String cdnPath = "GET /repos/" + ID + "/" + FakeHub.sha256Hex(files.get(WEIGHTS));
    assertEquals(1, hub.arrivals().stream().filter(cdnPath::equals).count(), "a full disk is not retried");
  }

  @Test
  void aShardedCheckpointBringsEveryShardTheIndexNames() throws IOException {
    Map<String, byte[]> sharded = new LinkedHashMap<>(files);
    sharded.remove(WEIGHTS);
    sharded.put("model.safetensors.index.json", """
        {"metadata": {"total_size": 30}, "weight_map": {"a": "model-00001-of-00002.safetensors",
         "b": "model-00002-of-00002.safetensors", "c": "model-00001-of-00002.safetensors"}}
        """.getBytes(StandardCharsets.UTF_8));
    sharded.put("model-00001-of-00002.safetensors", "first shard bytes".getBytes(StandardCharsets.UTF_8));
    sharded.put("model-00002-of-00002.safetensors", "second".getBytes(StandardCharsets.UTF_8));
    sharded.put("model-00003-of-00002.safetensors", "not in the index".getBytes(StandardCharsets.UTF_8));
    hub.addRepo("test-org/sharded", sharded, Optional.empty());

    PulledModel m = pull(settings(), new HubRepo("test-org/sharded", "main"));
    assertTrue(m.files().containsAll(List.of("model.safetensors.index.json", "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors")), m.files().toString());
    assertFalse(m.files().contains("model-00003-of-00002.safetensors"));
    assertEquals("second", Files.readString(m.dir().resolve("model-00002-of-00002.safetensors")));
    assertTrue(hub.requestsFor("model-00003-of-00002.safetensors").isEmpty());

    sharded.remove("model-00002-of-00002.safetensors");
    hub.addRepo("test-org/broken", sharded, Optional.empty());
    var e = assertThrows(GlanceException.ModelLoad.class,
        () -> pull(settings(), new HubRepo("test-org/broken", "main")));
    assertTrue(e.getMessage().contains("lists the shard model-00002-of-00002.safetensors"), e.getMessage());
  }

  @Test
  void aRenamedRepositoryIsFollowedAndABusyHubRetried() {
    hub.rename("old-org/tiny", ID);
    hub.failApi(503, 2);
    PulledModel m = pull(settings(), new HubRepo("old-org/tiny", "main"));
    assertEquals(ENGINE_FILES, new TreeSet<>(m.files()));
    assertEquals(hub.repo(ID).commit(), m.commit());
    assertTrue(m.dir().startsWith(cache.resolve("models--old-org--tiny")), "cached under the name asked for");

    hub.failApi(500, 10);
    var e = assertThrows(GlanceException.Download.class, () -> pull(settings(), REPO));
    assertEquals(Reason.UNREACHABLE, e.reason());
    assertTrue(e.getMessage().contains("HTTP 500"), e.getMessage());
  }

  private long smallFilesBytes() {
    return ENGINE_FILES.stream().filter(n -> !n.equals(WEIGHTS)).mapToLong(n -> files.get(n).length).sum();
  }

  private static java.nio.file.LinkOption LinkOption() {
    return java.nio.file.LinkOption.NOFOLLOW_LINKS;
  }

  private static Set<String> listNames(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return new TreeSet<>(s.map(p -> p.getFileName().toString()).toList());
    }
  }
}
