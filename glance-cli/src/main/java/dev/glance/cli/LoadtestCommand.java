package dev.glance.cli;

import dev.glance.cli.loadtest.LoadGenerator;
import dev.glance.cli.loadtest.LoadPlan;
import dev.glance.engine.GlanceException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code glance loadtest}: closed-loop load against a running server on loopback. */
@Command(name = "loadtest", mixinStandardHelpOptions = true,
    description = "Send closed-loop load to a running Glance server and report throughput and latency.")
final class LoadtestCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--server", defaultValue = "http://127.0.0.1:8080", description = "server URL (default ${DEFAULT-VALUE})")
  URI server;

  @Option(names = "--model", defaultValue = "glance", description = "model name to send")
  String model;

  @Option(names = "--clients", defaultValue = "4", description = "concurrent clients (default ${DEFAULT-VALUE})")
  int clients;

  @Option(names = "--duration", defaultValue = "30", description = "seconds to run at most (default ${DEFAULT-VALUE})")
  int seconds;

  @Option(names = "--requests", defaultValue = "1000", description = "requests to send at most (default ${DEFAULT-VALUE})")
  int requests;

  @Option(names = "--repeat", defaultValue = "0.5", description = "fraction of requests reusing an earlier image (default ${DEFAULT-VALUE})")
  double repeat;

  @Option(names = "--images", defaultValue = "4", description = "distinct repeated images (default ${DEFAULT-VALUE})")
  int images;

  @Option(names = "--image-size", defaultValue = "336", description = "image side in pixels (default ${DEFAULT-VALUE})")
  int imageSize;

  @Option(names = "--max-tokens", defaultValue = "16", description = "max_tokens per request (default ${DEFAULT-VALUE})")
  int maxTokens;

  @Option(names = "--api-key", description = "API key to send (default: $GLANCE_API_KEY)")
  String apiKey;

  @Option(names = "--seed", defaultValue = "1", description = "random seed for images and the request mix")
  long seed;

  @Option(names = "--json", description = "print the report as JSON")
  boolean json;

  @Option(names = "--verbose", description = "stack traces on errors")
  boolean verbose;

  @Override
  public Integer call() throws InterruptedException {
    String host = server.getHost();
    if (host == null || !(host.equals("127.0.0.1") || host.equals("localhost") || host.equals("[::1]") || host.equals("::1"))) {
      throw new GlanceException.BadRequest("--server must be on loopback (127.0.0.1, ::1 or localhost), got " + server);
    }
    LoadPlan plan;
    try {
      plan = new LoadPlan(server, model, clients, Duration.ofSeconds(seconds), requests, repeat, images, imageSize,
          maxTokens, apiKey != null ? apiKey : System.getenv("GLANCE_API_KEY"), seed);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    var report = new LoadGenerator(plan).run();
    spec.commandLine().getOut().print(json ? report.toJson() + "\n" : report.toTable());
    spec.commandLine().getOut().flush();
    return report.ok() > 0 ? 0 : 1;
  }
}
