package dev.glance.engine.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import dev.glance.engine.GlanceException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A checkpoint's Jinja chat template, rendered the way transformers' {@code apply_chat_template}
 * renders it (same variables, same whitespace control, Python string methods), so the prompt text
 * is byte-identical to the reference.
 *
 * <p>Instances are immutable and may be shared between threads.
 */
public final class ChatTemplate {
  private final String source;
  private final String prepared;
  private final String origin;
  private final Map<String, String> specialTokens;
  private final Jinjava jinjava;

  private ChatTemplate(String source, String origin, Map<String, String> specialTokens) {
    this.source = source;
    this.prepared = JinjaSource.prepare(source);
    this.origin = origin;
    this.specialTokens = specialTokens;
    this.jinjava = JinjaEnvironment.create();
    checkSyntax();
  }

  /**
   * Loads the template of a checkpoint directory: {@code chat_template.jinja}, else
   * {@code chat_template.json}, else the {@code chat_template} entry of {@code
   * tokenizer_config.json}.
   *
   * @throws GlanceException.ModelLoad if none exists, a file is unreadable, or the template does not
   *     parse
   */
  public static ChatTemplate load(Path checkpointDir) {
    ChatTemplateSource found = ChatTemplateSource.find(checkpointDir);
    return new ChatTemplate(found.text(), found.origin(), found.specialTokens());
  }

  /**
   * A template from its source text.
   *
   * @param origin where the text came from, used in error messages
   * @throws GlanceException.ModelLoad if the template does not parse
   */
  public static ChatTemplate of(String source, String origin) {
    return new ChatTemplate(Objects.requireNonNull(source), origin, Map.of());
  }

  /** The Jinja source. */
  public String source() {
    return source;
  }

  /** Where the template came from (a file path), for messages. */
  public String origin() {
    return origin;
  }

  /** Renders messages with {@code add_generation_prompt=true}, the prompt to generate from. */
  public String render(List<ChatMessage> messages, Map<String, ?> kwargs) {
    return render(messages, kwargs, true);
  }

  /**
   * Renders messages.
   *
   * @param kwargs extra template variables, as transformers' {@code apply_chat_template(**kwargs)}:
   *     e.g. {@code enable_thinking}. A variable that is not given is undefined in the template
   *     (templates test {@code enable_thinking is defined}), which differs from passing false.
   * @throws GlanceException.BadRequest if the template rejects the conversation ({@code
   *     raise_exception}) or kwargs redefine {@code messages}/{@code add_generation_prompt}
   * @throws GlanceException.ModelLoad if the template fails for any other reason
   */
  public String render(List<ChatMessage> messages, Map<String, ?> kwargs, boolean addGenerationPrompt) {
    return renderMaps(TemplateMessages.toMaps(messages), kwargs, addGenerationPrompt);
  }

  /**
   * Renders messages given directly as template values, in Hugging Face's shape: maps with
   * {@code role} and {@code content} (a string, or a list of {@code {"type": "text", "text": ...}} /
   * {@code {"type": "image"}} maps). Same rules as {@link #render(List, Map, boolean)}.
   */
  public String renderMaps(
      List<? extends Map<String, ?>> messages, Map<String, ?> kwargs, boolean addGenerationPrompt) {
    // transformers: template_kwargs = {**special_tokens_map, **kwargs}; messages and
    // add_generation_prompt are separate arguments that kwargs cannot override.
    Map<String, Object> context = new HashMap<>(specialTokens);
    for (Map.Entry<String, ?> e : kwargs.entrySet()) {
      if (e.getKey().equals("messages") || e.getKey().equals("add_generation_prompt")) {
        throw new GlanceException.BadRequest(
            "template variable '" + e.getKey() + "' cannot be set through template kwargs");
      }
      context.put(e.getKey(), e.getValue());
    }
    context.put("messages", messages);
    context.put("add_generation_prompt", addGenerationPrompt);

    RenderResult result = jinjava.renderForResult(prepared, context);
    List<TemplateError> fatal = fatalErrors(result.getErrors());
    for (TemplateError e : fatal) {
      String raised = raisedMessage(e);
      if (raised != null) {
        throw new GlanceException.BadRequest("chat template rejected the conversation: " + raised);
      }
    }
    if (!fatal.isEmpty()) {
      throw new GlanceException.ModelLoad("chat template " + origin + " failed to render: "
          + describe(fatal));
    }
    return result.getOutput();
  }

  // Parse once up front so a broken template fails at load time, naming its file.
  private void checkSyntax() {
    JinjavaInterpreter interpreter = jinjava.newInterpreter();
    try (var current = JinjavaInterpreter.closeablePushCurrent(interpreter).get()) {
      current.value().parse(prepared);
    }
    List<TemplateError> fatal = fatalErrors(interpreter.getErrors());
    if (!fatal.isEmpty()) {
      throw new GlanceException.ModelLoad("chat template " + origin + " does not parse: "
          + describe(fatal));
    }
    List<String> unknown = FilterNameCheck.unknownFilters(prepared, jinjava);
    if (!unknown.isEmpty()) {
      throw new GlanceException.ModelLoad(
          "chat template " + origin + " uses unknown filter(s): " + String.join(", ", unknown));
    }
  }

  // Jinjava reports some syntax errors (a stray end tag) as warnings; Jinja2 rejects them all.
  private static List<TemplateError> fatalErrors(List<TemplateError> errors) {
    List<TemplateError> out = new ArrayList<>();
    for (TemplateError e : errors) {
      if (e.getSeverity() == TemplateError.ErrorType.FATAL
          || e.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR) {
        out.add(e);
      }
    }
    return out;
  }

  // The message of a raise_exception call, if this error came from one.
  private static String raisedMessage(TemplateError error) {
    for (Throwable t = error.getException(); t != null; t = t.getCause()) {
      if (t instanceof TemplateFunctions.TemplateRaisedException raised) {
        return raised.getMessage();
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }

  private static String describe(List<TemplateError> errors) {
    StringBuilder out = new StringBuilder();
    for (TemplateError e : errors) {
      if (!out.isEmpty()) {
        out.append("; ");
      }
      out.append("line ").append(e.getLineno()).append(": ").append(e.getMessage());
      if (e.getFieldName() != null && !e.getFieldName().isBlank()) {
        out.append(" (in `").append(e.getFieldName().strip()).append("`)");
      }
    }
    return out.toString();
  }

  @Override
  public String toString() {
    return "ChatTemplate[" + origin + "]";
  }
}
