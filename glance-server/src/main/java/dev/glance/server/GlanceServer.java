package dev.glance.server;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.image.ImageDecoder;
import dev.glance.server.api.Admission;
import dev.glance.server.api.ApiError;
import dev.glance.server.api.ChatCompletionsRoute;
import dev.glance.server.api.ClientGoneException;
import dev.glance.server.api.ErrorMapper;
import dev.glance.server.api.ImageLoader;
import dev.glance.server.api.InferRoute;
import dev.glance.server.api.InferenceRunner;
import dev.glance.server.cache.ResponseCache;
import dev.glance.server.api.UsageRoute;
import dev.glance.server.fetch.AddressPolicy;
import dev.glance.server.fetch.ImageFetcher;
import dev.glance.server.http.ClientWatch;
import dev.glance.server.http.RequestBody;
import dev.glance.server.log.RequestLog;
import dev.glance.server.log.RequestRecord;
import dev.glance.server.log.RequestTrace;
import dev.glance.server.metrics.ServerMetrics;
import dev.glance.server.security.AccessControl;
import dev.glance.server.web.WebPage;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.Request;

/**
 * The HTTP service: Javalin on Jetty with virtual threads, serving {@code /infer}, the
 * OpenAI-compatible {@code /v1/chat/completions} and {@code /v1/models}, {@code /health},
 * {@code /metrics} and the web page; every request is counted in the metrics and API requests are
 * written to the request log.
 *
 * <p>It listens from {@link #start} on, answering 503 until {@link #serve} hands it a loaded
 * model, so a load balancer can watch {@code /health} while a large checkpoint loads. {@link
 * #shutdown} stops listening, lets in-flight requests finish within the grace period, cancels the
 * rest, and stops.
 */
