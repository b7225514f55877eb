package dev.glance.engine.bench;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.GlanceException;
import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.image.ImageProcessor;
import dev.glance.engine.image.PixelValues;
import dev.glance.engine.image.PreprocessorConfig;
import dev.glance.engine.image.RgbImage;
import dev.glance.engine.io.ModelConfig;
import dev.glance.engine.model.DecodeBatch;
import dev.glance.engine.model.Glm4vModel;
import dev.glance.engine.model.RopeIndex;
import dev.glance.engine.model.Sequence;
import dev.glance.engine.tensor.DType;
import dev.glance.engine.tensor.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import jdk.incubator.vector.FloatVector;

/**
 * Builds a random-weight model of a named shape and times each stage of a request on it: image
 * preprocessing, the vision tower, prefill and decode; measures the machine's read bandwidth in
 * the same run and reports decode against the bandwidth roofline (the weight bytes one decode
 * step must read, divided by that bandwidth), and every speed against llama.cpp's: measured in
 * the same run when {@code --llama-bench} is given, otherwise the reference machine's numbers
 * where they exist.
 */
public final class Benchmark {
  private static final int[] PREFILL = {128, 512};
  private static final int DECODE_CONTEXT = 512;
  private static final int[][] IMAGES = {{336, 336}, {1024, 768}};
  /**
   * Batch sizes of the batched-decode measurement (the server's continuous batching): every
   * sequence has its own short prompt, and one step decodes one token for each.
   */
  private static final int[] DECODE_BATCHES = {1, 4, 8, 16};
  private static final int BATCH_PROMPT = 16;
  private static final int BATCH_STEPS = 16;
  /** llama-bench on the glm46v-flash shape takes minutes; a hung one must not hold the run forever. */
  private static final long LLAMA_BENCH_TIMEOUT_S = 3600;

  private final BenchOptions o;
  private final Consumer<String> progress;

  public Benchmark(BenchOptions options, Consumer<String> progress) {
    this.o = options;
    this.progress = progress;
  }

  /** Bytes of text-decoder weights one decode step reads (every matrix once, biases, norms). */
  public static long decodeWeightBytes(ModelConfig.TextConfig c, DType format) {
    long h = c.hidden();
    long qw = (long) c.heads() * c.headDim();
    long kvw = (long) c.kvHeads() * c.headDim();
    long vectors = c.layers() * (qw + 2 * kvw + 4 * h) + h;
    // Matrices in the format, norms and biases as float32, one BF16 embedding row.
    return format.byteSize(textMatrixValues(c)) + vectors * 4 + h * 2;
  }

  /** Values in the text decoder's matrices (projections of every layer, and lm_head). */
  static long textMatrixValues(ModelConfig.TextConfig c) {
    long h = c.hidden();
    long qw = (long) c.heads() * c.headDim();
    long kvw = (long) c.kvHeads() * c.headDim();
    return c.layers() * (qw * h + 2 * kvw * h + h * qw + 3L * c.intermediate() * h) + (long) c.vocabSize() * h;
  }

  /** Bytes the generated weights take: text matrices in the format, everything else BF16. */
  static long weightBytes(ModelConfig c, DType format) {
    long[] p = params(c);
    long matrices = textMatrixValues(c.text());
    return (long) (matrices * format.bytesPerValue()) + 2 * (p[0] - matrices + p[1]);
  }

  /** Parameter counts: text decoder (with embeddings and lm_head) and vision tower. */
  static long[] params(ModelConfig c) {
    var t = c.text();
    long h = t.hidden();
    long qw = (long) t.heads() * t.headDim();
    long kvw = (long) t.kvHeads() * t.headDim();
    long text = t.layers() * (qw * h + 2 * kvw * h + h * qw + 3L * t.intermediate() * h + qw + 2 * kvw + 4 * h)
        + 2L * t.vocabSize() * h + h;
    var v = c.vision();
    long d = v.hidden();
    long m = v.outHidden();
    long vision = d * v.patchInput() + d + 576 * d + 2 * d
        + v.depth() * (3 * d * d + d * d + 3 * d * m + 2 * d)
        + m * d * 4 + m + m * m + 2 * m + 3 * m * v.mergerIntermediate();
    return new long[] {text, vision};
  }

