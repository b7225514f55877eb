package dev.glance.server;

import dev.glance.server.security.AccessControl;
import dev.glance.server.usage.UsageMeter;
import dev.glance.server.usage.UsageReport;

/**
 * What the server takes from the state database (wired by {@code glance serve}): who may call and
 * within which limits ({@code access}), where each request's usage and cost go ({@code meter}), and
 * the reports of GET /v1/usage ({@code reports}).
 */
public record StateServices(AccessControl access, UsageMeter meter, UsageReport reports) {}
