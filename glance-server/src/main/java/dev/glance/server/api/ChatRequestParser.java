package dev.glance.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import dev.glance.engine.text.Role;
import dev.glance.server.ServedModel;
import dev.glance.server.ServerConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Reads an OpenAI Chat Completions request into a {@link ChatRequest}: text and {@code image_url}
 * parts (data URLs or http(s) URLs), system/developer, user and assistant turns, the sampling
 * fields, {@code n} = 1, {@code stream} and {@code stream_options}, and
 * {@code chat_template_kwargs.enable_thinking}. Fields the engine cannot honour (tools, logprobs,
 * penalties other than repetition_penalty...) are refused by name rather than silently ignored;
 * fields that change nothing (user, metadata...) are ignored as OpenAI does.
 */
public final class ChatRequestParser {
  /** Fields that ask for something this server does not do, when set to a non-default value. */
  private static final List<String> UNSUPPORTED = List.of("tools", "functions", "tool_choice",
      "function_call", "logit_bias", "audio", "prediction", "web_search_options");

  private static final Set<String> TEMPLATE_KWARGS = Set.of("enable_thinking");

  private final ServedModel model;
  private final ServerConfig config;

  public ChatRequestParser(ServedModel model, ServerConfig config) {
    this.model = model;
    this.config = config;
  }

  public ChatRequest parse(JsonNode body) {
    JsonFields f = JsonFields.root(body);
    String name = f.requiredString("model");
    if (!name.equals(model.name())) {
      throw new ApiError.NotFound("The model '" + name + "' does not exist; this server serves '"
          + model.name() + "' (GET /v1/models)", "model", "model_not_found");
    }
    refuseUnsupported(f);
    OptionalLong n = f.integer("n");
    if (n.isPresent() && n.getAsLong() != 1) {
      throw new ApiError.InvalidRequest("n must be 1: this server generates one choice per request, got "
          + n.getAsLong(), "n");
    }
    List<ImageRef> images = new ArrayList<>();
    List<ChatMessage> messages = messages(f, images);
    if (images.size() > config.maxImages()) {
      throw new ApiError.InvalidRequest("too many images: " + images.size() + "; the server takes at most "
          + config.maxImages() + " per request (--max-images)", "messages", "too_many_images");
    }
    OptionalLong maxTokens = f.integer("max_completion_tokens");
    String maxParam = "max_completion_tokens";
    if (maxTokens.isEmpty()) {
      maxTokens = f.integer("max_tokens");
      maxParam = "max_tokens";
    }
    SamplingFields.Parsed sampling = SamplingFields.parse(f, maxTokens, maxParam, model, config);
    boolean stream = f.bool("stream").orElse(false);
    boolean includeUsage = false;
    Optional<JsonFields> streamOptions = f.object("stream_options");
    if (streamOptions.isPresent()) {
      includeUsage = streamOptions.get().bool("include_usage").orElse(false);
    }
    Optional<Boolean> thinking = Optional.empty();
    Optional<JsonFields> kwargs = f.object("chat_template_kwargs");
    if (kwargs.isPresent()) {
      var names = kwargs.get().node().fieldNames();
      while (names.hasNext()) {
        String k = names.next();
        if (!TEMPLATE_KWARGS.contains(k)) {
          throw new ApiError.InvalidRequest("chat_template_kwargs." + k + " is not supported; only "
              + "enable_thinking is", "chat_template_kwargs." + k, "unsupported_parameter");
        }
      }
      thinking = kwargs.get().bool("enable_thinking");
    }
    boolean returnIds = f.bool("return_token_ids").orElse(false);
    InferenceInput input = new InferenceInput(messages, images, thinking, sampling.params(),
        sampling.explicitMaxTokens(), SamplingFields.maxPixels(f, model),
        f.bool("cache").orElse(true));
    return new ChatRequest(input, stream, includeUsage, returnIds);
  }

  private static void refuseUnsupported(JsonFields f) {
    for (String key : UNSUPPORTED) {
      Optional<JsonNode> v = f.raw(key);
      boolean empty = v.isEmpty() || (v.get().isContainerNode() && v.get().isEmpty())
          || (key.equals("tool_choice") && v.get().isTextual() && v.get().textValue().equals("none"));
      if (!empty) {
        throw new ApiError.InvalidRequest(key + " is not supported by this server", key, "unsupported_parameter");
      }
    }
    for (String key : List.of("frequency_penalty", "presence_penalty")) {
      if (f.number(key).orElse(0) != 0) {
        throw new ApiError.InvalidRequest(key + " is not supported (only 0); use repetition_penalty", key,
            "unsupported_parameter");
      }
    }
    if (f.bool("logprobs").orElse(false) || f.has("top_logprobs")) {
      throw new ApiError.InvalidRequest("logprobs are not supported by this server", "logprobs",
          "unsupported_parameter");
    }
    Optional<JsonFields> format = f.object("response_format");
    if (format.isPresent()) {
      String type = format.get().string("type").orElse("text");
      if (!type.equals("text")) {
        throw new ApiError.InvalidRequest("response_format.type '" + type + "' is not supported; only text",
            "response_format.type", "unsupported_parameter");
      }
    }
    Optional<List<JsonNode>> modalities = f.array("modalities");
    if (modalities.isPresent()) {
      for (JsonNode m : modalities.get()) {
        if (!m.isTextual() || !m.textValue().equals("text")) {
          throw new ApiError.InvalidRequest("modalities may only contain \"text\"", "modalities",
              "unsupported_parameter");
        }
      }
    }
  }

