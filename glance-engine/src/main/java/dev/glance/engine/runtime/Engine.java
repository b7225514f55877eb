package dev.glance.engine.runtime;

import dev.glance.engine.GlanceException;
import dev.glance.engine.generate.FinishReason;
import dev.glance.engine.generate.StopTokenIds;
import dev.glance.engine.image.ImageDecoder;
import dev.glance.engine.image.ImageGrid;
import dev.glance.engine.image.ImageProcessor;
import dev.glance.engine.image.PixelValues;
import dev.glance.engine.image.PreprocessorConfig;
import dev.glance.engine.image.RgbImage;
import dev.glance.engine.io.GenerationConfig;
import dev.glance.engine.model.Glm4vModel;
import dev.glance.engine.model.RopeIndex;
import dev.glance.engine.model.Sequence;
import dev.glance.engine.runtime.cache.BoundedCache;
import dev.glance.engine.runtime.cache.ImageKey;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.text.ChatTemplate;
import dev.glance.engine.text.EncodedPrompt;
import dev.glance.engine.text.PromptBuilder;
import dev.glance.engine.text.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The engine facade: a loaded checkpoint (model, tokenizer, chat template, image processor,
 * generation defaults) and the path of one request through it: decode and preprocess images,
 * render and tokenize the prompt, encode images, prefill, then sample token by token through the
 * KV cache, streaming text as it is produced.
 */
public final class Engine implements AutoCloseable {
  /** Used when the checkpoint states no context length. */
  private static final int DEFAULT_CONTEXT = 131072;

  private final Path dir;
  private final Glm4vModel model;
  private final Tokenizer tokenizer;
  private final PromptBuilder prompts;
  private final ImageDecoder decoder;
  private final ImageProcessor processor;
  private final GenerationConfig generationConfig;
  private final StopTokenIds stopIds;
  private final int context;
  private final BoundedCache<ImageKey, float[]> visionCache;
  /** Vision-tower passes run and distinct images they encoded (the preparing thread's counts). */
  private long visionPasses;
  private long imagesEncoded;

  private Engine(Path dir, Glm4vModel model, Tokenizer tokenizer, ChatTemplate template,
      ImageProcessor processor, GenerationConfig generationConfig, EngineOptions options) {
    this.dir = dir;
    this.model = model;
    this.tokenizer = tokenizer;
    this.processor = processor;
    this.generationConfig = generationConfig;
    this.decoder = new ImageDecoder(options.maxInputPixels(), options.maxInputBytes());
    var c = model.config();
    this.prompts = new PromptBuilder(tokenizer, template, c.tokens().image(), c.vision().spatialMergeSize());
    this.stopIds = stopIds(generationConfig, c.eosIds(), tokenizer);
    int declared = c.text().maxPositions() > 0 ? c.text().maxPositions() : DEFAULT_CONTEXT;
    this.context = options.contextLimit() > 0 ? Math.min(options.contextLimit(), declared) : declared;
    this.visionCache = new BoundedCache<>(options.visionCacheBytes(), v -> 16L + 4L * v.length);
  }

  /** Loads every part of the checkpoint in {@code dir}; fails naming the file that is wrong. */
  public static Engine load(Path dir, Backend backend, EngineOptions options) {
    if (!Files.isDirectory(dir)) {
      throw new GlanceException.ModelLoad(dir + ": model directory not found");
    }
    Glm4vModel model = Glm4vModel.load(dir, backend, options.quantize(), options.kv());
    Tokenizer tokenizer = null;
    try {
      tokenizer = Tokenizer.load(dir);
      ChatTemplate template = ChatTemplate.load(dir);
      Path pre = dir.resolve("preprocessor_config.json");
      PreprocessorConfig pc = Files.exists(pre) ? PreprocessorConfig.load(pre) : PreprocessorConfig.defaults();
      checkPreprocessor(pc, model, pre);
      return new Engine(dir, model, tokenizer, template, new ImageProcessor(pc), GenerationConfig.load(dir), options);
    } catch (RuntimeException e) {
      if (tokenizer != null) {
        tokenizer.close();
      }
      model.close();
      throw e;
    }
  }

