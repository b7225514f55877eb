package dev.glance.engine.runtime;

import dev.glance.engine.generate.SamplingParams;
import dev.glance.engine.text.ChatMessage;
import java.util.List;
import java.util.Optional;

/**
 * One generation: chat messages whose image parts refer by index to {@code images}, whether the
 * template should think (empty = the template's default), and how to sample and stop.
 */
public record GenerationRequest(
    List<ChatMessage> messages,
    List<ImageInput> images,
    Optional<Boolean> enableThinking,
    SamplingParams sampling) {
  public GenerationRequest {
    messages = List.copyOf(messages);
    images = List.copyOf(images);
  }
}
