package dev.glance.cli;

import dev.glance.engine.GlanceException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code glance} command. Wiring happens here and in the subcommands; errors of every kind
 * become one line on stderr and a non-zero exit code, with a stack trace only under --verbose.
 */
@Command(
    name = "glance",
    mixinStandardHelpOptions = true,
    version = "glance 0.1.0",
    description = "Self-hosted vision-language inference for GLM-4.6V-Flash checkpoints.",
    subcommands = {AskCommand.class, BenchCommand.class})
public final class Main implements Runnable {
  /** Exit codes: 2 bad usage or input, 3 model load failure, 4 unsupported checkpoint, 70 bug. */
  static final int EXIT_BAD_INPUT = 2;
  static final int EXIT_MODEL = 3;
  static final int EXIT_UNSUPPORTED = 4;
  static final int EXIT_INTERNAL = 70;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (try: glance ask --help)");
  }

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the CLI with the given streams; returns the exit code (used by tests, in-process). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((ex, line, parsed) -> {
      boolean verbose = false;
      for (var r = parsed; r != null; r = r.subcommand()) {
        verbose |= r.hasMatchedOption("--verbose");
      }
      return report(ex, err, verbose);
    });
    return cli.execute(args);
  }

  static int report(Exception ex, PrintWriter err, boolean verbose) {
    Throwable cause = ex;
    if (verbose) {
      ex.printStackTrace(err);
    }
    int code;
    String message;
    switch (cause) {
      case GlanceException.ModelLoad e -> {
        code = EXIT_MODEL;
        message = e.getMessage();
      }
      case GlanceException.Unsupported e -> {
        code = EXIT_UNSUPPORTED;
        message = e.getMessage();
      }
      case GlanceException e -> {
        code = EXIT_BAD_INPUT;
        message = e.getMessage();
      }
      case OutOfMemoryError e -> {
        code = EXIT_INTERNAL;
        message = "out of memory (raise -Xmx through GLANCE_JAVA_OPTS, or use a smaller model)";
      }
      default -> {
        code = EXIT_INTERNAL;
        message = "internal error: " + cause + (verbose ? "" : " (run with --verbose for details)");
      }
    }
    err.println("glance: " + message);
    err.flush();
    return code;
  }
}
