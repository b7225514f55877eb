package dev.glance.server.api;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.glance.engine.GlanceException;
import dev.glance.engine.runtime.NonFiniteLogitsException;
import dev.glance.server.inference.QueueFullException;
import dev.glance.server.security.AccessControl;
import dev.glance.server.inference.ServiceClosedException;
import java.time.Duration;

/**
 * The one place where failures become HTTP answers: any throwable to an {@link ApiError} (and so
 * to a status), and an {@link ApiError} to the OpenAI error body
 * {@code {"error": {"message", "type", "param", "code"}}}. Only faults of the server itself become
 * 5xx; everything a request can cause is 4xx.
 */
public final class ErrorMapper {
  private ErrorMapper() {}

  public static ApiError map(Throwable t) {
    return switch (t) {
      case ApiError e -> e;
      case QueueFullException e -> new ApiError.Unavailable(e.getMessage(), "overloaded", e.retryAfter());
      case ServiceClosedException e -> new ApiError.Unavailable(e.getMessage(), "shutting_down",
          Duration.ofSeconds(5));
      case GlanceException.BadImage e -> new ApiError.InvalidRequest(e.getMessage(), null, "invalid_image");
      case GlanceException.BadRequest e -> new ApiError.InvalidRequest(e.getMessage(), null, "invalid_request");
      case GlanceException.Unsupported e -> new ApiError.InvalidRequest(e.getMessage(), null, "unsupported");
      case GlanceException.Storage e -> new ApiError.Unavailable("the server's state database (keys, usage"
          + " ledger) is not available: " + e.getMessage(), "storage_unavailable", Duration.ofSeconds(5));
      case GlanceException.ModelLoad e -> new ApiError.Internal("the model failed: " + e.getMessage(), "model_error", e);
      case NonFiniteLogitsException e -> new ApiError.Internal(e.getMessage(), "nan_logits", e);
      case OutOfMemoryError e -> new ApiError.Internal(
          "the server ran out of memory on this request; try smaller or fewer images", "out_of_memory", e);
      default -> new ApiError.Internal("internal error (" + t.getClass().getSimpleName()
          + "); the server log has details", "internal_error", t);
    };
  }

  /** An access refusal (bad key, address, budget or rate) as the error it is answered with. */
  public static ApiError refused(AccessControl.Refused r) {
    return switch (r.status()) {
      case 401 -> new ApiError.Unauthorized(r.message(), r.code());
      case 403 -> new ApiError.Forbidden(r.message(), r.type(), r.code());
      case 429 -> new ApiError.RateLimited(r.message(), r.code(),
          Duration.ofSeconds(r.retryAfterSeconds().orElse(1)));
      default -> throw new IllegalArgumentException("no error kind for refusal status " + r.status());
    };
  }

  /** The OpenAI-style body of an error. */
  public static ObjectNode body(ApiError e) {
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    ObjectNode error = root.putObject("error");
    error.put("message", e.getMessage());
    error.put("type", e.type());
    if (e.param().isPresent()) {
      error.put("param", e.param().get());
    } else {
      error.putNull("param");
    }
    error.put("code", e.code());
    return root;
  }
}