  private static void checkPreprocessor(PreprocessorConfig pc, Glm4vModel model, Path file) {
    var v = model.config().vision();
    if (pc.patchSize() != v.patchSize() || pc.temporalPatchSize() != v.temporalPatchSize()
        || pc.mergeSize() != v.spatialMergeSize()) {
      throw new GlanceException.ModelLoad(file + ": patch/temporal/merge sizes " + pc.patchSize() + "/"
          + pc.temporalPatchSize() + "/" + pc.mergeSize() + " disagree with config.json's vision_config "
          + v.patchSize() + "/" + v.temporalPatchSize() + "/" + v.spatialMergeSize());
    }
  }

  /** generation_config's eos ids, else config.json's, else the tokenizer's <|endoftext|>. */
  private static StopTokenIds stopIds(GenerationConfig g, List<Integer> configEos, Tokenizer tokenizer) {
    List<Integer> ids = !g.eosIds().isEmpty() ? g.eosIds() : configEos;
    if (ids.isEmpty()) {
      var eot = tokenizer.tokenId("<|endoftext|>");
      return eot.isPresent() ? StopTokenIds.of(eot.getAsInt()) : StopTokenIds.none();
    }
    return StopTokenIds.of(ids.stream().mapToInt(Integer::intValue).toArray());
  }

  public Path dir() {
    return dir;
  }

