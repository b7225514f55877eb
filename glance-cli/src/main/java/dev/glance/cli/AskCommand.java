package dev.glance.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.generate.Piece;
import dev.glance.engine.generate.SamplingParams;
import dev.glance.engine.io.GenerationConfig;
import dev.glance.engine.runtime.Engine;
import dev.glance.engine.runtime.EngineOptions;
import dev.glance.engine.runtime.GenerationRequest;
import dev.glance.engine.runtime.GenerationResult;
import dev.glance.engine.runtime.ImageInput;
import dev.glance.engine.tensor.Backend;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import dev.glance.engine.text.Role;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code glance ask}: one question (with images) to a checkpoint, the answer streamed. */
@Command(name = "ask", mixinStandardHelpOptions = true,
    description = "Ask a question about zero or more images; the answer is streamed to stdout.")
final class AskCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.ParentCommand Main main;

  @Option(names = "--model", required = true, paramLabel = "DIR|ORG/NAME[@REV]",
      description = "checkpoint directory (Hugging Face layout), or a Hugging Face repository, pulled on first use")
  String model;

  @Option(names = "--image", paramLabel = "FILE", description = "an image; repeatable")
  List<Path> images = new ArrayList<>();

  @Parameters(arity = "1", paramLabel = "QUESTION", description = "the question")
  String question;

  @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "512", description = "most tokens to generate (default ${DEFAULT-VALUE})")
  int maxTokens;

  @Option(names = "--temperature", paramLabel = "T", description = "0 = greedy (default: generation_config.json, else 0)")
  Double temperature;

  @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling mass (default: generation_config.json, else 1)")
  Double topP;

  @Option(names = "--top-k", paramLabel = "K", description = "keep the K most likely tokens, 0 = off")
  Integer topK;

  @Option(names = "--seed", paramLabel = "S", description = "random seed for sampling")
  Long seed;

  @Option(names = "--repetition-penalty", paramLabel = "R", description = "1 = off")
  Double repetitionPenalty;

  @Option(names = "--stop", paramLabel = "TEXT", description = "stop string; repeatable")
  List<String> stop = new ArrayList<>();

  @Option(names = "--system", paramLabel = "TEXT", description = "system message")
  String system;

  @Option(names = "--no-thinking", description = "render the chat template with enable_thinking=false")
  boolean noThinking;

  @Option(names = "--ignore-eos", description = "do not stop at stop token ids")
  boolean ignoreEos;

  @Option(names = "--json", description = "print one JSON object instead of streaming text")
  boolean json;

  @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores)")
  Integer threads;

  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "cpu",
      description = "cpu, cuda or cuda:N (default ${DEFAULT-VALUE}); CUDA where it cannot run is an error")
  String device;

  @Option(names = "--quantize", paramLabel = "FORMAT",
      description = "quantise the text decoder's weights at load: q8_0 or q4_0 (default: as stored)")
  String quantize;

  @Option(names = "--kv", paramLabel = "DTYPE", description = "KV cache precision: f32 (default) or bf16")
  String kv;

  @Option(names = "--verbose", description = "stack traces on errors")
  boolean verbose;

  @Override
  public Integer call() {
    if (maxTokens < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--max-tokens must be at least 1, got " + maxTokens);
    }
    if (threads != null && threads < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be at least 1, got " + threads);
    }
    EngineOptions options = EngineOptions.defaults()
        .withQuantize(EngineOptions.parseQuantize(quantize, "--quantize"))
        .withKv(EngineOptions.parseKv(kv, "--kv"));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path dir = main.modelLocator(err).locate(model);
    BackendChoice choice = BackendChoice.parse(device);
    try (Backend backend = choice.open(threads);
        Engine engine = Engine.load(dir, backend, options)) {
      GenerationRequest request = request(engine.generationConfig());
      GenerationResult result = engine.generate(request, piece -> {
        if (json) {
          return;
        }
        switch (piece) {
          case Piece.Reasoning r -> {
            err.print(r.text());
            err.flush();
          }
          case Piece.Answer a -> {
            out.print(a.text());
            out.flush();
          }
        }
      });
      if (json) {
        out.println(toJson(result));
      } else {
        out.println();
      }
      out.flush();
      return 0;
    }
  }

  private GenerationRequest request(GenerationConfig defaults) {
    List<ChatMessage> messages = new ArrayList<>();
    if (system != null) {
      messages.add(ChatMessage.system(system));
    }
    List<ContentPart> parts = new ArrayList<>();
    List<ImageInput> inputs = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      parts.add(new ContentPart.ImagePart(i));
      inputs.add(new ImageInput.FromFile(images.get(i)));
    }
    parts.add(new ContentPart.TextPart(question));
    messages.add(ChatMessage.parts(Role.USER, parts));
    // Flags win; otherwise the checkpoint's generation_config when it asks to sample; else greedy.
    boolean sample = defaults.doSample();
    double t = temperature != null ? temperature
        : sample && !Double.isNaN(defaults.temperature()) ? defaults.temperature() : 0.0;
    double p = topP != null ? topP : sample && !Double.isNaN(defaults.topP()) ? defaults.topP() : 1.0;
    int k = topK != null ? topK : sample ? defaults.topK() : 0;
    double rp = repetitionPenalty != null ? repetitionPenalty
        : !Double.isNaN(defaults.repetitionPenalty()) ? defaults.repetitionPenalty() : 1.0;
    SamplingParams sampling = new SamplingParams(t, p, k,
        seed == null ? OptionalLong.empty() : OptionalLong.of(seed), rp, maxTokens, stop, ignoreEos);
    return new GenerationRequest(messages, inputs,
        noThinking ? Optional.of(false) : Optional.empty(), sampling);
  }

  private static String toJson(GenerationResult r) {
    ObjectMapper m = new ObjectMapper();
    ObjectNode o = m.createObjectNode();
    o.put("text", r.text());
    o.put("reasoning", r.reasoning());
    o.put("answer", r.answer());
    var ids = o.putArray("token_ids");
    for (int id : r.tokenIds()) {
      ids.add(id);
    }
    o.put("prompt_tokens", r.promptTokens());
    o.put("image_tokens", r.imageTokens());
    o.put("completion_tokens", r.completionTokens());
    o.put("finish_reason", r.finishReason().apiName());
    ObjectNode t = o.putObject("timings");
    t.put("preprocess", r.timings().preprocessMs());
    t.put("vision", r.timings().visionMs());
    t.put("prefill", r.timings().prefillMs());
    t.put("decode", r.timings().decodeMs());
    return o.toString();
  }
}
