package dev.glance.engine.runtime;

import dev.glance.engine.GlanceException;
import dev.glance.engine.generate.FinishReason;
import dev.glance.engine.generate.Piece;
import dev.glance.engine.generate.Sampler;
import dev.glance.engine.generate.StopChecker;
import dev.glance.engine.generate.StopTokenIds;
import dev.glance.engine.generate.ThinkingSplitter;
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
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.tensor.Tensor;
import dev.glance.engine.text.ChatTemplate;
import dev.glance.engine.text.EncodedPrompt;
import dev.glance.engine.text.PromptBuilder;
import dev.glance.engine.text.TokenStreamDecoder;
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

  /** Runs one request to completion, streaming pieces of text to {@code sink} as they come. */
  public GenerationResult generate(GenerationRequest request, TokenSink sink) {
    return generate(request, sink, () -> false);
  }

  /**
   * As {@link #generate(GenerationRequest, TokenSink)}, checking {@code cancelled} before every
   * decode step; a cancelled generation ends with {@link FinishReason#CANCELLED}.
   */
  public GenerationResult generate(GenerationRequest request, TokenSink sink, BooleanSupplier cancelled) {
    long t0 = System.nanoTime();
    List<RgbImage> images = new ArrayList<>();
    List<ImageGrid> grids = new ArrayList<>();
    for (ImageInput in : request.images()) {
      RgbImage img = switch (in) {
        case ImageInput.FromFile f -> decoder.decode(f.path());
        case ImageInput.FromBytes b -> decoder.decode(b.data(), b.source());
      };
      images.add(img);
      grids.add(processor.grid(img.width(), img.height()));
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
    List<RgbImage> ordered = new ArrayList<>();
    List<ImageGrid> orderedGrids = new ArrayList<>();
    for (int index : prompt.imageOrder()) {
      ordered.add(images.get(index));
      orderedGrids.add(grids.get(index));
    }
    PixelValues pixels = ordered.isEmpty() ? null : processor.process(ordered);
    long t1 = System.nanoTime();

    Tensor imageEmbeds = pixels == null ? null : model.encodeImages(pixels.values(), orderedGrids);
    long t2 = System.nanoTime();

    int capacity = (int) Math.min(context, (long) ids.length + maxTokens);
    Sequence seq = model.newSequence(capacity);
    var merge = model.config().vision().spatialMergeSize();
    RopeIndex index = RopeIndex.of(ids, orderedGrids, model.config().tokens(), merge);
    seq.prefill(model.embedPrompt(ids, imageEmbeds), index, null);
    long t3 = System.nanoTime();

    Sampler sampler = new Sampler(request.sampling(), model.config().text().vocabSize());
    StopChecker stop = new StopChecker(request.sampling(), stopIds, context - ids.length);
    TokenStreamDecoder detok = tokenizer.streamDecoder(false);
    ThinkingSplitter split = new ThinkingSplitter();
    int[] contextIds = Arrays.copyOf(ids, capacity);
    int length = ids.length;
    int[] generated = new int[maxTokens];
    int count = 0;
    float[] logits = seq.logits();
    StringBuilder full = new StringBuilder();
    FinishReason finish;
    while (true) {
      if (cancelled.getAsBoolean()) {
        finish = stop.abort(FinishReason.CANCELLED).finish().orElseThrow();
        break;
      }
      int token = sampler.next(logits, contextIds, length);
      contextIds[length++] = token;
      generated[count++] = token;
      StopChecker.Step step = stop.accept(token, detok.push(token));
      String text = step.text();
      if (step.finished() && step.finish().get() != FinishReason.STOP) {
        text += detok.finish();
      }
      full.append(text);
      emit(split.push(text), sink);
      if (step.finished()) {
        finish = step.finish().get();
        break;
      }
      logits = seq.step(token);
    }
    emit(split.finish(), sink);
    long t4 = System.nanoTime();
    Timings timings = new Timings(ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), ms(t4 - t3));
    return new GenerationResult(full.toString(), split.reasoning(), split.answer(), Arrays.copyOf(generated, count), ids.length,
        prompt.imageTokenCount(), finish, timings);
  }

  private static void emit(List<Piece> pieces, TokenSink sink) {
    for (Piece p : pieces) {
      if (!p.text().isEmpty()) {
        sink.accept(p);
      }
    }
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
