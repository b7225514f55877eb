package dev.glance.server.api;

import java.net.URI;

/**
 * An image as a request names it, before anything is fetched or decoded; {@code param} is the
 * request field it came from, used in every error about it.
 */
public sealed interface ImageRef {
  String param();

  /** Base64 text, with or without a {@code data:image/...;base64,} prefix. */
  record Inline(String param, String data) implements ImageRef {}

  /** An http(s) URL for the server to fetch. */
  record Remote(String param, URI url) implements ImageRef {}
}
