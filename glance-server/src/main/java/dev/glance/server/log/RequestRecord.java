package dev.glance.server.log;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * One line of the request log: who asked what, how it went, how long each stage took, and flags
 * for what deserves a look ({@link Flag}). Absent values (no images, no generation) are left out.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RequestRecord(
    String ts,
    String id,
    String method,
    String route,
    int status,
    String client,
    String key,
    String model,
    Boolean stream,
    List<Image> images,
    @JsonProperty("prompt_tokens") Integer promptTokens,
    @JsonProperty("image_tokens") Integer imageTokens,
    /** Prompt tokens whose KV came from the prefix cache. */
    @JsonProperty("cached_tokens") Integer cachedTokens,
    @JsonProperty("completion_tokens") Integer completionTokens,
    @JsonProperty("max_tokens") Integer maxTokens,
    @JsonProperty("finish_reason") String finishReason,
    @JsonProperty("timings_ms") Timings timings,
    Error error,
    List<String> flags) {

  /** An input image: decoded size, encoded size and format, and a hash to recognise it again. */
  public record Image(String param, int width, int height, long bytes, String format, String sha256) {}

  /** Milliseconds spent in each stage; {@code total} from arrival to the last byte. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Timings(Double queue, Double preprocess, Double vision, Double prefill, Double decode,
      @JsonProperty("first_token") Double firstToken, double total) {}

  /** What went wrong, as the client was told. */
  public record Error(String type, String code, String message) {}

  /** What makes a request worth a look. */
  public enum Flag {
    /** The model produced NaN or infinite logits. */
    NAN_LOGITS("nan_logits"),
    /** The output ends in a loop of repeated tokens. */
    REPETITION_LOOP("repetition_loop"),
    /** Generation stopped at max_tokens (or a full context), not at an end token or stop string. */
    MAX_TOKENS("max_tokens"),
    /** The client went away before the answer was complete. */
    CLIENT_GONE("client_gone"),
    /** The request ran past the server's timeout. */
    TIMEOUT("timeout");

    private final String wire;

    Flag(String wire) {
      this.wire = wire;
    }

    public String wire() {
      return wire;
    }
  }
}
