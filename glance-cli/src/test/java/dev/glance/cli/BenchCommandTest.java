package dev.glance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `glance bench` on the tiny shape: the report's fields are there and plausible (not its speed). */
class BenchCommandTest {
  record Run(int code, String out, String err) {}

  static Run bench(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] all = new String[args.length + 1];
    all[0] = "bench";
    System.arraycopy(args, 0, all, 1, args.length);
    int code = Main.run(all, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void tinyShapeReportsEveryMeasurementAsJson() throws Exception {
    Run r = bench("--shape", "tiny", "--weights", "q8_0", "--kv", "bf16", "--threads", "2",
        "--decode-tokens", "3", "--bandwidth-mib", "64", "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertEquals("tiny", j.path("shape").asText());
    assertEquals("q8_0", j.path("weights").asText());
    assertEquals("bf16", j.path("kv").asText());
    for (String key : List.of("memory_read_bandwidth_gb_per_s", "build_ms", "preprocess_1024x768_ms",
        "vision_336x336_ms", "vision_1024x768_ms", "prefill_128_tokens_per_s", "prefill_512_tokens_per_s",
        "decode_tokens_per_s", "decode_weight_bytes_per_token", "decode_roofline_tokens_per_s",
        "decode_roofline_fraction")) {
      assertTrue(j.path(key).isNumber(), key + " missing: " + r.out());
      assertTrue(j.path(key).asDouble() > 0, key + " not positive: " + j.path(key));
    }
    // 336x336 is a 24 x 24 patch grid; 1024x768 rounds to 1036 x 756 (multiples of 28): 74 x 54.
    assertEquals(576, j.path("vision_336x336_patches").asInt());
    assertEquals(74 * 54, j.path("vision_1024x768_patches").asInt());
    assertEquals(512, j.path("decode_context").asInt());
    double fraction = j.path("decode_tokens_per_s").asDouble() / j.path("decode_roofline_tokens_per_s").asDouble();
    assertEquals(fraction, j.path("decode_roofline_fraction").asDouble(), 1e-9 * Math.max(1, fraction));
    // Compute-bound stages against the FMA peak measured in the same run: positive, and not above
    // the peak (a FLOP overcount or a peak loop that C2 did not compile would show here).
    assertTrue(j.path("fma_peak_gflop_per_s").asDouble() > 0, j.toString());
    for (String key : List.of("vision_336x336_fma_fraction", "vision_1024x768_fma_fraction",
        "prefill_128_fma_fraction", "prefill_512_fma_fraction")) {
      double f = j.path(key).asDouble();
      assertTrue(f > 0 && f <= 1, key + ": " + j.path(key));
    }
    JsonNode mem = j.path("memory");
    for (String key : List.of("weights_bytes", "kv_cache_bytes", "rss_bytes", "peak_rss_bytes")) {
      assertTrue(mem.path(key).asLong() > 0, "memory." + key + ": " + mem);
    }
    assertTrue(mem.path("peak_rss_bytes").asLong() >= mem.path("rss_bytes").asLong());
    assertTrue(j.path("params").path("total").asLong() > j.path("params").path("text").asLong());
    JsonNode batched = j.path("decode_batched");
    double one = batched.path("batch_1_tokens_per_s").asDouble();
    assertTrue(one > 0, "decode_batched: " + batched);
    for (int n : new int[] {4, 8, 16}) {
      double rate = batched.path("batch_" + n + "_tokens_per_s").asDouble();
      assertTrue(rate > 0, "batch " + n + ": " + batched);
      assertEquals(rate / one, batched.path("batch_" + n + "_vs_batch_1").asDouble(), 1e-9 * rate / one);
      double f = batched.path("batch_" + n + "_fma_fraction").asDouble();
      assertTrue(f > 0 && f <= 1, "batch " + n + " fma fraction: " + batched);
    }
  }

  @Test
  void plainOutputAndSkippingTheVisionTower() {
    Run r = bench("--shape", "tiny", "--no-vision", "--decode-tokens", "2", "--bandwidth-mib", "16");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("decode_roofline_fraction"), r.out());
    assertFalse(r.out().contains("vision_336x336_ms"), r.out());
  }

  @Test
  void badFlagsAreOneLineErrors() {
    for (String[] args : new String[][] {{"--shape", "huge"}, {"--weights", "q5_k"}, {"--kv", "f16"},
        {"--threads", "0"}}) {
      Run r = bench(args);
      assertNotEquals(0, r.code(), String.join(" ", args));
      String err = r.err().strip();
      assertTrue(err.contains(args[0]), err);
      assertFalse(err.contains("\tat ") || err.contains("Exception"), err);
    }
  }

  /** The zero-weight checkpoint that serve throughput runs use loads and generates with an image. */
  @Test
  void writesAServableCheckpointThatAnswersWithAnImage(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws Exception {
    java.nio.file.Path dir = tmp.resolve("tiny");
    Run w = bench("--write-checkpoint", dir.toString(), "--shape", "tiny", "--tokenizer-from",
        AskCommandTest.FIXTURE.toString());
    assertEquals(0, w.code(), w.err());
    assertEquals(dir.toString(), w.out().strip());
    JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
    assertEquals(494, config.path("image_token_id").asInt(), "the fixture tokenizer's image placeholder");
    assertEquals(490, config.path("image_start_token_id").asInt());
    // Dense, as a real checkpoint: served from holes, BF16 decode slowed down (PERFORMANCE.md, session 8).
    java.nio.file.Path weights = dir.resolve("model.safetensors");
    Process stat = new ProcessBuilder("stat", "--format=%b %B", weights.toString()).start();
    String[] blocks = new String(stat.getInputStream().readAllBytes()).trim().split(" ");
    assertEquals(0, stat.waitFor());
    long allocated = Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
    assertTrue(allocated >= java.nio.file.Files.size(weights), "dense: " + allocated + " bytes on disk for "
        + java.nio.file.Files.size(weights));
    // Writing the same checkpoint again keeps the weights file.
    java.nio.file.attribute.FileTime written = java.nio.file.Files.getLastModifiedTime(weights);
    Thread.sleep(20);
    Run again = bench("--write-checkpoint", dir.toString(), "--shape", "tiny", "--tokenizer-from",
        AskCommandTest.FIXTURE.toString());
    assertEquals(0, again.code(), again.err());
    assertEquals(written, java.nio.file.Files.getLastModifiedTime(weights));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new String[] {"ask", "--model", dir.toString(), "--max-tokens", "4", "--temperature", "0",
        "--image", AskCommandTest.FIXTURE.resolve("case0_0.png").toString(), "--json", "What is this?"},
        new PrintWriter(out, true), new PrintWriter(err, true));
    assertEquals(0, code, err.toString());
    JsonNode j = new ObjectMapper().readTree(out.toString());
    assertTrue(j.path("image_tokens").asInt() > 0, out.toString());
    assertEquals(4, j.path("completion_tokens").asInt(), "zero weights never reach an end token: " + out);
    assertEquals("length", j.path("finish_reason").asText());
  }

  @Test
  void writingACheckpointNeedsATokenizerSource(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
    Run r = bench("--write-checkpoint", tmp.resolve("x").toString(), "--shape", "tiny");
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains("--tokenizer-from"), r.err());
    Run bad = bench("--write-checkpoint", tmp.resolve("y").toString(), "--shape", "tiny", "--tokenizer-from",
        tmp.toString());
    assertNotEquals(0, bad.code());
    assertTrue(bad.err().contains("tokenizer.json"), bad.err());
  }
  /** A stand-in for llama-bench: records its arguments, prints what {@code json} says, exits {@code code}. */
  private static java.nio.file.Path fakeLlamaBench(java.nio.file.Path dir, String json, int code) throws Exception {
    java.nio.file.Path program = dir.resolve("llama-bench");
    java.nio.file.Files.writeString(program, "#!/bin/sh\n"
        + "echo \"$@\" > '" + dir.resolve("args") + "'\n"
        + "echo 'load: something went wrong' >&2\n"
        + "cat <<'EOF'\n" + json + "\nEOF\n"
        + "exit " + code + "\n");
    assertTrue(program.toFile().setExecutable(true));
    return program;
  }

