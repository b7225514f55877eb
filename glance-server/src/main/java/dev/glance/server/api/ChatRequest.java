package dev.glance.server.api;

/**
 * A validated {@code POST /v1/chat/completions} request.
 *
 * @param input what to generate
 * @param stream answer as server-sent events
 * @param includeUsage with {@code stream}, send a last chunk with the usage
 * @param returnTokenIds add the generated token ids to the choice (an extension, as vLLM's)
 */
public record ChatRequest(InferenceInput input, boolean stream, boolean includeUsage, boolean returnTokenIds) {}
