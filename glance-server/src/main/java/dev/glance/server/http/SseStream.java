package dev.glance.server.http;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A server-sent event stream as OpenAI streams completions: {@code data: <json>} events, each
 * flushed at once, closed by {@code data: [DONE]}. The response is committed (status 200) only at
 * {@link #start()}, so a request that fails before its first output still gets a proper error
 * status. Write failures surface as IOException: the client is gone.
 */
public final class SseStream {
  private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);

  private final HttpServletResponse response;
  private ServletOutputStream out;

  public SseStream(HttpServletResponse response) {
    this.response = response;
  }

  public boolean started() {
    return out != null;
  }

  public void start() throws IOException {
    if (out != null) {
      return;
    }
    response.setStatus(200);
    response.setContentType("text/event-stream;charset=utf-8");
    response.setHeader("Cache-Control", "no-cache");
    response.setHeader("X-Accel-Buffering", "no");
    out = response.getOutputStream();
  }

  public void event(String json) throws IOException {
    start();
    out.write(("data: " + json + "\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  public void done() throws IOException {
    start();
    out.write(DONE);
    out.flush();
  }
}