  public ObjectNode run() {
    ObjectNode r = JsonNodeFactory.instance.objectNode();
    ModelConfig config = o.shape().config();
    r.put("shape", o.shape().label());
    r.put("weights", o.weights().flagName());
    r.put("vision_weights", "bf16");
    r.put("kv", o.kv().flagName());
    r.put("threads", o.threads());
    r.put("vector_bits", FloatVector.SPECIES_PREFERRED.vectorBitSize());
    long[] params = params(config);
    ObjectNode p = r.putObject("params");
    p.put("text", params[0]);
    p.put("vision", params[1]);
    p.put("total", params[0] + params[1]);
    r.put("load_average_start", loadAverage());

    long need = weightBytes(config, o.weights());
    long available = ProcessMemory.available();
    if (available > 0 && need > available) {
      throw new GlanceException.BadRequest("--shape " + o.shape().label() + " with --weights "
          + o.weights().flagName() + " needs about " + need / (1L << 20) + " MiB of weights but only "
          + available / (1L << 20) + " MiB of memory is available; try --weights q8_0 or q4_0");
    }
    progress.accept("measuring memory read bandwidth (" + o.threads() + " threads)");
    // Many short passes, best kept: on a shared machine some passes lose their core.
    ReadBandwidth.Result read = ReadBandwidth.measure(o.threads(), o.bandwidthBytes(), 16);
    double bandwidth = read.best();
    r.put("memory_read_bandwidth_gb_per_s", bandwidth / 1e9);
    r.put("memory_read_bandwidth_one_stream_gb_per_s", read.oneStream() / 1e9);
    r.put("memory_read_bandwidth_four_streams_gb_per_s", read.fourStreams() / 1e9);
    progress.accept("measuring the FMA peak (" + o.threads() + " threads)");
    // The arithmetic bound of prefill, the vision tower and batched steps, as the read loop is
    // decode's: each of those reports its FLOPs per second as a fraction of this (*_fma_fraction).
    double peakFlops = FmaPeak.measure(o.threads(), 5, 200_000_000L);
    r.put("fma_peak_gflop_per_s", peakFlops / 1e9);

    progress.accept("building " + o.shape().label() + " with random " + o.weights().flagName() + " weights");
    long t0 = System.nanoTime();
    RandomWeights source = new RandomWeights(o.shape().label(), config, o.weights(), 42);
    Optional<DType> quantize = o.weights().quantized() ? Optional.of(o.weights()) : Optional.empty();
    try (CpuBackend backend = new CpuBackend(o.threads());
        Glm4vModel model = Glm4vModel.build(config, source, source, backend, quantize, o.kv())) {
      r.put("build_ms", ms(System.nanoTime() - t0));
      ProcessMemory loaded = ProcessMemory.now();
      ObjectNode mem = r.putObject("memory");
      mem.put("weights_bytes", source.bytes());
      mem.put("rss_after_load_bytes", loaded.rss());

      warmUp(model, config);

      ImageProcessor processor = new ImageProcessor(PreprocessorConfig.defaults());
      RgbImage image = syntheticImage(1024, 768);
      double pre = Double.MAX_VALUE;
      for (int i = 0; i < Math.max(3, o.repeat()); i++) {
        long a = System.nanoTime();
        processor.process(image);
        pre = Math.min(pre, ms(System.nanoTime() - a));
      }
      r.put("preprocess_1024x768_ms", pre);

      if (o.vision()) {
        for (int[] size : IMAGES) {
          progress.accept("vision tower, " + size[0] + "x" + size[1] + " image");
          ImageGrid grid = processor.grid(size[0], size[1]);
          float[] pixels = randomFloats(grid.patches() * config.vision().patchInput(), 7);
          double best = Double.MAX_VALUE;
          double share = 0;
          for (int i = 0; i < o.repeat(); i++) {
            long a = System.nanoTime();
            long cpu = processCpuNanos();
            model.encodeImages(pixels, List.of(grid));
            long wall = System.nanoTime() - a;
            if (ms(wall) < best) {
              best = ms(wall);
              share = cpuShare(processCpuNanos() - cpu, wall);
            }
          }
          r.put("vision_" + size[0] + "x" + size[1] + "_ms", best);
          r.put("vision_" + size[0] + "x" + size[1] + "_cpu_share", share);
          r.put("vision_" + size[0] + "x" + size[1] + "_patches", grid.patches());
          r.put("vision_" + size[0] + "x" + size[1] + "_fma_fraction",
              fmaFraction(ModelFlops.vision(config.vision(), grid.patches()), best, peakFlops));
        }
      }

      Sequence decodeSeq = null;
      for (int n : PREFILL) {
        progress.accept("prefill, " + n + " tokens");
        double best = Double.MAX_VALUE;
        double share = 0;
        for (int i = 0; i < o.repeat(); i++) {
          Sequence seq = model.newSequence(n + o.decodeTokens());
          long a = System.nanoTime();
          long cpu = processCpuNanos();
          prefill(model, seq, n, 11 + i);
          long wall = System.nanoTime() - a;
          if (ms(wall) < best) {
            best = ms(wall);
            share = cpuShare(processCpuNanos() - cpu, wall);
          }
          if (n == DECODE_CONTEXT) {
            decodeSeq = seq;
          }
        }
        r.put("prefill_" + n + "_tokens_per_s", n / (best / 1000));
        r.put("prefill_" + n + "_cpu_share", share);
        r.put("prefill_" + n + "_fma_fraction", fmaFraction(ModelFlops.prefill(config.text(), n), best, peakFlops));
      }

      progress.accept("decode, " + o.decodeTokens() + " tokens after " + DECODE_CONTEXT);
      int token = 1;
      long a = System.nanoTime();
      long cpu = processCpuNanos();
      for (int i = 0; i < o.decodeTokens(); i++) {
        float[] logits = decodeSeq.step(token);
        token = Math.floorMod(Float.floatToRawIntBits(logits[i % logits.length]), config.text().vocabSize() / 2);
      }
      long decodeWall = System.nanoTime() - a;
      r.put("decode_cpu_share", cpuShare(processCpuNanos() - cpu, decodeWall));
      double decodeMs = ms(decodeWall) / o.decodeTokens();
      double decodeRate = 1000 / decodeMs;
      r.put("decode_context", DECODE_CONTEXT);
      r.put("decode_tokens_per_s", decodeRate);
      r.put("decode_ms_per_token", decodeMs);
      long weightBytes = decodeWeightBytes(config.text(), o.weights());
      long kvBytes = (long) config.text().layers() * config.text().kvHeads() * config.text().headDim()
          * DECODE_CONTEXT * 2 * (o.kv() == DType.F32 ? 4 : 2);
      double roofline = bandwidth / weightBytes;
      r.put("decode_weight_bytes_per_token", weightBytes);
      r.put("decode_kv_bytes_per_token", kvBytes);
      r.put("decode_roofline_tokens_per_s", roofline);
      r.put("decode_roofline_fraction", decodeRate / roofline);
      r.put("decode_roofline_fraction_with_kv", decodeRate / (bandwidth / (weightBytes + kvBytes)));
      r.put("decode_achieved_gb_per_s", weightBytes * decodeRate / 1e9);
      mem.put("kv_cache_bytes", CpuBackend.kvBytes(decodeSeq.cache()));
      batchedDecode(model, r, peakFlops);
      ProcessMemory end = ProcessMemory.now();
      mem.put("rss_bytes", end.rss());
      mem.put("peak_rss_bytes", end.peak());
    }
    // After the model is closed: llama.cpp gets the memory and the cores to itself.
    compareWithLlamaCpp(r);
    r.put("load_average_end", loadAverage());
    return r;
  }

