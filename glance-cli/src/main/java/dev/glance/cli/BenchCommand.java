package dev.glance.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.bench.BenchOptions;
import dev.glance.engine.bench.BenchShape;
import dev.glance.engine.bench.Benchmark;
import dev.glance.engine.bench.LlamaBench;
import dev.glance.engine.runtime.EngineOptions;
import dev.glance.engine.tensor.DType;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code glance bench}: speed of a random-weight model of a named shape on this machine, on the
 * CPU (default) or a GPU ({@code --device cuda[:N]}, see docs/GPU.md), measured in one run
 * against the hardware's own bandwidth (and, on the CPU, its own FMA peak).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Time preprocessing, vision, prefill and decode on a random-weight model of a named"
        + " shape; report decode against the measured memory-bandwidth roofline and the"
        + " compute-bound stages against the measured FMA peak.")
final class BenchCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu",
      description = "cpu, cuda or cuda:N (default ${DEFAULT-VALUE})")
  String device;

  @Option(names = "--work-dir", paramLabel = "DIR",
      description = "GPU only: where the synthetic checkpoint (a sparse file) is written (default: a temp folder)")
  java.nio.file.Path workDir;

  @Option(names = "--shape", paramLabel = "SHAPE", defaultValue = "mid",
      description = "tiny, mid or glm46v-flash (default ${DEFAULT-VALUE})")
  String shape;

  @Option(names = "--weights", paramLabel = "FORMAT", defaultValue = "bf16",
      description = "text decoder weights: bf16, f32, q8_0 or q4_0 (default ${DEFAULT-VALUE}); vision stays bf16")
  String weights;

  @Option(names = "--kv", paramLabel = "DTYPE", defaultValue = "f32", description = "KV cache: f32 or bf16")
  String kv;

  @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores)")
  Integer threads;

  @Option(names = "--decode-tokens", paramLabel = "N", defaultValue = "16",
      description = "decode steps timed after a 512-token prompt (default ${DEFAULT-VALUE})")
  int decodeTokens;

  @Option(names = "--repeat", paramLabel = "N", defaultValue = "1",
      description = "timed runs per measurement, fastest reported (default ${DEFAULT-VALUE})")
  int repeat;

  @Option(names = "--no-vision", description = "skip the vision tower timings")
  boolean noVision;

  @Option(names = "--bandwidth-mib", paramLabel = "MIB", defaultValue = "1024",
      description = "buffer read by the bandwidth loop (default ${DEFAULT-VALUE})")
  int bandwidthMib;

  @Option(names = "--llama-bench", paramLabel = "PROGRAM",
      description = "llama.cpp's llama-bench: run it on --llama-gguf after Glance's timings and report"
          + " the ratios against what it measures now (bench/llamacpp.sh builds both)")
  java.nio.file.Path llamaBench;

  @Option(names = "--llama-gguf", paramLabel = "FILE",
      description = "with --llama-bench: a GGUF of the same shape and weight format (bench/gguf_random.py)")
  java.nio.file.Path llamaGguf;

  @Option(names = "--write-checkpoint", paramLabel = "DIR",
      description = "write a servable zero-weight checkpoint of --shape into DIR (tokenizer from"
          + " --tokenizer-from) and exit, for `glance serve` throughput runs")
  java.nio.file.Path writeCheckpoint;

  @Option(names = "--tokenizer-from", paramLabel = "DIR",
      description = "with --write-checkpoint: the checkpoint whose tokenizer, chat template, preprocessor"
          + " config and special token ids to use")
  java.nio.file.Path tokenizerFrom;

  @Option(names = "--json", description = "print one JSON object")
  boolean json;

  @Option(names = "--verbose", description = "stack traces on errors")
  boolean verbose;

  @Override
  public Integer call() {
    CommandLine cl = spec.commandLine();
    if (threads != null && threads < 1) {
      throw new CommandLine.ParameterException(cl, "--threads must be at least 1, got " + threads);
    }
    if (decodeTokens < 1 || repeat < 1 || bandwidthMib < 1) {
      throw new CommandLine.ParameterException(cl, "--decode-tokens, --repeat and --bandwidth-mib must be positive");
    }
    if (writeCheckpoint != null) {
      return writeServable(cl);
    }
    if ((llamaBench == null) != (llamaGguf == null)) {
      throw new CommandLine.ParameterException(cl, "--llama-bench and --llama-gguf go together");
    }
    BackendChoice choice = BackendChoice.parse(device);
    if (choice.cuda()) {
      if (llamaBench != null) {
        throw new CommandLine.ParameterException(cl, "--llama-bench compares the CPU engine; drop it with --device "
            + device);
      }
      return gpu(choice, cl.getOut());
    }
    BenchOptions options = new BenchOptions(BenchShape.parse(shape),
        DType.parse(weights, "--weights", DType.BF16, DType.F32, DType.Q8_0, DType.Q4_0),
        EngineOptions.parseKv(kv, "--kv"),
        threads == null ? Runtime.getRuntime().availableProcessors() : threads,
        decodeTokens, repeat, !noVision, bandwidthMib * (1L << 20),
        llamaBench == null ? Optional.empty() : Optional.of(new LlamaBench(llamaBench, llamaGguf)));
    PrintWriter out = cl.getOut();
    PrintWriter err = cl.getErr();
    ObjectNode result = new Benchmark(options, step -> {
      err.println("bench: " + step);
      err.flush();
    }).run();
    if (json) {
      out.println(result.toString());
    } else {
      print(result, "", out);
    }
    out.flush();
    return 0;
  }

  /** Writes a zero-weight checkpoint that `glance serve` loads; prints its folder. */
  private int writeServable(CommandLine cl) {
    if (!dev.glance.cuda.bench.BenchShape.NAMES.contains(shape)) {
      throw new CommandLine.ParameterException(cl, "--shape must be one of "
          + dev.glance.cuda.bench.BenchShape.NAMES + ", got " + shape);
    }
    if (tokenizerFrom == null) {
      throw new CommandLine.ParameterException(cl, "--write-checkpoint needs --tokenizer-from DIR");
    }
    try {
      java.nio.file.Path dir = dev.glance.cuda.bench.SyntheticCheckpoint.writeServable(
          dev.glance.cuda.bench.BenchShape.named(shape), writeCheckpoint, tokenizerFrom);
      cl.getOut().println(dir);
      cl.getOut().flush();
      return 0;
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cl, e.getMessage());
    }
  }

  /** The GPU benchmark (glance-cuda): the same shapes, timed on the device. */
  private int gpu(BackendChoice choice, PrintWriter out) {
    if (!dev.glance.cuda.bench.BenchShape.NAMES.contains(shape)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--shape must be one of "
          + dev.glance.cuda.bench.BenchShape.NAMES + ", got " + shape);
    }
    java.nio.file.Path dir = workDir != null ? workDir
        : java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "glance-bench-" + shape);
    try (dev.glance.cuda.CudaBackend backend = choice.openCuda()) {
      var defaults = dev.glance.cuda.bench.GpuBenchmark.Options.defaults(shape, dir);
      var o = new dev.glance.cuda.bench.GpuBenchmark.Options(shape, dir, defaults.answerTokens(),
          defaults.questionTokens(), Math.max(3, repeat), defaults.decodeSteps(), defaults.bandwidthBytes(),
          defaults.seed());
      var r = dev.glance.cuda.bench.GpuBenchmark.run(backend, o, System.err);
      out.println(json ? r.toJson() : r.toText());
      out.flush();
      return 0;
    }
  }

  private static void print(JsonNode node, String prefix, PrintWriter out) {
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getValue().isObject()) {
        print(e.getValue(), prefix + e.getKey() + ".", out);
      } else if (e.getValue().isFloatingPointNumber()) {
        out.printf("%-48s %.3f%n", prefix + e.getKey(), e.getValue().asDouble());
      } else {
        out.printf("%-48s %s%n", prefix + e.getKey(), e.getValue().asText());
      }
    }
  }
}
