package dev.glance.engine.hub;

import dev.glance.engine.GlanceException;
import dev.glance.engine.GlanceException.Download.Reason;
import dev.glance.engine.io.Json;
import dev.glance.engine.io.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Pulls the files the engine needs from a hub repository into the cache and returns the snapshot
 * directory. The order guards the user's disk and time: the repository listing first (unknown,
 * gated), then {@code config.json} alone, refused right there if Glance does not run its
 * architecture, then the shard index, then a free-space check for everything still missing, then
 * the rest a few files at a time, smallest first. The revision's ref is written only when every
 * file is in place, so a cached ref means a complete snapshot. Offline, the cache alone answers.
 */
public final class ModelPuller {
  private final HubSettings settings;
  private final HfCacheLayout layout;
  private final DownloadProgress progress;
  private final DiskSpace disk;

  public ModelPuller(HubSettings settings, DownloadProgress progress) {
    this(settings, progress, DiskSpace.fileStore());
  }

  public ModelPuller(HubSettings settings, DownloadProgress progress, DiskSpace disk) {
    this.settings = settings;
    this.layout = new HfCacheLayout(settings.cacheDir());
    this.progress = progress;
    this.disk = disk;
  }

  public HfCacheLayout layout() {
    return layout;
  }

  /** The cached snapshot of the revision, if it holds every file the engine needs. */
  public Optional<Path> cached(HubRepo repo) {
    return layout.commitFor(repo).map(c -> layout.snapshot(repo, c))
        .filter(dir -> Files.isDirectory(dir) && ModelFiles.missing(dir).isEmpty());
  }

  /**
   * Brings the revision's engine files into the cache (a no-op beyond a few metadata requests when
   * they are there) and returns the snapshot. Offline, returns the cached snapshot or fails saying
   * it is not cached.
   */
  public PulledModel pull(HubRepo repo) {
    long start = System.nanoTime();
    if (settings.offline()) {
      return fromCacheOffline(repo, start);
    }
    try (HubClient client = new HubClient(settings)) {
      return pull(client, repo, start);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GlanceException.Download(Reason.UNREACHABLE, "pull of " + repo + " interrupted", e);
    }
  }

  private PulledModel pull(HubClient client, HubRepo repo, long start) throws InterruptedException {
    RepoInfo info = client.repoInfo(repo);
    String commit = info.commit();
    progress.resolved(repo, commit);
    BlobFetcher fetcher = new BlobFetcher(client, layout, progress);
    Map<String, BlobFetcher.Fetched> done = new LinkedHashMap<>();

    RepoFile config = require(info, repo, ModelFiles.CONFIG,
        "it has no config.json, so it is not a transformers model repository");
    BlobFetcher.Fetched cfg = fetcher.fetch(repo, commit, config);
    // Refuses an architecture the engine does not run before anything large is fetched.
    ModelConfig.parse(Json.read(layout.blob(repo, cfg.blobId())), repo + " " + ModelFiles.CONFIG);
    done.put(ModelFiles.CONFIG, cfg);

    List<RepoFile> rest = new ArrayList<>();
    RepoFile index = info.files().get(ModelFiles.INDEX);
    if (index != null) {
      BlobFetcher.Fetched idx = fetcher.fetch(repo, commit, index);
      done.put(ModelFiles.INDEX, idx);
      for (String shard : ModelFiles.shards(layout.blob(repo, idx.blobId()))) {
        RepoFile f = info.files().get(shard);
        if (f == null) {
          throw new GlanceException.ModelLoad(repo + " " + ModelFiles.INDEX + " lists the shard " + shard
              + ", which the repository does not have");
        }
        rest.add(f);
      }
    } else {
      rest.add(require(info, repo, ModelFiles.SINGLE, "it has no safetensors weights (" + ModelFiles.SINGLE
          + " or " + ModelFiles.INDEX + "); Glance loads safetensors checkpoints"));
    }
    rest.add(require(info, repo, ModelFiles.TOKENIZER, "it has no tokenizer.json (the fast tokenizer file)"));
    for (String name : ModelFiles.OPTIONAL) {
      Optional.ofNullable(info.files().get(name)).ifPresent(rest::add);
    }
    rest.sort(Comparator.comparingLong(RepoFile::size));

    long total = done.values().stream().mapToLong(BlobFetcher.Fetched::size).sum();
    long present = total;
    long needed = 0;
    for (RepoFile f : rest) {
      long size = Math.max(0, f.size());
      long have = bytesPresent(repo, f);
      total += size;
      present += have;
      needed += size - have;
    }
    checkFreeSpace(repo, needed);
    progress.planned(done.size() + rest.size(), total, present);

    done.putAll(fetchAll(fetcher, repo, commit, rest));
    try {
      for (var e : done.entrySet()) {
        layout.link(repo, commit, e.getKey(), e.getValue().blobId());
      }
      layout.writeRef(repo, commit);
    } catch (IOException e) {
      throw HfCacheLayout.storageFailure(e, layout.snapshot(repo, commit));
    }
    PulledModel model = new PulledModel(repo, commit, layout.snapshot(repo, commit), List.copyOf(done.keySet()),
        done.values().stream().mapToLong(BlobFetcher.Fetched::size).sum(),
        done.values().stream().mapToLong(BlobFetcher.Fetched::downloaded).sum(),
        Duration.ofNanos(System.nanoTime() - start));
    progress.finished(model);
    return model;
  }

