/**
 * Getting models: from a {@code --model} value to a checkpoint directory on disk.
 *
 * <p>{@link dev.glance.engine.hub.ModelLocator} is the one entry point: a directory is used as it
 * is, {@code ORG/NAME[@REV]} comes from the Hugging Face cache or is pulled on first use. {@link
 * dev.glance.engine.hub.ModelPuller} pulls a revision's engine files in the standard cache layout
 * ({@link dev.glance.engine.hub.HfCacheLayout}) through {@link dev.glance.engine.hub.HubClient},
 * which speaks the hub's HTTP protocol (also spoken by mirrors such as hf-mirror.com); each file is
 * resumed, retried and verified on its way into the cache. {@link
 * dev.glance.engine.hub.HubSettings} carries the endpoint, token, cache and offline mode that the
 * {@code HF_*} environment variables set; {@link dev.glance.engine.hub.DownloadProgress} reports.
 */
package dev.glance.engine.hub;
