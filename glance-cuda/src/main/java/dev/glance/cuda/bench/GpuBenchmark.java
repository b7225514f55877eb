package dev.glance.cuda.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.cuda.CudaBackend;
import dev.glance.cuda.runtime.Device;
import dev.glance.engine.generate.Sampler;
import dev.glance.engine.image.ImageProcessor;
import dev.glance.engine.image.PixelValues;
import dev.glance.engine.image.PreprocessorConfig;
import dev.glance.engine.image.RgbImage;
import dev.glance.engine.model.Glm4vModel;
import dev.glance.engine.model.RopeIndex;
import dev.glance.engine.model.Sequence;
import dev.glance.engine.tensor.Tensor;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The GPU benchmark: a random-weight model of a named shape on a {@link CudaBackend}, measured
 * the way the issue states its targets, all in one run: the card's device-to-device copy
 * bandwidth, weight load time, then for a 336x336 image and a question of 30 tokens
 * (about 180 prompt tokens): preprocessing, vision tower, prefill, decode per token at batch 1,
 * and end to end for 20 answer tokens; decode as a fraction of the bandwidth roofline (weight
 * bytes a decode step reads / copy bandwidth). Greedy tokens are picked on the host from the
 * logits a step returns, as the engine does. Concurrent (batched) decode is not measured: the
 * backend has no batched decode yet.
 */
public final class GpuBenchmark {

  /** What to run. {@code workDir} holds the synthetic checkpoint (a sparse file). */
  public record Options(String shape, Path workDir, int answerTokens, int questionTokens, int repeats,
      int decodeSteps, long bandwidthBytes, long seed) {

    public static Options defaults(String shape, Path workDir) {
      return new Options(shape, workDir, 20, 30, 3, 64, 1L << 30, 1234);
    }
  }

  /** Every figure of one run (milliseconds unless named otherwise); medians over the repeats. */
  public record Report(String device, String shape, long weightBytes, long decodeWeightBytes, double loadSeconds,
      double copyBandwidthGBs, int imageTokens, int promptTokens, double preprocessMs, double visionMs,
      double prefillMs, double decodeMsPerToken, double endToEndMs, int answerTokens, double decodeRooflineMs,
      double decodeRooflineFraction, double allWeightsRooflineMs, long[] poolBytes) {

    public String toJson() {
      ObjectNode o = new ObjectMapper().createObjectNode();
      o.put("device", device);
      o.put("shape", shape);
      o.put("weight_bytes", weightBytes);
      o.put("decode_weight_bytes", decodeWeightBytes);
      o.put("load_seconds", loadSeconds);
      o.put("copy_bandwidth_gb_s", copyBandwidthGBs);
      o.put("image_tokens", imageTokens);
      o.put("prompt_tokens", promptTokens);
      o.put("preprocess_336_ms", preprocessMs);
      o.put("vision_336_ms", visionMs);
      o.put("prefill_ms", prefillMs);
      o.put("decode_ms_per_token", decodeMsPerToken);
      o.put("decode_tokens_per_s", 1000.0 / decodeMsPerToken);
      o.put("end_to_end_ms", endToEndMs);
      o.put("answer_tokens", answerTokens);
      o.put("decode_roofline_ms", decodeRooflineMs);
      o.put("decode_roofline_fraction", decodeRooflineFraction);
      o.put("all_weights_roofline_ms", allWeightsRooflineMs);
      o.put("concurrent_32_tokens_per_s", "not measured: no batched decode yet");
      o.put("device_memory_live_bytes", poolBytes[0]);
      o.put("device_memory_peak_pool_bytes", poolBytes[2]);
      return o.toString();
    }

    public String toText() {
      return String.format("""
          device               %s
          shape                %s (%.2f GB of bf16 weights, %.2f GB read per decode step)
          load                 %.1f s (synthetic checkpoint -> pinned staging -> device, then random fill)
          copy bandwidth       %.0f GB/s (device to device, read + write)
          prompt               %d tokens (%d image tokens from 336x336, question of 30)
          preprocess 336x336   %.2f ms (CPU)
          vision 336x336       %.2f ms
          prefill              %.2f ms
          decode               %.2f ms/token (%.1f tokens/s), roofline %.2f ms -> %.2f of roofline
          end to end           %.1f ms for %d answer tokens
          all-weights floor    %.2f ms/token (all weight bytes / copy bandwidth, the issue's definition)
          concurrent 32        not measured (no batched decode yet)
          """, device, shape, weightBytes / 1e9, decodeWeightBytes / 1e9, loadSeconds, copyBandwidthGBs, promptTokens,
          imageTokens, preprocessMs, visionMs, prefillMs, decodeMsPerToken, 1000.0 / decodeMsPerToken,
          decodeRooflineMs, decodeRooflineFraction, endToEndMs, answerTokens, allWeightsRooflineMs);
    }
  }

