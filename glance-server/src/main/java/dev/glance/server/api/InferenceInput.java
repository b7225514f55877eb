package dev.glance.server.api;

import dev.glance.engine.generate.SamplingParams;
import dev.glance.engine.text.ChatMessage;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A validated request of either API, images still undecoded: what the routes hand to the image
 * loader and then to the inference service.
 *
 * @param messages the conversation; image parts index into {@code images}
 * @param images the images, in the order the messages refer to them
 * @param thinking the template's enable_thinking; empty = the template's default
 * @param sampling how to choose tokens and when to stop
 * @param strictContext whether max_tokens was given (then prompt + max_tokens must fit the context)
 * @param maxPixels the resize ceiling for this request's images
 * @param cache false when the request asked to bypass the response cache ({@code "cache": false})
 */
public record InferenceInput(
    List<ChatMessage> messages,
    List<ImageRef> images,
    Optional<Boolean> thinking,
    SamplingParams sampling,
    boolean strictContext,
    OptionalLong maxPixels,
    boolean cache) {
  public InferenceInput {
    messages = List.copyOf(messages);
    images = List.copyOf(images);
  }
}