  private List<ChatMessage> messages(JsonFields f, List<ImageRef> images) {
    List<JsonNode> items = f.array("messages").orElseThrow(() -> f.missing("messages", "an array of messages"));
    if (items.isEmpty()) {
      throw new ApiError.InvalidRequest("messages must hold at least one message", "messages");
    }
    List<ChatMessage> out = new ArrayList<>(items.size());
    boolean hasUser = false;
    for (int i = 0; i < items.size(); i++) {
      JsonFields m = f.element("messages", items, i);
      String roleName = m.requiredString("role");
      Role role = switch (roleName) {
        case "system", "developer" -> Role.SYSTEM;
        case "user" -> Role.USER;
        case "assistant" -> Role.ASSISTANT;
        default -> throw new ApiError.InvalidRequest(m.pathOf("role") + " '" + roleName
            + "' is not supported: expected system, developer, user or assistant", m.pathOf("role"));
      };
      hasUser |= role == Role.USER;
      if (m.has("tool_calls") || m.has("function_call")) {
        throw new ApiError.InvalidRequest(m.pathOf("tool_calls") + ": tool calls are not supported",
            m.pathOf("tool_calls"), "unsupported_parameter");
      }
      out.add(content(m, role, images));
    }
    if (!hasUser) {
      throw new ApiError.InvalidRequest("messages must contain at least one user message", "messages");
    }
    return out;
  }

  private ChatMessage content(JsonFields m, Role role, List<ImageRef> images) {
    Optional<JsonNode> raw = m.raw("content");
    if (raw.isEmpty()) {
      if (role == Role.ASSISTANT) {
        return ChatMessage.text(role, "");
      }
      throw m.missing("content", "a string or an array of content parts");
    }
    JsonNode content = raw.get();
    if (content.isTextual()) {
      return ChatMessage.text(role, content.textValue());
    }
    if (!content.isArray()) {
      throw m.wrongType("content", "a string or an array of content parts", content);
    }
    List<JsonNode> items = m.array("content").orElseThrow();
    List<ContentPart> parts = new ArrayList<>(items.size());
    for (int j = 0; j < items.size(); j++) {
      JsonFields part = m.element("content", items, j);
      String type = part.requiredString("type");
      switch (type) {
        case "text" -> parts.add(new ContentPart.TextPart(part.requiredString("text")));
        case "image_url" -> {
          if (role != Role.USER) {
            throw new ApiError.InvalidRequest(part.path() + ": only user messages may hold images",
                part.path());
          }
          images.add(imageRef(part));
          parts.add(new ContentPart.ImagePart(images.size() - 1));
        }
        default -> throw new ApiError.InvalidRequest(part.pathOf("type") + " '" + type
            + "' is not supported: expected text or image_url", part.pathOf("type"), "unsupported_content");
      }
    }
    return ChatMessage.parts(role, parts);
  }

  private ImageRef imageRef(JsonFields part) {
    String param = part.pathOf("image_url");
    String url;
    Optional<JsonNode> v = part.raw("image_url");
    if (v.isEmpty()) {
      throw part.missing("image_url", "an object with a url");
    }
    if (v.get().isTextual()) {
      url = v.get().textValue();
    } else {
      JsonFields obj = part.object("image_url").orElseThrow();
      url = obj.requiredString("url");
      Optional<String> detail = obj.string("detail");
      if (detail.isPresent() && !Set.of("auto", "low", "high").contains(detail.get())) {
        throw new ApiError.InvalidRequest(obj.pathOf("detail") + " must be auto, low or high, got '"
            + detail.get() + "'", obj.pathOf("detail"));
      }
    }
    String lower = url.stripLeading().toLowerCase(Locale.ROOT);
    if (lower.startsWith("data:")) {
      return new ImageRef.Inline(param, url.strip());
    }
    if (lower.startsWith("http://") || lower.startsWith("https://")) {
      if (!config.fetchImageUrls()) {
        throw new ApiError.InvalidRequest(param + ": this server does not fetch image URLs; send the image"
            + " as a data: URL", param, "invalid_image_url");
      }
      try {
        URI uri = new URI(url.strip());
        if (uri.getHost() == null) {
          throw new URISyntaxException(url, "no host");
        }
        return new ImageRef.Remote(param, uri);
      } catch (URISyntaxException e) {
        throw new ApiError.InvalidRequest(param + " is not a valid URL: " + e.getMessage(), param,
            "invalid_image_url");
      }
    }
    String shown = url.length() > 30 ? url.substring(0, 30) + "..." : url;
    throw new ApiError.InvalidRequest(param + " must be a data: URL or an http(s) URL, got '" + shown + "'",
        param, "invalid_image_url");
  }
}
