package dev.glance.server.log;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes one JSON object per line per request to a stream (stdout or an appended file). Lines are
 * written whole under a lock, so concurrent requests never interleave; a failing log never fails a
 * request.
 */
public final class RequestLog implements AutoCloseable {
  private final OutputStream out;
  private final boolean owned;
  private final ObjectMapper mapper = new ObjectMapper();

  private RequestLog(OutputStream out, boolean owned) {
    this.out = out;
    this.owned = owned;
  }

  /** Logs to {@code out}, which the caller keeps open and closes. */
  public static RequestLog to(OutputStream out) {
    return new RequestLog(out, false);
  }

  /** Appends to {@code file}, creating it. */
  public static RequestLog append(Path file) throws IOException {
    return new RequestLog(Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
        StandardOpenOption.WRITE), true);
  }

  /** Logs nothing. */
  public static RequestLog none() {
    return new RequestLog(OutputStream.nullOutputStream(), false);
  }

  public void write(RequestRecord record) {
    byte[] line;
    try {
      line = (mapper.writeValueAsString(record) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      return;
    }
    synchronized (this) {
      try {
        out.write(line);
        out.flush();
      } catch (IOException e) {
        // The log is best effort: a full disk must not turn answers into errors.
      }
    }
  }

  @Override
  public synchronized void close() throws IOException {
    if (owned) {
      out.close();
    }
  }
}
