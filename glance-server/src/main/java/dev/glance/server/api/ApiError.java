package dev.glance.server.api;

import java.time.Duration;
import java.util.Optional;

/**
 * A failure the API reports to its client, one subclass per kind. Each kind fixes its HTTP status
 * and OpenAI error {@code type}; the message says what was wrong in words a client can act on,
 * {@code param} names the offending request field (as a path such as {@code messages[0].content})
 * and {@code code} is a stable machine-readable name. {@link ErrorMapper} turns any throwable into
 * one of these, so the status of every failure is decided in one place.
 */
public abstract sealed class ApiError extends RuntimeException {
  private final String param;
  private final String code;

  private ApiError(String message, String param, String code, Throwable cause) {
    super(message, cause, false, false);
    this.param = param;
    this.code = code;
  }

  /** The HTTP status this kind of failure is answered with. */
  public abstract int status();

  /** The OpenAI error {@code type}. */
  public abstract String type();

  public Optional<String> param() {
    return Optional.ofNullable(param);
  }

  public String code() {
    return code;
  }

  /** How long a client should wait before trying again, for failures that pass. */
  public Optional<Duration> retryAfter() {
    return Optional.empty();
  }

  /** 400: the request is malformed, has a wrong type or value, or asks for what is not offered. */
  public static final class InvalidRequest extends ApiError {
    public InvalidRequest(String message, String param, String code) {
      super(message, param, code, null);
    }

    public InvalidRequest(String message, String param) {
      this(message, param, "invalid_value");
    }

    @Override
    public int status() {
      return 400;
    }

    @Override
    public String type() {
      return "invalid_request_error";
    }
  }

  /** 401: no API key where one is needed, or one that is unknown, revoked or expired. */
  public static final class Unauthorized extends ApiError {
    public Unauthorized(String message, String code) {
      super(message, null, code, null);
    }

    @Override
    public int status() {
      return 401;
    }

    @Override
    public String type() {
      return "authentication_error";
    }
  }

  /**
   * 403: the caller is known but may not do this: its address is not in the allow-list
   * ({@code permission_denied}), its key's budget is spent ({@code insufficient_quota}), or the
   * route needs an admin key ({@code permission_denied}).
   */
  public static final class Forbidden extends ApiError {
    private final String type;

    public Forbidden(String message, String type, String code) {
      super(message, null, code, null);
      this.type = type;
    }

    @Override
    public int status() {
      return 403;
    }

    @Override
    public String type() {
      return type;
    }
  }

  /** 429: a rate limit of the caller's key (or address) is reached; retry after {@link #retryAfter()}. */
  public static final class RateLimited extends ApiError {
    private final Duration retryAfter;

    public RateLimited(String message, String code, Duration retryAfter) {
      super(message, null, code, null);
      this.retryAfter = retryAfter;
    }

    @Override
    public int status() {
      return 429;
    }

    @Override
    public String type() {
      return "rate_limit_error";
    }

    @Override
    public Optional<Duration> retryAfter() {
      return Optional.of(retryAfter);
    }
  }

  /** 404: no such route, or no such model. */
  public static final class NotFound extends ApiError {
    public NotFound(String message, String param, String code) {
      super(message, param, code, null);
    }

    @Override
    public int status() {
      return 404;
    }

    @Override
    public String type() {
      return "invalid_request_error";
    }
  }

  /** 405: the route exists but not with this method. */
  public static final class MethodNotAllowed extends ApiError {
    public MethodNotAllowed(String message) {
      super(message, null, "method_not_allowed", null);
    }

    @Override
    public int status() {
      return 405;
    }

    @Override
    public String type() {
      return "invalid_request_error";
    }
  }

  /** 413: the request body is over the server's size cap; refused before it is read. */
  public static final class PayloadTooLarge extends ApiError {
    public PayloadTooLarge(String message) {
      super(message, null, "payload_too_large", null);
    }

    @Override
    public int status() {
      return 413;
    }

    @Override
    public String type() {
      return "invalid_request_error";
    }
  }

  /** 415: the body is declared as something other than JSON. */
  public static final class UnsupportedMediaType extends ApiError {
    public UnsupportedMediaType(String message) {
      super(message, null, "unsupported_media_type", null);
    }

    @Override
    public int status() {
      return 415;
    }

    @Override
    public String type() {
      return "invalid_request_error";
    }
  }

  /**
   * 503: the server cannot take the request now (queue full, model still loading, shutting down);
   * the client may retry after {@link #retryAfter()}.
   */
  public static final class Unavailable extends ApiError {
    private final Duration retryAfter;

    public Unavailable(String message, String code, Duration retryAfter) {
      super(message, null, code, null);
      this.retryAfter = retryAfter;
    }

    @Override
    public int status() {
      return 503;
    }

    @Override
    public String type() {
      return "server_error";
    }

    @Override
    public Optional<Duration> retryAfter() {
      return Optional.of(retryAfter);
    }
  }

  /** 504: generation ran past the server's request timeout and was stopped. */
  public static final class Timeout extends ApiError {
    public Timeout(String message) {
      super(message, null, "timeout", null);
    }

    @Override
    public int status() {
      return 504;
    }

    @Override
    public String type() {
      return "server_error";
    }
  }

  /** 500: a fault in the server or the model, never in the request. */
  public static final class Internal extends ApiError {
    public Internal(String message, String code, Throwable cause) {
      super(message, null, code, cause);
    }

    @Override
    public int status() {
      return 500;
    }

    @Override
    public String type() {
      return "server_error";
    }
  }
}