public final class GlanceServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("dev.glance.server");
  private static final String TRACE = "glance.trace";
  private static final String ANSWERED = "glance.answered";
  private static final String CALLER = "glance.caller";
  /** Routes whose requests go to the request log even when they succeed. */
  private static final Set<String> LOGGED = Set.of(InferRoute.PATH, ChatCompletionsRoute.PATH, "/v1/models");

  private enum State { LOADING, READY, DRAINING, STOPPED }

  private final ServerConfig config;
  private final RequestLog requestLog;
  private final StateServices state;
  private final AccessControl access;
  private final ServerMetrics metrics = new ServerMetrics();
  private final ClientWatch watch = new ClientWatch();
  private final ImageFetcher fetcher;
  private final AtomicReference<ServedModel> model = new AtomicReference<>();
  private final AtomicReference<State> phase = new AtomicReference<>(State.LOADING);
  private final AtomicInteger inFlight = new AtomicInteger();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final Javalin app;

  private GlanceServer(ServerConfig config, RequestLog requestLog, StateServices state,
      ThroughputSettings throughput) {
    this.config = config;
    this.requestLog = requestLog;
    this.state = state;
    this.access = state.access();
    this.fetcher = new ImageFetcher(new AddressPolicy(config.fetchAllow()), config.fetchTimeout(),
        config.maxImageBytes());
    RequestBody body = new RequestBody(config.maxBodyBytes());
    ImageLoader images = new ImageLoader(new ImageDecoder(config.maxImagePixels(), config.maxImageBytes()), fetcher);
    InferenceRunner runner = new InferenceRunner(images, watch, metrics, config.requestTimeout(),
        throughput.queueTimeout(), new ResponseCache(throughput.responseCacheBytes(), throughput.responseCacheTtl()));
    ChatCompletionsRoute chat = new ChatCompletionsRoute(this::readyModel, config, body, runner);
    InferRoute infer = new InferRoute(this::readyModel, config, body, runner);
    WebPage page = new WebPage();
    UsageRoute usage = new UsageRoute(access, state.reports(), state.meter().costModel().currency(),
        java.time.Clock.systemUTC());
    this.app = Javalin.create(c -> {
      c.concurrency.useVirtualThreads = true;
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      c.http.prefer405over404 = true;
      c.http.maxRequestSize = config.maxBodyBytes();
      c.http.compressionStrategy = CompressionStrategy.NONE;
      c.requestLogger.http((ctx, ms) -> finished(ctx));
      c.routes.before(ctx -> {
        // Counted until Jetty has written the whole response, which is after the handler returns.
        inFlight.incrementAndGet();
        Request.addCompletionListener(ServletContextRequest.getServletContextRequest(ctx.req()),
            failure -> inFlight.decrementAndGet());
        ctx.attribute(TRACE, new RequestTrace(ctx.method().name(), "other", ctx.ip()));
      });
      c.routes.post(InferRoute.PATH, inference(InferRoute.PATH, infer::handle));
      c.routes.post(ChatCompletionsRoute.PATH, inference(ChatCompletionsRoute.PATH, chat::handle));
      c.routes.get("/v1/models", api("/v1/models", Guard.CALLER, (ctx, t) -> models(ctx, null)));
      c.routes.get("/v1/models/{id}", api("/v1/models", Guard.CALLER, (ctx, t) -> models(ctx, ctx.pathParam("id"))));
      c.routes.get(UsageRoute.PATH, api(UsageRoute.PATH, Guard.CALLER,
          (ctx, t) -> usage.handle(ctx, ctx.attribute(CALLER))));
      c.routes.get("/health", api("/health", Guard.PUBLIC, (ctx, t) -> health(ctx)));
      c.routes.get("/metrics", api("/metrics", access.settings().metricsNeedAdmin() ? Guard.ADMIN : Guard.NETWORK,
          (ctx, t) -> metrics(ctx)));
      for (String path : page.paths()) {
        c.routes.get(path, api(path, Guard.NETWORK, (ctx, t) -> page.serve(ctx)));
      }
      c.routes.exception(Exception.class, (e, ctx) -> answerError(ctx, e));
      c.routes.error(404, ctx -> {
        if (ctx.attribute(ANSWERED) == null) {
          answerError(ctx, new ApiError.NotFound("no route " + ctx.method().name() + " " + ctx.path()
              + "; see docs/API.md", null, "not_found"));
        }
      });
      c.routes.error(405, ctx -> {
        if (ctx.attribute(ANSWERED) == null) {
          answerError(ctx, new ApiError.MethodNotAllowed(ctx.method().name() + " is not allowed on "
              + ctx.path()));
        }
      });
    });
  }

  /**
   * Starts listening; until {@link #serve} is called every API request is answered 503. Access
   * control, the usage ledger and reports come from {@code state}.
   */
  public static GlanceServer start(ServerConfig config, RequestLog requestLog, StateServices state) {
    return start(config, requestLog, state, ThroughputSettings.defaults());
  }

  /** As {@link #start(ServerConfig, RequestLog, StateServices)}, with the response cache and queue timeout given. */
  public static GlanceServer start(ServerConfig config, RequestLog requestLog, StateServices state,
      ThroughputSettings throughput) {
    GlanceServer server = new GlanceServer(config, requestLog, state, throughput);
    server.app.start(config.host(), config.port());
    return server;
  }

  /** The port listened on (useful with port 0). */
  public int port() {
    return app.port();
  }

  /** Starts answering with {@code served}. */
  public void serve(ServedModel served) {
    if (!model.compareAndSet(null, served)) {
      throw new IllegalStateException("the server already serves a model");
    }
    metrics.gauges(served.service()::waiting, served.service()::running);
    metrics.kvGauges(served.service()::kvUsage);
    phase.compareAndSet(State.LOADING, State.READY);
  }

  /**
   * Stops listening, lets admitted requests finish for up to the configured grace period, cancels
   * what is left, then stops the HTTP server. Safe to call more than once and from a shutdown hook.
   */
  public void shutdown() {
    State before = phase.getAndUpdate(s -> s == State.STOPPED ? s : State.DRAINING);
    if (before == State.DRAINING || before == State.STOPPED) {
      awaitStopped();
      return;
    }
    for (Connector connector : app.jettyServer().server().getConnectors()) {
      if (connector instanceof NetworkConnector nc) {
        nc.close();
      }
    }
    long graceEnd = System.nanoTime() + config.shutdownGrace().toNanos();
    ServedModel served = model.get();
    if (served != null) {
      served.service().shutdown(config.shutdownGrace());
    }
    // The engine is done; handlers may still be writing what it produced (a stream lags behind the
    // engine) or the error of a cancelled request: give them the rest of the grace, and a little
    // more for the cancelled ones.
    long deadline = Math.max(graceEnd, System.nanoTime()) + TimeUnit.SECONDS.toNanos(2);
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    app.stop();
    fetcher.close();
    watch.close();
    phase.set(State.STOPPED);
    stopped.countDown();
  }

  /** Waits until {@link #shutdown} has finished. */
  public void awaitStopped() {
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    shutdown();
  }

  private ServedModel readyModel() {
    return switch (phase.get()) {
      case READY -> model.get();
      case LOADING -> throw new ApiError.Unavailable("the model is still loading; retry shortly", "model_loading",
          Duration.ofSeconds(5));
      case DRAINING, STOPPED -> throw new ApiError.Unavailable("the server is shutting down", "shutting_down",
          Duration.ofSeconds(5));
    };
  }

  /** A route handler that is given the request's trace. */
  @FunctionalInterface
  private interface Route {
    void handle(Context ctx, RequestTrace trace) throws Exception;
  }

  /** An inference route handler, given the request's trace and its admission. */
  @FunctionalInterface
  private interface InferenceHandler {
    void handle(Context ctx, RequestTrace trace, Admission admission) throws Exception;
  }

  /** Who may use a route (inference routes are admitted by {@link #inference}). */
  private enum Guard {
    /** Anyone: /health, for load balancers. */
    PUBLIC,
    /** Addresses in the allow-list: the web page, /metrics by default. */
    NETWORK,
    /** An allowed address with a valid key when keys are on: /v1/models, /v1/usage (non-admins see their own). */
    CALLER,
    /** An admin: /metrics when metrics_need_admin. */
    ADMIN
  }

  private Handler api(String name, Guard guard, Route route) {
    return ctx -> {
      RequestTrace trace = ctx.attribute(TRACE);
      trace.route(name);
      switch (guard) {
        case PUBLIC -> { }
        case NETWORK -> {
          var refused = access.checkAddress(peer(ctx), ctx.header("X-Forwarded-For"));
          if (refused.isPresent()) {
            throw ErrorMapper.refused(refused.get());
          }
        }
        case CALLER, ADMIN -> {
          AccessControl.Caller caller = identify(ctx, trace);
          ctx.attribute(CALLER, caller);
          if (guard == Guard.ADMIN && !access.isAdmin(caller)) {
            throw UsageRoute.notAdmin(name);
          }
        }
      }
      route.handle(ctx, trace);
    };
  }

  /**
   * An inference route: admitted by access control before its body is read (address, key, budget,
   * requests per minute, concurrency), then handled; the route reserves its token estimate once
   * the body is parsed and records its ledger row before answering. A request that fails after
   * admission is recorded here, before the error is answered; refusals are not usage and get no row.
   */
  private Handler inference(String name, InferenceHandler route) {
    return ctx -> {
      RequestTrace trace = ctx.attribute(TRACE);
      trace.route(name);
      readyModel();
      AccessControl.Admitted admitted = switch (access.admit(peer(ctx), ctx.header("X-Forwarded-For"),
          ctx.header("Authorization"), ctx.header("x-api-key"), 0)) {
        case AccessControl.Refused r -> throw ErrorMapper.refused(r);
        case AccessControl.Admitted a -> a;
      };
      identified(trace, admitted.caller());
      try (Admission admission = new Admission(access, admitted, state.meter(), trace)) {
        try {
          route.handle(ctx, trace, admission);
          if (admission.needsRecord()) {
            admission.record(ctx.status().getCode());
          }
        } catch (Exception e) {
          if (admission.needsRecord()) {
            recordFailure(admission, e instanceof ClientGoneException ? 499 : ErrorMapper.map(e).status());
          }
          throw e;
        }
      }
    };
  }

  private static void recordFailure(Admission admission, int status) {
    try {
      admission.record(status);
    } catch (RuntimeException e) {
      // The failure is answered all the same; the request log still has the request.
      LOG.log(System.Logger.Level.WARNING, "could not record a failed request in the usage ledger: " + e.getMessage());
    }
  }

  /** The caller of an identified route; throws the refusal (401, 403) otherwise. */
  private AccessControl.Caller identify(Context ctx, RequestTrace trace) {
    return switch (access.identify(peer(ctx), ctx.header("X-Forwarded-For"), ctx.header("Authorization"),
        ctx.header("x-api-key"))) {
      case AccessControl.Refused r -> throw ErrorMapper.refused(r);
      case AccessControl.Admitted a -> {
        identified(trace, a.caller());
        yield a.caller();
      }
    };
  }

  private static void identified(RequestTrace trace, AccessControl.Caller caller) {
    trace.client(caller.client().getHostAddress());
    caller.keyId().ifPresent(trace::keyId);
  }

  /** The TCP peer's address (an IP literal, so no name is looked up). */
  private static InetAddress peer(Context ctx) {
    try {
      return InetAddress.getByName(ctx.req().getRemoteAddr());
    } catch (UnknownHostException e) {
      throw new IllegalStateException("the peer address " + ctx.req().getRemoteAddr() + " is not an IP literal", e);
    }
  }

  private void health(Context ctx) {
    State s = phase.get();
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.put("status", switch (s) {
      case READY -> "ok";
      case LOADING -> "loading";
      case DRAINING, STOPPED -> "shutting_down";
    });
    ServedModel m = model.get();
    if (m != null) {
      body.put("model", m.name());
    }
    ctx.status(s == State.READY ? 200 : 503).contentType("application/json").result(body.toString());
  }

  private void models(Context ctx, String id) {
    ServedModel m = readyModel();
    ObjectNode entry = JsonNodeFactory.instance.objectNode();
    entry.put("id", m.name());
    entry.put("object", "model");
    entry.put("created", m.createdEpochSeconds());
    entry.put("owned_by", "glance");
    entry.put("max_model_len", m.contextLength());
    if (id != null) {
      if (!id.equals(m.name())) {
        throw new ApiError.NotFound("The model '" + id + "' does not exist; this server serves '" + m.name() + "'",
            "model", "model_not_found");
      }
      ctx.contentType("application/json").result(entry.toString());
      return;
    }
    ObjectNode list = JsonNodeFactory.instance.objectNode();
    list.put("object", "list");
    list.putArray("data").add(entry);
    ctx.contentType("application/json").result(list.toString());
  }

  private void metrics(Context ctx) throws java.io.IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    metrics.scrape(out);
    ctx.contentType(metrics.contentType()).result(out.toByteArray());
  }

  private void answerError(Context ctx, Exception e) {
    RequestTrace trace = ctx.attribute(TRACE);
    if (e instanceof ClientGoneException) {
      // Nginx's "client closed request": nothing can be sent, the log says what happened.
      if (trace != null) {
        trace.status(499);
      }
      return;
    }
    ApiError error = ErrorMapper.map(e);
    if (error instanceof ApiError.Internal) {
      LOG.log(System.Logger.Level.ERROR, "internal error on " + ctx.method().name() + " " + ctx.path(),
          error.getCause() != null ? error.getCause() : error);
    }
    if (trace != null) {
      trace.error(error.type(), error.code(), error.getMessage());
    }
    ctx.attribute(ANSWERED, Boolean.TRUE);
    if (ctx.res().isCommitted()) {
      return;
    }
    error.retryAfter().ifPresent(d -> ctx.header("Retry-After", Long.toString(Math.max(1, d.toSeconds()))));
    if (error instanceof ApiError.PayloadTooLarge) {
      // The rest of the body is never read: the connection cannot carry another request.
      ctx.header("Connection", "close");
    }
    ctx.status(error.status()).contentType("application/json").result(ErrorMapper.body(error).toString());
  }

  private void finished(Context ctx) {
    RequestTrace trace = ctx.attribute(TRACE);
    if (trace == null) {
      return;
    }
    int status = ctx.res().getStatus();
    RequestRecord record = trace.toRecord(status);
    metrics.request(trace.route(), record.status());
    if (trace.route().equals(InferRoute.PATH) || trace.route().equals(ChatCompletionsRoute.PATH)) {
      metrics.duration(trace.route(), record.timings().total() / 1000);
      for (RequestRecord.Flag f : trace.flags()) {
        metrics.flag(f.wire());
      }
    }
    if (LOGGED.contains(trace.route()) || record.status() >= 400) {
      requestLog.write(record);
    }
  }
}
