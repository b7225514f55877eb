/**
 * Turning logits into tokens and tokens into a finished answer, independent of the model: {@link
 * dev.glance.engine.generate.Sampler} picks the next token id from a logit vector, {@link
 * dev.glance.engine.generate.StopChecker} decides when generation ends and what text may be shown,
 * and {@link dev.glance.engine.generate.ThinkingSplitter} separates the model's reasoning from its
 * answer.
 *
 * <p>The pipeline per generated token is: model logits → {@code Sampler.next} → token id →
 * incremental detokenization → {@code StopChecker.accept} (stop ids, stop strings, limits) →
 * released text → {@code ThinkingSplitter.push} → reasoning / answer pieces for the client.
 */
package dev.glance.engine.generate;
