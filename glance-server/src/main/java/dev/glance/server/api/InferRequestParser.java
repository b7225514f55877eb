package dev.glance.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.text.ChatMessage;
import dev.glance.engine.text.ContentPart;
import dev.glance.engine.text.Role;
import dev.glance.server.ServedModel;
import dev.glance.server.ServerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the simple {@code POST /infer} request: {@code image} (base64, a data-URL prefix allowed)
 * or {@code images} (a list of them), {@code text}, and optionally {@code system}, {@code thinking},
 * {@code model} and the sampling fields. Its shape is fixed by the scripts that already post it.
 */
public final class InferRequestParser {
  private final ServedModel model;
  private final ServerConfig config;

  public InferRequestParser(ServedModel model, ServerConfig config) {
    this.model = model;
    this.config = config;
  }

  public InferenceInput parse(JsonNode body) {
    JsonFields f = JsonFields.root(body);
    Optional<String> name = f.string("model");
    if (name.isPresent() && !name.get().equals(model.name())) {
      throw new ApiError.NotFound("The model '" + name.get() + "' does not exist; this server serves '"
          + model.name() + "'", "model", "model_not_found");
    }
    List<ImageRef> images = new ArrayList<>();
    if (f.has("image") && f.has("images")) {
      throw new ApiError.InvalidRequest("give either image or images, not both", "images");
    }
    f.string("image").ifPresent(s -> images.add(new ImageRef.Inline("image", s)));
    Optional<List<JsonNode>> list = f.array("images");
    if (list.isPresent()) {
      for (int i = 0; i < list.get().size(); i++) {
        JsonNode v = list.get().get(i);
        if (!v.isTextual()) {
          throw new ApiError.InvalidRequest("images[" + i + "] must be a base64 string, got "
              + JsonFields.describe(v), "images[" + i + "]", "invalid_type");
        }
        images.add(new ImageRef.Inline("images[" + i + "]", v.textValue()));
      }
    }
    if (images.isEmpty()) {
      throw new ApiError.InvalidRequest("image is required: a base64-encoded image (or images, a list of"
          + " them)", "image", "missing_field");
    }
    if (images.size() > config.maxImages()) {
      throw new ApiError.InvalidRequest("too many images: " + images.size() + "; the server takes at most "
          + config.maxImages() + " per request (--max-images)", "images", "too_many_images");
    }
    String text = f.requiredString("text");
    if (text.isBlank()) {
      throw new ApiError.InvalidRequest("text must not be empty", "text");
    }
    List<ChatMessage> messages = new ArrayList<>();
    f.string("system").ifPresent(s -> messages.add(ChatMessage.system(s)));
    List<ContentPart> parts = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      parts.add(new ContentPart.ImagePart(i));
    }
    parts.add(new ContentPart.TextPart(text));
    messages.add(ChatMessage.parts(Role.USER, parts));
    SamplingFields.Parsed sampling = SamplingFields.parse(f, f.integer("max_tokens"), "max_tokens", model, config);
    return new InferenceInput(messages, images, f.bool("thinking"), sampling.params(),
        sampling.explicitMaxTokens(), SamplingFields.maxPixels(f, model),
        f.bool("cache").orElse(true));
  }
}
