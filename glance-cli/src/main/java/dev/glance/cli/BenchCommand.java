package dev.glance.cli;

import dev.glance.cuda.CudaBackend;
import dev.glance.cuda.bench.BenchShape;
import dev.glance.cuda.bench.GpuBenchmark;
import dev.glance.engine.GlanceException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code glance bench}: speed of a random-weight model of a named shape, measured in one run
 * against the hardware's own bandwidth. This build measures GPUs ({@code --device cuda[:N]});
 * see docs/GPU.md for the figures it prints.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmark a random-weight model of a named shape (no checkpoint needed).")
final class BenchCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cuda",
      description = "cuda or cuda:N (default ${DEFAULT-VALUE})")
  String device;

  @Option(names = "--shape", paramLabel = "NAME", defaultValue = "glm46v-flash",
      description = "glm46v-flash, mid or tiny (default ${DEFAULT-VALUE})")
  String shape;

  @Option(names = "--work-dir", paramLabel = "DIR",
      description = "where the synthetic checkpoint (a sparse file) is written (default: a temp folder)")
  Path workDir;

  @Option(names = "--repeats", paramLabel = "N", defaultValue = "3", description = "end-to-end runs (median)")
  int repeats;

  @Option(names = "--json", description = "print one JSON object")
  boolean json;

  @Option(names = "--verbose", description = "stack traces on errors")
  boolean verbose;

  @Override
  public Integer call() {
    if (!BenchShape.NAMES.contains(shape)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--shape must be one of " + BenchShape.NAMES
          + ", got " + shape);
    }
    if (repeats < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--repeats must be at least 1, got " + repeats);
    }
    BackendChoice choice = BackendChoice.parse(device);
    if (!choice.cuda()) {
      throw new GlanceException.BadRequest("glance bench --device " + device
          + ": this build benchmarks GPUs only (--device cuda or cuda:N)");
    }
    Path dir = workDir != null ? workDir : Path.of(System.getProperty("java.io.tmpdir"), "glance-bench-" + shape);
    PrintWriter out = spec.commandLine().getOut();
    try (CudaBackend backend = choice.openCuda()) {
      GpuBenchmark.Options defaults = GpuBenchmark.Options.defaults(shape, dir);
      GpuBenchmark.Options o = new GpuBenchmark.Options(shape, dir, defaults.answerTokens(), defaults.questionTokens(),
          repeats, defaults.decodeSteps(), defaults.bandwidthBytes(), defaults.seed());
      GpuBenchmark.Report r = GpuBenchmark.run(backend, o, System.err);
      out.println(json ? r.toJson() : r.toText());
      out.flush();
      return 0;
    }
  }
}