  private GpuBenchmark() {}

  public static Report run(CudaBackend backend, Options o, PrintStream log) {
    BenchShape shape = BenchShape.named(o.shape());
    log.println("bench: " + backend.info() + ", shape " + shape.name());
    double bandwidth = copyBandwidth(backend, o.bandwidthBytes());
    log.printf("bench: copy bandwidth %.0f GB/s%n", bandwidth / 1e9);

    long t0 = System.nanoTime();
    Path dir = SyntheticCheckpoint.write(shape, o.workDir());
    try (Glm4vModel model = Glm4vModel.load(dir, backend)) {
      backend.randomizeMatrices(o.seed(), 0.02f);
      backend.synchronize();
      double loadSeconds = (System.nanoTime() - t0) / 1e9;
      log.printf("bench: loaded %.2f GB in %.1f s%n", backend.weightBytes() / 1e9, loadSeconds);

      RgbImage image = randomImage(336, 336, o.seed());
      ImageProcessor processor = new ImageProcessor(PreprocessorConfig.defaults());
      int merge = model.config().vision().spatialMergeSize();
      List<double[]> runs = new ArrayList<>();
      Run first = endToEnd(model, backend, processor, image, o, merge);
      log.printf("bench: warm-up end to end %.1f ms%n", first.total());
      for (int i = 0; i < o.repeats(); i++) {
        Run r = endToEnd(model, backend, processor, image, o, merge);
        runs.add(new double[] {r.preprocess(), r.vision(), r.prefill(), r.total()});
        log.printf("bench: run %d: preprocess %.2f, vision %.2f, prefill %.2f, end to end %.1f ms%n", i + 1,
            r.preprocess(), r.vision(), r.prefill(), r.total());
      }
      double decodeMs = decodeMsPerToken(model, backend, processor, image, o, merge);
      long decodeBytes = SyntheticCheckpoint.decodeWeightBytes(shape);
      double rooflineMs = decodeBytes / bandwidth * 1000;
      return new Report(backend.info().toString(), shape.name(), backend.weightBytes(), decodeBytes, loadSeconds,
          bandwidth / 1e9, first.imageTokens(), first.promptTokens(), median(runs, 0), median(runs, 1),
          median(runs, 2), decodeMs, median(runs, 3), o.answerTokens(), rooflineMs, rooflineMs / decodeMs,
          SyntheticCheckpoint.totalWeightBytes(shape) / bandwidth * 1000, backend.poolBytes());
    }
  }

  /** Device-to-device copies of {@code bytes}; bytes read plus bytes written per second. */
  static double copyBandwidth(CudaBackend backend, long bytes) {
    Device d = backend.device();
    backend.synchronize();
    d.bind();
    long a = d.malloc(bytes);
    long b = d.malloc(bytes);
    try {
      d.zero(a, bytes);
      d.copyOnDevice(b, a, bytes);
      d.synchronize();
      int reps = 10;
      long t = System.nanoTime();
      for (int i = 0; i < reps; i++) {
        d.copyOnDevice(i % 2 == 0 ? b : a, i % 2 == 0 ? a : b, bytes);
      }
      d.synchronize();
      double s = (System.nanoTime() - t) / 1e9;
      return 2.0 * bytes * reps / s;
    } finally {
      d.free(a);
      d.free(b);
    }
  }

