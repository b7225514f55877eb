package dev.glance.cli.loadtest;

/**
 * One request's result as the load generator saw it: HTTP status (0 when the connection failed),
 * end-to-end and time-to-first-token milliseconds, tokens generated, and whether the server said
 * it served the image from its vision cache.
 */
public record RequestOutcome(int status, double latencyMs, double ttftMs, int completionTokens, boolean repeated,
    boolean visionCacheHit) {}