  /**
   * What llama-bench -o json prints for the tiny shape (trimmed to the fields read): its parameter
   * count is the tiny text decoder's, 427648, as llama.cpp reported it for bench/gguf_random.py's
   * tiny GGUF.
   */
  private static final String LLAMA_JSON = """
      [{"build_commit": "abc1234", "model_type": "glm4 ?B F16", "model_n_params": 427648, "cpu_info": "Some CPU",
        "n_prompt": 128, "n_gen": 0, "avg_ts": 1000.5},
       {"build_commit": "abc1234", "model_type": "glm4 ?B F16", "model_n_params": 427648, "cpu_info": "Some CPU",
        "n_prompt": 512, "n_gen": 0, "avg_ts": 800.25},
       {"build_commit": "abc1234", "model_type": "glm4 ?B F16", "model_n_params": 427648, "cpu_info": "Some CPU",
        "n_prompt": 0, "n_gen": 3, "avg_ts": 250.0}]""";

  /** With --llama-bench the ratios are against what that program measured in this run. */
  @Test
  void llamaCppRatiosComeFromTheProgramRunNow(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws Exception {
    java.nio.file.Path program = fakeLlamaBench(tmp, LLAMA_JSON, 0);
    java.nio.file.Path gguf = java.nio.file.Files.writeString(tmp.resolve("tiny-f16.gguf"), "GGUF");
    Run r = bench("--shape", "tiny", "--no-vision", "--threads", "2", "--decode-tokens", "3",
        "--bandwidth-mib", "16", "--llama-bench", program.toString(), "--llama-gguf", gguf.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals("-m " + gguf + " -t 2 -p 128,512 -n 3 -r 1 -o json",
        java.nio.file.Files.readString(tmp.resolve("args")).strip());
    JsonNode j = new ObjectMapper().readTree(r.out());
    JsonNode l = j.path("vs_llama_cpp");
    assertTrue(l.path("reference").asText().startsWith("measured in this run"), l.toString());
    assertEquals("abc1234", l.path("llama_cpp_build_commit").asText());
    assertEquals(1000.5, l.path("reference_prompt_128_tokens_per_s").asDouble());
    assertEquals(800.25, l.path("reference_prompt_512_tokens_per_s").asDouble());
    assertEquals(250.0, l.path("reference_generation_tokens_per_s").asDouble());
    assertEquals(j.path("prefill_128_tokens_per_s").asDouble() / 1000.5, l.path("prefill_128_ratio").asDouble(), 1e-12);
    assertEquals(j.path("prefill_512_tokens_per_s").asDouble() / 800.25, l.path("prefill_512_ratio").asDouble(), 1e-12);
    assertEquals(j.path("decode_tokens_per_s").asDouble() / 250.0, l.path("decode_ratio").asDouble(), 1e-12);
  }

  @Test
  void llamaBenchFailuresAreOneLineErrors(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
    java.nio.file.Path gguf = java.nio.file.Files.writeString(tmp.resolve("m.gguf"), "GGUF");
    String[] common = {"--shape", "tiny", "--no-vision", "--decode-tokens", "3", "--bandwidth-mib", "16"};
    record Case(String[] args, String says) {}
    java.nio.file.Path failing = java.nio.file.Files.createDirectory(tmp.resolve("failing"));
    java.nio.file.Path garbled = java.nio.file.Files.createDirectory(tmp.resolve("garbled"));
    java.nio.file.Path partial = java.nio.file.Files.createDirectory(tmp.resolve("partial"));
    java.nio.file.Path other = java.nio.file.Files.createDirectory(tmp.resolve("other"));
    java.nio.file.Path otherFormat = java.nio.file.Files.createDirectory(tmp.resolve("other-format"));
    List<Case> cases = List.of(
        new Case(new String[] {"--llama-bench", "/bin/true"}, "--llama-bench and --llama-gguf go together"),
        new Case(new String[] {"--llama-bench", tmp.resolve("none").toString(), "--llama-gguf", gguf.toString()},
            "is not an executable file"),
        new Case(new String[] {"--llama-bench", "/bin/true", "--llama-gguf", tmp.resolve("no.gguf").toString()},
            "--llama-gguf: " + tmp.resolve("no.gguf") + " is not a file"),
        new Case(new String[] {"--llama-bench", fakeLlamaBench(failing, LLAMA_JSON, 3).toString(),
            "--llama-gguf", gguf.toString()}, "exited with 3: load: something went wrong"),
        new Case(new String[] {"--llama-bench", fakeLlamaBench(garbled, "not json", 0).toString(),
            "--llama-gguf", gguf.toString()}, "its output is not JSON"),
        new Case(new String[] {"--llama-bench", fakeLlamaBench(partial, LLAMA_JSON.replace("512", "256"), 0).toString(),
            "--llama-gguf", gguf.toString()}, "no test with n_prompt=512"),
        new Case(new String[] {"--llama-bench", fakeLlamaBench(other, LLAMA_JSON.replace("427648", "1857288192"), 0)
            .toString(), "--llama-gguf", gguf.toString()},
            "has 1857288192 parameters, the text decoder of --shape tiny has 427648"),
        new Case(new String[] {"--weights", "q4_0", "--llama-bench", fakeLlamaBench(otherFormat, LLAMA_JSON, 0).toString(),
            "--llama-gguf", gguf.toString()}, "holds F16 weights, --weights q4_0 is compared with Q4_0"));
    for (Case c : cases) {
      String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(common), java.util.Arrays.stream(c.args()))
          .toArray(String[]::new);
      Run r = bench(args);
      assertNotEquals(0, r.code(), String.join(" ", args));
      String err = r.err().strip();
      assertTrue(err.contains(c.says()), "expected '" + c.says() + "' in: " + err);
      assertFalse(err.contains("\tat ") || err.contains("Exception"), err);
    }
  }
}