  private record Run(double preprocess, double vision, double prefill, double total, int imageTokens,
      int promptTokens) {}

  private static Run endToEnd(Glm4vModel model, CudaBackend backend, ImageProcessor processor, RgbImage image,
      Options o, int merge) {
    long t0 = System.nanoTime();
    PixelValues px = processor.process(image);
    long t1 = System.nanoTime();
    Tensor embeds = model.encodeImages(px.values(), px.grids());
    backend.synchronize();
    long t2 = System.nanoTime();
    int[] ids = prompt(model, embeds.rows(), o.questionTokens());
    Sequence seq = model.newSequence(ids.length + o.answerTokens() + 1);
    RopeIndex index = RopeIndex.of(ids, px.grids(), model.config().tokens(), merge);
    seq.prefill(model.embedPrompt(ids, embeds), index, null);
    long t3 = System.nanoTime();
    float[] logits = seq.logits();
    for (int i = 0; i < o.answerTokens(); i++) {
      int token = Sampler.argmax(logits);
      if (i + 1 < o.answerTokens()) {
        logits = seq.step(token);
      }
    }
    long t4 = System.nanoTime();
    return new Run((t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t0) / 1e6, embeds.rows(), ids.length);
  }

  private static double decodeMsPerToken(Glm4vModel model, CudaBackend backend, ImageProcessor processor,
      RgbImage image, Options o, int merge) {
    PixelValues px = processor.process(image);
    Tensor embeds = model.encodeImages(px.values(), px.grids());
    int[] ids = prompt(model, embeds.rows(), o.questionTokens());
    Sequence seq = model.newSequence(ids.length + o.decodeSteps() + 8);
    seq.prefill(model.embedPrompt(ids, embeds), RopeIndex.of(ids, px.grids(), model.config().tokens(), merge), null);
    float[] logits = seq.logits();
    for (int i = 0; i < 4; i++) {
      logits = seq.step(Sampler.argmax(logits));
    }
    long t = System.nanoTime();
    for (int i = 0; i < o.decodeSteps(); i++) {
      logits = seq.step(Sampler.argmax(logits));
    }
    return (System.nanoTime() - t) / 1e6 / o.decodeSteps();
  }

  /**
   * GLM-4.6V's prompt layout for one image and a question: [gMASK] &lt;sop&gt; &lt;|user|&gt; \n
   * &lt;|begin_of_image|&gt; image tokens &lt;|end_of_image|&gt; question &lt;|assistant|&gt; \n,
   * with the question's tokens being ordinary ids.
   */
  static int[] prompt(Glm4vModel model, int imageTokens, int questionTokens) {
    var t = model.config().tokens();
    int vocab = model.config().text().vocabSize();
    List<Integer> ids = new ArrayList<>();
    int word = Math.min(1000, vocab / 4);
    ids.addAll(List.of(word, word + 1, word + 2, word + 3, t.imageStart()));
    for (int i = 0; i < imageTokens; i++) {
      ids.add(t.image());
    }
    ids.add(t.imageEnd());
    for (int i = 0; i < questionTokens; i++) {
      ids.add(word + 10 + i % Math.max(1, vocab / 8));
    }
    ids.add(word + 4);
    ids.add(word + 3);
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }

  static RgbImage randomImage(int w, int h, long seed) {
    byte[] rgb = new byte[w * h * 3];
    new Random(seed).nextBytes(rgb);
    return new RgbImage(w, h, rgb);
  }

  private static double median(List<double[]> runs, int k) {
    double[] v = runs.stream().mapToDouble(r -> r[k]).toArray();
    Arrays.sort(v);
    return v.length == 0 ? Double.NaN : v[v.length / 2];
  }
}