  /**
   * Speeds against llama.cpp's: measured now by llama-bench when one was given (after Glance's
   * timings, never at the same time), otherwise the reference machine's fixed numbers where the
   * shape and format have them.
   */
  private void compareWithLlamaCpp(ObjectNode r) {
    Optional<LlamaCppReference> reference;
    ObjectNode l = JsonNodeFactory.instance.objectNode();
    if (o.llamaBench().isPresent()) {
      LlamaBench lb = o.llamaBench().get();
      progress.accept("llama.cpp: llama-bench on " + lb.gguf().getFileName() + " (" + o.threads() + " threads)");
      LlamaBench.Measured m = lb.run(o.threads(), o.decodeTokens(), o.repeat(), LLAMA_BENCH_TIMEOUT_S);
      m.requireSameModel(lb.gguf(), o.shape(), r.path("params").path("text").asLong(), o.weights());
      reference = Optional.of(m.rates());
      l.put("reference", "measured in this run: " + lb.program() + " -m " + lb.gguf());
      l.put("llama_cpp_build_commit", m.buildCommit());
      l.put("llama_cpp_model_type", m.modelType());
      l.put("llama_cpp_cpu", m.cpu());
    } else {
      reference = LlamaCppReference.of(o.shape(), o.weights());
      l.put("reference", "fixed figures from a 2-core AVX2 machine (docs/PERFORMANCE.md), not measured in this run");
    }
    if (reference.isEmpty()) {
      return;
    }
    LlamaCppReference ref = reference.get();
    l.put("reference_prompt_128_tokens_per_s", ref.prompt128());
    l.put("reference_prompt_512_tokens_per_s", ref.prompt512());
    l.put("reference_generation_tokens_per_s", ref.generation());
    l.put("prefill_128_ratio", r.path("prefill_128_tokens_per_s").asDouble() / ref.prompt128());
    l.put("prefill_512_ratio", r.path("prefill_512_tokens_per_s").asDouble() / ref.prompt512());
    l.put("decode_ratio", r.path("decode_tokens_per_s").asDouble() / ref.generation());
    r.set("vs_llama_cpp", l);
  }

