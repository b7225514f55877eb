package dev.glance.cli;

import dev.glance.engine.runtime.BatchOptions;
import dev.glance.engine.runtime.BatchScheduler;
import dev.glance.engine.runtime.Engine;
import dev.glance.engine.runtime.EngineOptions;
import dev.glance.engine.runtime.Warmup;
import dev.glance.engine.tensor.cpu.CpuBackend;
import dev.glance.server.GlanceServer;
import dev.glance.server.ServedModel;
import dev.glance.server.ServerConfig;
import dev.glance.server.ThroughputSettings;
import dev.glance.server.StateServices;
import dev.glance.server.inference.EngineWorker;
import dev.glance.server.log.RequestLog;
import dev.glance.server.security.AccessControl;
import dev.glance.server.security.AccessSettings;
import dev.glance.server.security.KeyStore;
import dev.glance.server.security.RateLimiter;
import dev.glance.server.state.DataDirectory;
import dev.glance.server.state.Database;
import dev.glance.server.state.StateSettings;
import dev.glance.server.usage.UsageLedger;
import dev.glance.server.usage.UsageMeter;
import dev.glance.server.usage.UsageReport;
import io.javalin.util.JavalinBindException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code glance serve}: the HTTP service. Wires the engine, its worker, the state (keys, usage
 * ledger, access control and costs from the data directory) and the server: the server listens
 * first (answering 503 while the checkpoint loads), then serves; SIGTERM or Ctrl+C drains it.
 * Every flag has a {@code GLANCE_*} environment variable as its default.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve a checkpoint over HTTP: /infer, the OpenAI-compatible /v1 API, a web page at /,"
        + " /metrics and /health.")
