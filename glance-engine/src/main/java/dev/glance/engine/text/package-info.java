/**
 * From a conversation to model input ids, and from generated ids back to text.
 *
 * <p>{@link dev.glance.engine.text.ChatTemplate} renders {@link dev.glance.engine.text.ChatMessage}s
 * with the checkpoint's Jinja template exactly as transformers' {@code apply_chat_template} does;
 * {@link dev.glance.engine.text.Tokenizer} turns the text into ids with the checkpoint's
 * {@code tokenizer.json}; {@link dev.glance.engine.text.PromptBuilder} does both and expands each
 * image placeholder to the image's vision-token count. {@link
 * dev.glance.engine.text.TokenStreamDecoder} turns generated ids into text as they arrive.
 */
package dev.glance.engine.text;
