package dev.glance.engine.runtime;

/** Wall time of each stage of one generation, in milliseconds. */
public record Timings(double preprocessMs, double visionMs, double prefillMs, double decodeMs) {}