final class ServeCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", paramLabel = "DIR", defaultValue = "${env:GLANCE_MODEL}",
      description = "checkpoint directory (Hugging Face layout) [GLANCE_MODEL]")
  Path model;

  @Option(names = "--host", paramLabel = "ADDR", defaultValue = "${env:GLANCE_HOST:-127.0.0.1}",
      description = "address to listen on (default ${DEFAULT-VALUE}: this machine only) [GLANCE_HOST]")
  String host;

  @Option(names = "--port", paramLabel = "N", defaultValue = "${env:GLANCE_PORT:-8080}",
      description = "port to listen on, 0 = any free one (default ${DEFAULT-VALUE}) [GLANCE_PORT]")
  int port;

  @Option(names = "--served-model-name", paramLabel = "NAME", defaultValue = "${env:GLANCE_SERVED_MODEL_NAME:-}",
      description = "the model name clients send (default: the directory's name) [GLANCE_SERVED_MODEL_NAME]")
  String servedModelName;

  @Option(names = "--max-body-bytes", paramLabel = "SIZE", converter = ByteSize.class,
      defaultValue = "${env:GLANCE_MAX_BODY_BYTES:-20MiB}",
      description = "larger request bodies are refused unread (default ${DEFAULT-VALUE}) [GLANCE_MAX_BODY_BYTES]")
  long maxBodyBytes;

  @Option(names = "--max-image-bytes", paramLabel = "SIZE", converter = ByteSize.class,
      defaultValue = "${env:GLANCE_MAX_IMAGE_BYTES:-20MiB}",
      description = "largest encoded image (default ${DEFAULT-VALUE}) [GLANCE_MAX_IMAGE_BYTES]")
  long maxImageBytes;

  @Option(names = "--max-image-pixels", paramLabel = "N", defaultValue = "${env:GLANCE_MAX_IMAGE_PIXELS:-50000000}",
      description = "images declaring more pixels are refused before decoding (default ${DEFAULT-VALUE})"
          + " [GLANCE_MAX_IMAGE_PIXELS]")
  long maxImagePixels;

  @Option(names = "--max-images", paramLabel = "N", defaultValue = "${env:GLANCE_MAX_IMAGES:-8}",
      description = "most images per request (default ${DEFAULT-VALUE}) [GLANCE_MAX_IMAGES]")
  int maxImages;

  @Option(names = "--max-tokens-limit", paramLabel = "N", defaultValue = "${env:GLANCE_MAX_TOKENS_LIMIT:-16384}",
      description = "highest max_tokens a request may ask for, and the default (default ${DEFAULT-VALUE})"
          + " [GLANCE_MAX_TOKENS_LIMIT]")
  int maxTokensLimit;

  @Option(names = "--max-pixels", paramLabel = "N", defaultValue = "${env:GLANCE_MAX_PIXELS:-0}",
      description = "resize ceiling in pixels for images (fewer image tokens); 0 = the checkpoint's;"
          + " requests may ask for less with max_pixels [GLANCE_MAX_PIXELS]")
  long maxPixels;

  @Option(names = "--queue-size", paramLabel = "N", defaultValue = "${env:GLANCE_QUEUE_SIZE:-16}",
      description = "requests that may wait while --max-batch run; more get 503 (default ${DEFAULT-VALUE})"
          + " [GLANCE_QUEUE_SIZE]")
  int queueSize;

  @Option(names = "--max-queued-tokens", paramLabel = "N", defaultValue = "${env:GLANCE_MAX_QUEUED_TOKENS:-65536}",
      description = "most prompt tokens (images estimated from their headers) of requests waiting to"
          + " start; more get 503; 0 = no bound (default ${DEFAULT-VALUE}) [GLANCE_MAX_QUEUED_TOKENS]")
  long maxQueuedTokens;

  @Option(names = "--request-timeout", paramLabel = "SECONDS", defaultValue = "${env:GLANCE_REQUEST_TIMEOUT:-600}",
      description = "longer requests are stopped with 504 (default ${DEFAULT-VALUE}) [GLANCE_REQUEST_TIMEOUT]")
  double requestTimeout;

  @Option(names = "--shutdown-grace", paramLabel = "SECONDS", defaultValue = "${env:GLANCE_SHUTDOWN_GRACE:-30}",
      description = "on SIGTERM, time in-flight requests get to finish (default ${DEFAULT-VALUE})"
          + " [GLANCE_SHUTDOWN_GRACE]")
  double shutdownGrace;

  @Option(names = "--no-fetch-image-urls", defaultValue = "${env:GLANCE_NO_FETCH_IMAGE_URLS:-false}",
      description = "refuse http(s) image URLs; only data: URLs [GLANCE_NO_FETCH_IMAGE_URLS]")
  boolean noFetch;

  @Option(names = "--fetch-timeout", paramLabel = "SECONDS", defaultValue = "${env:GLANCE_FETCH_TIMEOUT:-10}",
      description = "time to fetch one image URL, redirects included (default ${DEFAULT-VALUE})"
          + " [GLANCE_FETCH_TIMEOUT]")
  double fetchTimeout;

  @Option(names = "--fetch-allow", paramLabel = "CIDR|HOST", split = ",",
      defaultValue = "${env:GLANCE_FETCH_ALLOW:-}",
      description = "let image URLs reach these internal addresses or hosts (e.g. 10.0.0.0/8); repeatable"
          + " [GLANCE_FETCH_ALLOW, comma-separated]")
  List<String> fetchAllow = new ArrayList<>();

  @Option(names = "--request-log", paramLabel = "FILE", defaultValue = "${env:GLANCE_REQUEST_LOG:--}",
      description = "request log, one JSON line per request: a file, '-' for stdout (default), '' for none"
          + " [GLANCE_REQUEST_LOG]")
  String requestLog;

  @Option(names = "--context", paramLabel = "N", defaultValue = "${env:GLANCE_CONTEXT:-0}",
      description = "most tokens per sequence; 0 = the checkpoint's max_position_embeddings [GLANCE_CONTEXT]")
  int context;

  @Option(names = "--max-batch", paramLabel = "N", defaultValue = "${env:GLANCE_MAX_BATCH:-8}",
      description = "most requests decoding together in one batch (default ${DEFAULT-VALUE}) [GLANCE_MAX_BATCH]")
  int maxBatch;

  @Option(names = "--max-prefill-tokens", paramLabel = "N", defaultValue = "${env:GLANCE_MAX_PREFILL_TOKENS:-512}",
      description = "most prompt tokens prefilled per engine step, so new prompts do not stall running"
          + " decodes (default ${DEFAULT-VALUE}) [GLANCE_MAX_PREFILL_TOKENS]")
  int maxPrefillTokens;

  @Option(names = "--kv-budget", paramLabel = "TOKENS", defaultValue = "${env:GLANCE_KV_BUDGET:-131072}",
      description = "KV positions all running requests and the prefix cache may hold together, in blocks"
          + " of 32; a request waits until its blocks are free, evicting cached prompt prefixes first;"
          + " memory is taken as blocks are first used (default ${DEFAULT-VALUE}) [GLANCE_KV_BUDGET]")
  long kvBudget;

  @Option(names = "--no-prefix-cache",
      description = "do not keep the KV blocks of finished prompts for reuse (by default a later prompt with the"
          + " same start, such as the template, a system prompt or the same image, prefills only the rest;"
          + " CPU backend only)")
  boolean noPrefixCache;

  /** Tokens each warm-up request generates: enough decode steps for C2 to compile the step loop. */
  private static final int WARMUP_TOKENS = 8;

  @Option(names = "--no-warmup",
      description = "start serving without first running a few synthetic requests (by default they run before"
          + " /health reports ready, so that the first real requests do not wait for the JIT compiler)")
  boolean noWarmup;

  @Option(names = "--quantize", paramLabel = "FORMAT",
      description = "quantise the text decoder's weights at load: q8_0 or q4_0 (default: as stored)")
  String quantize;

  @Option(names = "--kv", paramLabel = "DTYPE", description = "KV cache precision: f32 (default) or bf16")
  String kv;

  @Option(names = "--response-cache", paramLabel = "SIZE", converter = ByteSize.class,
      defaultValue = "${env:GLANCE_RESPONSE_CACHE:-64MiB}",
      description = "memory for the exact response cache of deterministic requests (temperature 0 or a"
          + " seed); 0 = off (default ${DEFAULT-VALUE}) [GLANCE_RESPONSE_CACHE]")
  long responseCache;

  @Option(names = "--response-cache-ttl", paramLabel = "SECONDS",
      defaultValue = "${env:GLANCE_RESPONSE_CACHE_TTL:-600}",
      description = "a cached response is reused for at most this long (default ${DEFAULT-VALUE})"
          + " [GLANCE_RESPONSE_CACHE_TTL]")
  double responseCacheTtl;

  @Option(names = "--queue-timeout", paramLabel = "SECONDS", defaultValue = "${env:GLANCE_QUEUE_TIMEOUT:-300}",
      description = "a request the engine has not started within this time gets 503 queue_timeout"
          + " (default ${DEFAULT-VALUE}) [GLANCE_QUEUE_TIMEOUT]")
  double queueTimeout;

  @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores)")
  Integer threads;

  @Mixin DataDirOption data;

  @Option(names = "--require-keys", negatable = true, defaultValue = "${env:GLANCE_REQUIRE_KEYS}",
      description = "every inference request needs an API key, even before any key exists (default:"
          + " settings.json's access.require_keys; keys are needed anyway once one exists) [GLANCE_REQUIRE_KEYS]")
  Boolean requireKeys;

  @Option(names = "--verbose", description = "stack traces on errors")
  boolean verbose;

  /** How long a request may wait for its usage row to be durable before it is answered 503. */
  private static final Duration LEDGER_WRITE_TIMEOUT = Duration.ofSeconds(10);
  /** Usage rows that may wait for the ledger's writer. */
  private static final int LEDGER_QUEUE = 10_000;

  @Override
  public Integer call() throws IOException {
    if (model == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--model is required (or GLANCE_MODEL)");
    }
    if (threads != null && threads < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be at least 1, got " + threads);
    }
    if (maxQueuedTokens < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--max-queued-tokens must be >= 0, got "
          + maxQueuedTokens);
    }
    ServerConfig config;
    ThroughputSettings throughput;
    try {
      throughput = new ThroughputSettings(responseCache, responseCacheTtl == 0 ? Duration.ZERO
          : seconds(responseCacheTtl, "--response-cache-ttl"), seconds(queueTimeout, "--queue-timeout"));
      config = new ServerConfig(host, port, servedModelName, maxBodyBytes, maxImageBytes, maxImagePixels,
          maxImages, maxTokensLimit, maxPixels, queueSize, seconds(requestTimeout, "--request-timeout"),
          seconds(shutdownGrace, "--shutdown-grace"), !noFetch, seconds(fetchTimeout, "--fetch-timeout"),
          fetchAllow, requestLog);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    PrintWriter err = spec.commandLine().getErr();
    RequestLog log = switch (config.requestLog()) {
      case "" -> RequestLog.none();
      case "-" -> RequestLog.to(System.out);
      default -> RequestLog.append(Path.of(config.requestLog()));
    };
    StateSettings settings = data.settings();
    AccessSettings accessSettings = requireKeys == null ? settings.access()
        : settings.access().withRequireKeys(requireKeys);
    Database db = data.open(settings);
    UsageLedger ledger = new UsageLedger(db, LEDGER_QUEUE);
    Clock clock = Clock.systemUTC();
    KeyStore keys = new KeyStore(db, clock);
    UsageReport reports = new UsageReport(db);
    AccessControl access = new AccessControl(accessSettings, keys, reports,
        new RateLimiter(clock, Duration.ofMinutes(1)), clock);
    StateServices state = new StateServices(access, new UsageMeter(ledger, settings.cost(), LEDGER_WRITE_TIMEOUT),
        reports);
    GlanceServer server;
    try {
      server = GlanceServer.start(config, log, state, throughput);
    } catch (JavalinBindException e) {
      closeState(ledger, db);
      throw new CommandLine.ParameterException(spec.commandLine(), "cannot listen on " + host + ":" + port
          + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      closeState(ledger, db);
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    String url = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.port() + "/";
    err.println("glance: listening on " + url + ", loading " + model + "...");
    describeState(err, data.directory(), db, access, settings);
    err.flush();
    // Requests still running write their usage rows while the server drains; then the ledger's
    // queue is written out and the database closed.
    Thread hook = new Thread(() -> {
      server.shutdown();
      closeState(ledger, db);
    }, "glance-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    CpuBackend backend = threads == null ? new CpuBackend() : new CpuBackend(threads);
    try {
      Engine engine = Engine.load(model, backend,
          new EngineOptions(config.maxImagePixels(), config.maxImageBytes(), context)
              .withQuantize(EngineOptions.parseQuantize(quantize, "--quantize"))
              .withKv(EngineOptions.parseKv(kv, "--kv")));
      BatchScheduler scheduler = new BatchScheduler(engine, batchOptions());
      describeKv(err, scheduler);
      if (!noWarmup) {
        warmUp(err, scheduler);
      }
      EngineWorker worker = new EngineWorker(scheduler, config.queueSize(), maxQueuedTokens);
      ServedModel served;
      try {
        served = ServedModel.of(engine, worker, config);
      } catch (IllegalArgumentException e) {
        worker.shutdown(Duration.ZERO);
        engine.close();
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
      server.serve(served);
    } catch (RuntimeException e) {
      Runtime.getRuntime().removeShutdownHook(hook);
      server.shutdown();
      closeState(ledger, db);
      backend.close();
      throw e;
    }
    err.println("glance: serving " + model.getFileName() + " at " + url);
    err.flush();
    // Runs until SIGTERM/SIGINT; the hook drains and stops the server. The engine is not closed
    // here: a generation that outlived the grace period may still be using its memory, and the
    // process is ending anyway.
    server.awaitStopped();
    closeState(ledger, db);
    log.close();
    return 0;
  }

  private static void closeState(UsageLedger ledger, Database db) {
    ledger.close();
    db.close();
  }

  /** One line on where state lives and who may call, and a warning when anyone on the network may. */
  private void describeState(PrintWriter err, DataDirectory dir, Database db, AccessControl access,
      StateSettings settings) {
    AccessSettings a = access.settings();
    boolean keysOn = access.keysOn();
    err.println("glance: state in " + dir.path() + " (" + db.url() + "); API keys "
        + (keysOn ? "required" : "off") + (a.allowList().ranges().isEmpty() ? "" : "; allow-list " + a.allowList().ranges())
        + "; cost in " + settings.cost().currency());
    boolean loopback = host.equals("127.0.0.1") || host.equals("::1") || host.equals("localhost");
    if (!loopback && !keysOn && a.allowList().ranges().isEmpty()) {
      err.println("glance: warning: listening on " + host + " without API keys or an allow-list: anyone who can"
          + " reach this port can use the model (glance keys create, or --require-keys)");
    }
  }

  private Duration seconds(double s, String flag) {
    if (!(s >= 0) || s > 1e7) {
      throw new IllegalArgumentException(flag + " must be a number of seconds >= 0, got " + s);
    }
    return Duration.ofMillis(Math.round(s * 1000));
  }

  /** Runs {@link Warmup} on the scheduler before the engine thread owns it. */
  private static void warmUp(PrintWriter err, BatchScheduler scheduler) {
    err.println("glance: warming up (a few synthetic requests, so the first real ones run compiled code)...");
    err.flush();
    Warmup.Result r = Warmup.run(scheduler, WARMUP_TOKENS);
    err.printf("glance: warm-up done in %.1f s (%d requests)%s%n", r.nanos() / 1e9, r.completed(),
        r.errors().isEmpty() ? "" : "; failed: " + String.join("; ", r.errors()));
    err.flush();
  }

  /** The KV pool as the engine sized it: blocks, their memory bound, and the prefix cache. */
  private static void describeKv(PrintWriter err, BatchScheduler s) {
    long positions = s.totalBlocks() * s.blockTokens();
    String memory = s.blockBytes() > 0 ? String.format(", up to %.0f MiB as used", s.totalBlocks()
        * (double) s.blockBytes() / (1 << 20)) : "";
    err.println("glance: KV pool of " + s.totalBlocks() + " blocks of " + s.blockTokens() + " positions ("
        + positions + " positions" + memory + "), prefix cache " + (s.prefixCaching() ? "on" : "off")
        + (s.heapLimited() ? "; --kv-budget lowered to half the Java heap (raise -Xmx in GLANCE_JAVA_OPTS)" : ""));
  }

  private BatchOptions batchOptions() {
    try {
      return new BatchOptions(maxBatch, maxPrefillTokens, kvBudget, BatchOptions.DEFAULT_BLOCK_TOKENS,
          !noPrefixCache);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage()
          + " (--max-batch, --max-prefill-tokens, --kv-budget)");
    }
  }
}
