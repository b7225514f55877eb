package dev.glance.engine.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.glance.engine.GlanceException;
import dev.glance.engine.tensor.DType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * llama.cpp's {@code llama-bench}, run by {@code glance bench} on a GGUF of the same shape right
 * after Glance's own timings, so that the llama.cpp ratios come from one run on one machine (the
 * neighbours, the clock and the memory as they are now) instead of from a table measured
 * elsewhere. {@code bench/llamacpp.sh} builds the program and writes the GGUF files.
 *
 * <p>It times prompts of 128 and 512 tokens and a generation of as many tokens as Glance's decode,
 * with as many threads and repetitions as Glance's run, and reports llama-bench's mean rates.
 *
 * @param program the llama-bench executable
 * @param gguf the model file (random weights of the bench shape, in the format being compared)
 */
public record LlamaBench(Path program, Path gguf) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What one llama-bench run measured, with where it came from; {@code params} is the GGUF's
   * parameter count as llama.cpp counts it (every tensor, norms and biases included).
   */
  public record Measured(LlamaCppReference rates, long params, String buildCommit, String modelType, String cpu) {

    /**
     * Refuses a GGUF that is not the benchmarked model: ratios against another shape or format
     * would mean nothing. The GGUF holds exactly the text decoder's tensors
     * (bench/gguf_random.py), so its parameter count equals {@code textParams}; llama-bench names
     * the file type last in the model type ("glm4 ?B Q4_0"), and BF16 is compared with F16.
     */
    public void requireSameModel(Path gguf, BenchShape shape, long textParams, DType weights) {
      if (params != textParams) {
        throw new GlanceException.BadRequest("--llama-gguf: " + gguf + " has " + params
            + " parameters, the text decoder of --shape " + shape.label() + " has " + textParams
            + "; write one of this shape with bench/gguf_random.py --shape " + shape.label());
      }
      String[] words = modelType.strip().split("\\s+");
      String type = words[words.length - 1];
      List<String> expected = weights == DType.BF16 ? List.of("F16", "BF16") : List.of(weights.name());
      if (!expected.contains(type)) {
        throw new GlanceException.BadRequest("--llama-gguf: " + gguf + " holds " + type + " weights, --weights "
            + weights.flagName() + " is compared with " + String.join(" or ", expected));
      }
    }
  }

  public LlamaBench {
    if (!Files.isRegularFile(program) || !Files.isExecutable(program)) {
      throw new GlanceException.BadRequest("--llama-bench: " + program + " is not an executable file");
    }
    if (!Files.isRegularFile(gguf)) {
      throw new GlanceException.BadRequest("--llama-gguf: " + gguf + " is not a file");
    }
  }

  /** The command line that measures prompts of 128 and 512 tokens and a generation of {@code gen}. */
  List<String> command(int threads, int gen, int repeat) {
    return List.of(program.toString(), "-m", gguf.toString(), "-t", Integer.toString(threads),
        "-p", "128,512", "-n", Integer.toString(gen), "-r", Integer.toString(repeat), "-o", "json");
  }

  /** Runs llama-bench and reads its JSON; a failed or unreadable run is a BadRequest naming the file. */
  public Measured run(int threads, int gen, int repeat, long timeoutSeconds) {
    List<String> cmd = command(threads, gen, repeat);
    Path stdout = null;
    Path stderr = null;
    try {
      stdout = Files.createTempFile("glance-llama-bench", ".json");
      stderr = Files.createTempFile("glance-llama-bench", ".log");
      Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new GlanceException.BadRequest("--llama-bench: " + program + " did not finish in "
            + timeoutSeconds + " s");
      }
      if (p.exitValue() != 0) {
        throw new GlanceException.BadRequest("--llama-bench: " + String.join(" ", cmd) + " exited with "
            + p.exitValue() + ": " + tail(Files.readString(stderr, StandardCharsets.UTF_8)));
      }
      return parse(Files.readString(stdout, StandardCharsets.UTF_8), gen);
    } catch (IOException e) {
      throw new GlanceException.BadRequest("--llama-bench: cannot run " + program + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GlanceException.BadRequest("--llama-bench: interrupted");
    } finally {
      deleteQuietly(stdout);
      deleteQuietly(stderr);
    }
  }

  /**
   * Reads llama-bench's {@code -o json} output: one object per test, prompt tests with
   * {@code n_gen = 0}, the generation test with {@code n_prompt = 0}; {@code avg_ts} is tokens/s.
   */
  static Measured parse(String json, int gen) {
    JsonNode tests;
    try {
      tests = JSON.readTree(json);
    } catch (IOException e) {
      throw new GlanceException.BadRequest("--llama-bench: its output is not JSON: " + e.getMessage());
    }
    if (tests == null || !tests.isArray() || tests.isEmpty()) {
      throw new GlanceException.BadRequest("--llama-bench: expected a JSON array of tests, got: "
          + abbreviate(json));
    }
    double p128 = rate(tests, 128, 0);
    double p512 = rate(tests, 512, 0);
    double g = rate(tests, 0, gen);
    JsonNode first = tests.get(0);
    return new Measured(new LlamaCppReference(p128, p512, g), first.path("model_n_params").asLong(-1),
        first.path("build_commit").asText(""),
        first.path("model_type").asText(""), first.path("cpu_info").asText(""));
  }

  private static double rate(JsonNode tests, int prompt, int gen) {
    for (JsonNode t : tests) {
      if (t.path("n_prompt").asInt(-1) == prompt && t.path("n_gen").asInt(-1) == gen) {
        double ts = t.path("avg_ts").asDouble(Double.NaN);
        if (!(ts > 0)) {
          throw new GlanceException.BadRequest("--llama-bench: test pp" + prompt + "/tg" + gen
              + " has no positive avg_ts");
        }
        return ts;
      }
    }
    throw new GlanceException.BadRequest("--llama-bench: its output has no test with n_prompt=" + prompt
        + " and n_gen=" + gen);
  }

  private static String tail(String log) {
    List<String> lines = new ArrayList<>(log.strip().lines().toList());
    return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
  }

  private static String abbreviate(String s) {
    String t = s.strip();
    return t.length() <= 200 ? t : t.substring(0, 200) + "...";
  }

  private static void deleteQuietly(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // a temp file left behind is harmless
      }
    }
  }
}