  /**
   * Decode steps of 1, 4, 8 and 16 sequences at once ({@link DecodeBatch}, as the server's engine
   * loop runs them): tokens/s over all sequences, and the gain over batch 1 measured the same way
   * (same short context), which is what continuous batching can give at most.
   */
  private void batchedDecode(Glm4vModel model, ObjectNode r, double peakFlops) {
    ObjectNode out = r.putObject("decode_batched");
    out.put("context", BATCH_PROMPT);
    int max = DECODE_BATCHES[DECODE_BATCHES.length - 1];
    DecodeBatch batch = new DecodeBatch(model, max);
    var c = model.config();
    // Ordinary text tokens only, as the prompts use: ids below the vocabulary and the image tokens.
    int plainTokens = Math.min(c.text().vocabSize(), c.tokens().imageStart());
    double single = 0;
    for (int n : DECODE_BATCHES) {
      progress.accept("batched decode, " + n + " sequences");
      List<Sequence> seqs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Sequence seq = model.newSequence(BATCH_PROMPT + BATCH_STEPS + 2);
        prefill(model, seq, BATCH_PROMPT, 100 + i);
        seqs.add(seq);
      }
      int[] tokens = new int[n];
      Arrays.fill(tokens, 1);
      batch.step(seqs, tokens);
      long a = System.nanoTime();
      long cpu = processCpuNanos();
      for (int s = 0; s < BATCH_STEPS; s++) {
        for (int i = 0; i < n; i++) {
          tokens[i] = (s * 31 + i * 7) % plainTokens;
        }
        batch.step(seqs, tokens);
      }
      long wall = System.nanoTime() - a;
      double rate = (double) n * BATCH_STEPS / (wall / 1e9);
      if (n == 1) {
        single = rate;
      }
      out.put("batch_" + n + "_tokens_per_s", rate);
      out.put("batch_" + n + "_ms_per_step", ms(wall) / BATCH_STEPS);
      out.put("batch_" + n + "_cpu_share", cpuShare(processCpuNanos() - cpu, wall));
      // The timed steps' caches hold BATCH_PROMPT + 1 to BATCH_PROMPT + BATCH_STEPS positions.
      out.put("batch_" + n + "_fma_fraction", fmaFraction(
          ModelFlops.decodeStep(c.text(), n, BATCH_PROMPT + BATCH_STEPS / 2), ms(wall) / BATCH_STEPS, peakFlops));
      if (single > 0) {
        out.put("batch_" + n + "_vs_batch_1", rate / single);
      }
    }
  }

  /** FLOPs done in {@code ms} milliseconds as a fraction of the FMA peak (FLOP/s). */
  private static double fmaFraction(double flops, double ms, double peakFlops) {
    return flops / (ms / 1000) / peakFlops;
  }

  /** Compiles the kernels on small inputs first, so the timed runs measure compiled code. */
  private void warmUp(Glm4vModel model, ModelConfig config) {
    progress.accept("warming up");
    for (int round = 0; round < 2; round++) {
      Sequence seq = model.newSequence(72);
      prefill(model, seq, 64, 3);
      for (int i = 0; i < 4; i++) {
        seq.step(5 + i);
      }
    }
    if (o.vision()) {
      ImageGrid grid = new ImageGrid(1, 8, 8);
      model.encodeImages(randomFloats(grid.patches() * config.vision().patchInput(), 5), List.of(grid));
    }
  }

  private static void prefill(Glm4vModel model, Sequence seq, int n, long seed) {
    var c = model.config();
    SplittableRandom rnd = new SplittableRandom(seed);
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = rnd.nextInt(Math.min(c.text().vocabSize(), c.tokens().imageStart()));
    }
    RopeIndex index = RopeIndex.of(ids, List.of(), c.tokens(), c.vision().spatialMergeSize());
    seq.prefill(model.embedPrompt(ids, null), index, null);
  }

  private static float[] randomFloats(int n, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rnd.nextDouble() * 4 - 2);
    }
    return v;
  }

  /** A smooth colour field with noise: resizing it does the same work as resizing a photo. */
  static RgbImage syntheticImage(int w, int h) {
    byte[] rgb = new byte[w * h * 3];
    SplittableRandom rnd = new SplittableRandom(1);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = (y * w + x) * 3;
        rgb[i] = (byte) (x * 255 / w + rnd.nextInt(16));
        rgb[i + 1] = (byte) (y * 255 / h + rnd.nextInt(16));
        rgb[i + 2] = (byte) ((x + y) * 127 / (w + h) + rnd.nextInt(16));
      }
    }
    return new RgbImage(w, h, rgb);
  }

  /** CPU time of this whole process (all threads), for the share of the cores a phase got. */
  private static long processCpuNanos() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
  }

  /**
   * The fraction of threads x wall time this process ran (spinning workers included): well
   * below 1 means other processes took the cores and the timing understates the code.
   */
  private double cpuShare(long cpuNanos, long wallNanos) {
    return cpuNanos < 0 ? -1 : cpuNanos / ((double) wallNanos * o.threads());
  }

  private static double loadAverage() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
