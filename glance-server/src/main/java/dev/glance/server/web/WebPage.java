package dev.glance.server.web;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The web pages: {@code /} to ask about an image, {@code /usage} the usage dashboard (charts of
 * GET /v1/usage), with their scripts and style sheet, read once from the jar. Nothing is loaded from elsewhere (the Content-Security-Policy forbids it), so the page works
 * offline and leaks no image to a third party.
 */
public final class WebPage {
  /** Served path to resource name and content type. */
  private static final Map<String, String[]> FILES = Map.of(
      "/", new String[] {"index.html", "text/html; charset=utf-8"},
      "/app.js", new String[] {"app.js", "text/javascript; charset=utf-8"},
      "/usage", new String[] {"usage.html", "text/html; charset=utf-8"},
      "/usage.js", new String[] {"usage.js", "text/javascript; charset=utf-8"},
      "/key.js", new String[] {"key.js", "text/javascript; charset=utf-8"},
      "/style.css", new String[] {"style.css", "text/css; charset=utf-8"});

  private static final String CSP = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self';"
      + " style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

  private final Map<String, byte[]> contents;

  public WebPage() {
    var loaded = new java.util.HashMap<String, byte[]>();
    for (var e : FILES.entrySet()) {
      String resource = "/web/" + e.getValue()[0];
      try (InputStream in = WebPage.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException("web page resource " + resource + " is missing from the jar");
        }
        loaded.put(e.getKey(), in.readAllBytes());
      } catch (IOException ex) {
        throw new UncheckedIOException(ex);
      }
    }
    this.contents = Map.copyOf(loaded);
  }

  /** The paths the page is served under. */
  public Iterable<String> paths() {
    return FILES.keySet();
  }

  public void serve(Context ctx) {
    String path = ctx.path();
    byte[] body = contents.get(path);
    ctx.header("Content-Security-Policy", CSP);
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("Cache-Control", "no-cache");
    ctx.contentType(FILES.get(path)[1]).result(body);
  }
}
