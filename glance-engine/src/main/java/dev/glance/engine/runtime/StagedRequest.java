package dev.glance.engine.runtime;

/**
 * A request between the two halves of preparation ({@link Engine#stage} and {@link
 * Engine#prepare(java.util.List)}): checked and tokenized, its images decoded, looked up in the
 * vision cache and the missing ones preprocessed, waiting for the vision tower. Times are
 * System.nanoTime() marks: start, images preprocessed.
 */
record StagedRequest(GenerationRequest request, int[] ids, int imageTokens, int capacity, VisionInputs vision,
    long startNanos, long preprocessedNanos) {}
