package dev.glance.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.glance.server.api.ApiError;
import jakarta.servlet.http.HttpServletRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;

/**
 * Reads a JSON request body under a size cap. A declared Content-Length over the cap is refused
 * before a byte of the body is read; a chunked body is read only up to the cap, then refused. The
 * Content-Type is not insisted on (scripts often post JSON as curl's default form type), except
 * that multipart forms are refused with a hint.
 */
public final class RequestBody {
  private final long cap;
  private final ObjectMapper mapper;

  public RequestBody(long cap) {
    this.cap = cap;
    this.mapper = JsonMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .build();
    mapper.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
        .maxStringLength((int) Math.min(Integer.MAX_VALUE - 8, cap))
        .maxNestingDepth(64)
        .build());
  }

  public JsonNode readJson(HttpServletRequest request) {
    String type = request.getContentType() == null ? "" : request.getContentType().toLowerCase(Locale.ROOT);
    if (type.startsWith("multipart/")) {
      throw new ApiError.UnsupportedMediaType("send the request as a JSON body (Content-Type: application/json),"
          + " not as " + type.split(";")[0]);
    }
    byte[] body = read(request);
    if (body.length == 0) {
      throw new ApiError.InvalidRequest("the request body is empty; send a JSON object", null, "invalid_json");
    }
    try {
      return mapper.readTree(body);
    } catch (JsonProcessingException e) {
      throw new ApiError.InvalidRequest("the request body is not valid JSON: " + e.getOriginalMessage()
          + location(e), null, "invalid_json");
    } catch (IOException e) {
      throw new ApiError.InvalidRequest("the request body could not be read: " + e.getMessage(), null,
          "invalid_json");
    }
  }

  private static String location(JsonProcessingException e) {
    var loc = e.getLocation();
    return loc == null ? "" : " (at line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
  }

  private byte[] read(HttpServletRequest request) {
    long declared = request.getContentLengthLong();
    if (declared > cap) {
      throw tooLarge(declared);
    }
    try (InputStream in = request.getInputStream()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Math.max(declared, 1024), cap));
      byte[] buf = new byte[65536];
      long total = 0;
      int n;
      while ((n = in.read(buf)) > 0) {
        total += n;
        if (total > cap) {
          throw tooLarge(-1);
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new ApiError.InvalidRequest("the request body could not be read: " + e.getMessage(), null,
          "invalid_body");
    }
  }

  private ApiError.PayloadTooLarge tooLarge(long declared) {
    return new ApiError.PayloadTooLarge("the request body is " + (declared >= 0 ? declared + " bytes" : "larger")
        + ", over the server's limit of " + cap + " bytes (--max-body-bytes)");
  }
}