  public Glm4vModel model() {
    return model;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  public GenerationConfig generationConfig() {
    return generationConfig;
  }

  public StopTokenIds stopIds() {
    return stopIds;
  }

  public int contextLength() {
    return context;
  }

  /** The checkpoint's image processor (its min/max pixels bound what a request may ask for). */
  public ImageProcessor imageProcessor() {
    return processor;
  }

  /** Runs one request to completion, streaming pieces of text to {@code sink} as they come. */
  public GenerationResult generate(GenerationRequest request, TokenSink sink) {
    return generate(request, sink, () -> false);
  }

  /**
   * As {@link #generate(GenerationRequest, TokenSink)}, checking {@code cancelled} before every
   * decode step; a cancelled generation ends with {@link FinishReason#CANCELLED}.
   */
  public GenerationResult generate(GenerationRequest request, TokenSink sink, BooleanSupplier cancelled) {
    Prepared p = prepare(request);
    Sequence seq = model.newSequence(p.capacity());
    seq.prefill(p.embeds(), p.index(), null);
    long t3 = System.nanoTime();
    Generation gen = newGeneration(p, 0, sink, cancelled);
    int token;
    while ((token = gen.next(seq.logits())) >= 0) {
      seq.step(token);
    }
    return gen.result(timings(p, t3, System.nanoTime()));
  }

  /**
   * A generation for a prepared request whose first {@code cachedTokens} prompt positions came
   * from the prefix cache.
   */
  Generation newGeneration(Prepared p, int cachedTokens, TokenSink sink, BooleanSupplier cancelled) {
    return new Generation(p, cachedTokens, stopIds, context, tokenizer, model.config().text().vocabSize(), sink,
        cancelled);
  }

  static Timings timings(Prepared p, long prefilledNanos, long endNanos) {
    return new Timings(ms(p.preprocessedNanos() - p.startNanos()), ms(p.encodedNanos() - p.preprocessedNanos()),
        ms(prefilledNanos - p.encodedNanos()), ms(endNanos - prefilledNanos));
  }

  /**
   * Everything before the decoder: decode and preprocess images (or find them in the vision
   * cache), render and tokenize the prompt, check it against the context, run the vision tower,
   * embed the prompt. Fails with the request's fault before any KV memory is taken.
   */
  Prepared prepare(GenerationRequest request) {
    return prepare(List.of(stage(request))).get(0);
  }

  /**
   * The first half of {@link #prepare}: the request's images decoded (and, where the vision cache
   * misses, preprocessed), its prompt rendered, tokenized and checked against the context. Fails
   * with the request's fault; nothing of the model has run yet.
   */
  StagedRequest stage(GenerationRequest request) {
    long t0 = System.nanoTime();
    ImageProcessor imageProcessor = processorFor(request);
    List<RgbImage> images = new ArrayList<>();
    List<ImageGrid> grids = new ArrayList<>();
    for (ImageInput in : request.images()) {
      RgbImage img = switch (in) {
        case ImageInput.FromFile f -> decoder.decode(f.path());
        case ImageInput.FromBytes b -> decoder.decode(b.data(), b.source());
        case ImageInput.Decoded d -> d.image();
      };
      images.add(img);
      grids.add(imageProcessor.grid(img.width(), img.height()));
    }
    Map<String, Object> kwargs = new HashMap<>();
    request.enableThinking().ifPresent(v -> kwargs.put("enable_thinking", v));
    EncodedPrompt prompt = prompts.build(request.messages(), kwargs, grids);
    int[] ids = prompt.inputIds();
    int maxTokens = request.sampling().maxTokens();
    if (ids.length >= context) {
      throw new GlanceException.BadRequest("prompt of " + ids.length + " tokens does not fit the context of "
          + context + " tokens");
    }
    if (request.strictContext() && (long) ids.length + maxTokens > context) {
      throw new GlanceException.BadRequest("the prompt is " + ids.length + " tokens and max_tokens is "
          + maxTokens + ", together more than the context of " + context
          + " tokens; lower max_tokens to at most " + (context - ids.length) + " or shorten the prompt");
    }
    List<RgbImage> ordered = new ArrayList<>();
    List<ImageGrid> orderedGrids = new ArrayList<>();
    for (int index : prompt.imageOrder()) {
      ordered.add(images.get(index));
      orderedGrids.add(grids.get(index));
    }
    VisionInputs vision = lookUpImages(ordered, orderedGrids, imageProcessor);
    int capacity = (int) Math.min(context, (long) ids.length + maxTokens);
    return new StagedRequest(request, ids, prompt.imageTokenCount(), capacity, vision, t0, System.nanoTime());
  }

  /**
   * The second half of {@link #prepare} for several staged requests at once: the images none of
   * them found in the vision cache go through the vision tower in one pass (an image that two of
   * them share, once), so its weights are read and its matrices multiplied for all of their
   * patches together instead of once per request; then each prompt is embedded. Attention never
   * crosses images, so each image's embeddings are those it would get alone: the same arithmetic
   * where each of its matrices alone already takes the matrix-matrix path, within float rounding
   * where one does not (the merger's 16 rows of a 112x112 image take the few-token kernel alone).
   * A failure fails the whole call; the caller may retry one by one. Every request's vision time
   * ends when the shared pass does, so it includes the other requests' images.
   */
  List<Prepared> prepare(List<StagedRequest> staged) {
    encodeMissing(staged);
    long t2 = System.nanoTime();
    int merge = model.config().vision().spatialMergeSize();
    List<Prepared> prepared = new ArrayList<>();
    for (StagedRequest s : staged) {
      VisionInputs v = s.vision();
      RopeIndex index = RopeIndex.of(s.ids(), v.grids(), model.config().tokens(), merge);
      Tensor embeds = model.embedPrompt(s.ids(), joined(v));
      prepared.add(prepared(s, embeds, index, t2));
    }
    return prepared;
  }

  /**
   * A staged request as far as a result needs it, without embeddings: for ending one that was
   * cancelled, or shut down, before its vision pass ran.
   */
  Prepared withoutEmbeddings(StagedRequest s) {
    return prepared(s, null, null, System.nanoTime());
  }

  private Prepared prepared(StagedRequest s, Tensor embeds, RopeIndex index, long encodedNanos) {
    int merge = model.config().vision().spatialMergeSize();
    VisionInputs v = s.vision();
    int[] imageTokenCounts = v.grids().stream().mapToInt(g -> g.tokens(merge)).toArray();
    return new Prepared(s.request(), s.ids(), s.imageTokens(), embeds, index, s.capacity(), v.keys(), imageTokenCounts,
        v.hits(), s.startNanos(), s.preprocessedNanos(), encodedNanos);
  }

  private VisionInputs lookUpImages(List<RgbImage> images, List<ImageGrid> grids, ImageProcessor imageProcessor) {
    String preprocessing = imageProcessor.config().toString();
    List<ImageKey> keys = new ArrayList<>();
    float[][] found = new float[images.size()][];
    List<Integer> missing = new ArrayList<>();
    List<RgbImage> toProcess = new ArrayList<>();
    int hits = 0;
    for (int i = 0; i < images.size(); i++) {
      ImageKey key = ImageKey.of(images.get(i), preprocessing);
      keys.add(key);
      var cached = visionCache.get(key);
      if (cached.isPresent()) {
        found[i] = cached.get();
        hits++;
      } else {
        missing.add(i);
        toProcess.add(images.get(i));
      }
    }
    PixelValues pixels = toProcess.isEmpty() ? null : imageProcessor.process(toProcess);
    return new VisionInputs(keys, grids, found, missing, pixels, hits);
  }

  /**
   * Runs the vision tower once over every image the staged requests did not find in the cache
   * (each distinct image once), caches the rows, and fills each request's embeddings.
   */
  private void encodeMissing(List<StagedRequest> staged) {
    int merge = model.config().vision().spatialMergeSize();
    int hidden = model.config().text().hidden();
    int width = model.config().vision().patchInput();
    // The distinct missing images in order, where their pixels are, and who waits for each.
    Map<ImageKey, Integer> slot = new HashMap<>();
    List<ImageGrid> grids = new ArrayList<>();
    List<float[]> pixelRows = new ArrayList<>();
    List<Integer> pixelFrom = new ArrayList<>();
    int patches = 0;
    for (StagedRequest s : staged) {
      VisionInputs v = s.vision();
      int from = 0;
      for (int i : v.missing()) {
        ImageGrid g = v.grids().get(i);
        if (slot.putIfAbsent(v.keys().get(i), grids.size()) == null) {
          grids.add(g);
          pixelRows.add(v.pixels().values());
          pixelFrom.add(from);
          patches += g.patches();
        }
        from += g.patches() * width;
      }
    }
    if (grids.isEmpty()) {
      return;
    }
    float[] pixels = new float[patches * width];
    int at = 0;
    for (int u = 0; u < grids.size(); u++) {
      int len = grids.get(u).patches() * width;
      System.arraycopy(pixelRows.get(u), pixelFrom.get(u), pixels, at, len);
      at += len;
    }
    Tensor out = model.encodeImages(pixels, grids);
    visionPasses++;
    imagesEncoded += grids.size();
    float[] all = new float[out.rows() * out.cols()];
    model.backend().download(out, all);
    float[][] rows = new float[grids.size()][];
    int offset = 0;
    for (int u = 0; u < grids.size(); u++) {
      int len = grids.get(u).tokens(merge) * hidden;
      rows[u] = Arrays.copyOfRange(all, offset, offset + len);
      offset += len;
    }
    for (StagedRequest s : staged) {
      VisionInputs v = s.vision();
      for (int i : v.missing()) {
        ImageKey key = v.keys().get(i);
        v.embeddings()[i] = rows[slot.get(key)];
        visionCache.put(key, v.embeddings()[i]);
      }
    }
  }

  /** All images' embeddings of one request in prompt order, as one tensor; null without images. */
  private Tensor joined(VisionInputs v) {
    if (v.keys().isEmpty()) {
      return null;
    }
    int hidden = model.config().text().hidden();
    int total = 0;
    for (float[] e : v.embeddings()) {
      total += e.length;
    }
    float[] joined = new float[total];
    int offset = 0;
    for (float[] e : v.embeddings()) {
      System.arraycopy(e, 0, joined, offset, e.length);
      offset += e.length;
    }
    return model.backend().upload(joined, total / hidden, hidden);
  }

  /** Vision-tower passes run so far (several requests' images may share one). */
  public long visionPasses() {
    return visionPasses;
  }

  /** Images the vision tower has encoded so far (cache hits and repeats within a pass excluded). */
  public long imagesEncoded() {
    return imagesEncoded;
  }

  /** The vision-embedding cache, for metrics. */
  public BoundedCache<ImageKey, float[]> visionCache() {
    return visionCache;
  }

  private ImageProcessor processorFor(GenerationRequest request) {
    if (request.maxPixels().isEmpty()) {
      return processor;
    }
    long max = request.maxPixels().getAsLong();
    long min = processor.config().minPixels();
    if (max < min) {
      throw new GlanceException.BadRequest("max_pixels must be at least " + min
          + " (the checkpoint's min_pixels), got " + max);
    }
    return processor.withMaxPixels(max);
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  @Override
  public void close() {
    tokenizer.close();
    model.close();
  }
}