  /** Fetches the files a few at a time; the first failure stops the others and is thrown. */
  private Map<String, BlobFetcher.Fetched> fetchAll(BlobFetcher fetcher, HubRepo repo, String commit,
      List<RepoFile> files) throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(settings.parallelDownloads(), r -> {
      Thread t = new Thread(r, "glance-pull");
      t.setDaemon(true);
      return t;
    });
    Map<String, Future<BlobFetcher.Fetched>> futures = new LinkedHashMap<>();
    try {
      for (RepoFile f : files) {
        futures.put(f.path(), pool.submit(() -> fetcher.fetch(repo, commit, f)));
      }
      Map<String, BlobFetcher.Fetched> results = new LinkedHashMap<>();
      for (var e : futures.entrySet()) {
        try {
          results.put(e.getKey(), e.getValue().get());
        } catch (ExecutionException ex) {
          if (ex.getCause() instanceof RuntimeException r) {
            throw r;
          }
          throw new IllegalStateException("download of " + e.getKey() + " failed", ex.getCause());
        }
      }
      return results;
    } finally {
      pool.shutdownNow();
      // Let interrupted downloads close their files before the caller reports and exits.
      pool.awaitTermination(30, TimeUnit.SECONDS);
    }
  }

  private PulledModel fromCacheOffline(HubRepo repo, long start) {
    Optional<String> commit = layout.commitFor(repo);
    Path dir = commit.map(c -> layout.snapshot(repo, c)).orElse(null);
    if (dir == null || !Files.isDirectory(dir)) {
      throw new GlanceException.Download(Reason.OFFLINE, repo + " is not in the cache at " + settings.cacheDir()
          + " and HF_HUB_OFFLINE is set: run `glance pull " + repo + "` with network access first");
    }
    List<String> missing = ModelFiles.missing(dir);
    if (!missing.isEmpty()) {
      throw new GlanceException.Download(Reason.OFFLINE, repo + " is only partly in the cache at " + dir
          + " (missing " + String.join(", ", missing) + ") and HF_HUB_OFFLINE is set: run `glance pull "
          + repo + "` with network access first");
    }
    List<String> files = new ArrayList<>();
    long bytes = 0;
    try (var list = Files.list(dir)) {
      for (Path p : list.toList()) {
        files.add(p.getFileName().toString());
        bytes += Files.size(p);
      }
    } catch (IOException e) {
      throw HfCacheLayout.storageFailure(e, dir);
    }
    PulledModel model = new PulledModel(repo, commit.get(), dir, files.stream().sorted().toList(), bytes, 0,
        Duration.ofNanos(System.nanoTime() - start));
    return model;
  }

  /** Bytes of the file already on disk: its whole blob, or a partial download's size. */
  private long bytesPresent(HubRepo repo, RepoFile f) {
    if (f.checksum().isEmpty() || f.size() < 0) {
      return 0;
    }
    // The hub names blobs by ETag, which is the listed checksum's hex (sha256 or git blob id).
    String id = f.checksum().get().hex();
    try {
      if (Files.isRegularFile(layout.blob(repo, id))) {
        return f.size();
      }
      Path partial = layout.incomplete(repo, id);
      return Files.isRegularFile(partial) ? Math.min(f.size(), Files.size(partial)) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private void checkFreeSpace(HubRepo repo, long needed) {
    Path blobs = layout.repoDir(repo).resolve("blobs");
    long free;
    try {
      Files.createDirectories(blobs);
      free = disk.usableBytes(blobs);
    } catch (IOException e) {
      throw HfCacheLayout.storageFailure(e, blobs);
    }
    if (needed > free) {
      throw new GlanceException.Download(Reason.DISK_FULL, "disk full: " + repo + " needs "
          + Units.bytes(needed) + " more in " + settings.cacheDir() + " but only " + Units.bytes(free)
          + " is free; free space there or point HF_HUB_CACHE at a larger disk");
    }
  }

  private static RepoFile require(RepoInfo info, HubRepo repo, String name, String why) {
    RepoFile f = info.files().get(name);
    if (f == null) {
      throw new GlanceException.Unsupported("cannot use " + repo + ": " + why);
    }
    return f;
  }
}
