package dev.glance.engine.runtime;

import dev.glance.engine.generate.SamplingParams;
import dev.glance.engine.text.ChatMessage;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One generation: chat messages whose image parts refer by index to {@code images}, whether the
 * template should think (empty = the template's default), and how to sample and stop.
 *
 * @param maxPixels resize images to at most this many pixels instead of the checkpoint's
 *     {@code max_pixels} (a request may ask for less detail, and so fewer image tokens); empty =
 *     the checkpoint's value
 * @param strictContext when true, a prompt whose length plus {@code max_tokens} exceeds the
 *     context is refused with {@link dev.glance.engine.GlanceException.BadRequest} before any
 *     image is encoded; when false, generation runs until the context is full and ends with
 *     {@link dev.glance.engine.generate.FinishReason#CONTEXT}
 */
public record GenerationRequest(
    List<ChatMessage> messages,
    List<ImageInput> images,
    Optional<Boolean> enableThinking,
    SamplingParams sampling,
    OptionalLong maxPixels,
    boolean strictContext) {
  public GenerationRequest {
    messages = List.copyOf(messages);
    images = List.copyOf(images);
    maxPixels = maxPixels == null ? OptionalLong.empty() : maxPixels;
  }

  /** A request with the checkpoint's image size ceiling that generates until the context is full. */
  public GenerationRequest(List<ChatMessage> messages, List<ImageInput> images,
      Optional<Boolean> enableThinking, SamplingParams sampling) {
    this(messages, images, enableThinking, sampling, OptionalLong.empty(), false);
  }
}
