package dev.glance.engine;

/**
 * Base of every failure Glance reports to a person: a message that says what was wrong and where
 * (a file, a flag, a tensor name), without a stack trace. Each subclass is one kind of failure, so
 * the CLI and the HTTP layer map kinds to exit codes and status codes in one place.
 */
public abstract sealed class GlanceException extends RuntimeException
    permits GlanceException.ModelLoad, GlanceException.BadImage, GlanceException.BadRequest,
        GlanceException.Unsupported, GlanceException.Storage {

  protected GlanceException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The checkpoint directory or one of its files is missing, truncated or inconsistent. */
  public static final class ModelLoad extends GlanceException {
    public ModelLoad(String message) {
      super(message, null);
    }

    public ModelLoad(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** An input image cannot be read, is not an image, or is outside the size limits. */
  public static final class BadImage extends GlanceException {
    public BadImage(String message) {
      super(message, null);
    }

    public BadImage(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** A request is malformed or exceeds a limit (prompt longer than the context, bad option). */
  public static final class BadRequest extends GlanceException {
    public BadRequest(String message) {
      super(message, null);
    }
  }

  /** The checkpoint asks for something this engine does not implement (architecture, dtype). */
  public static final class Unsupported extends GlanceException {
    public Unsupported(String message) {
      super(message, null);
    }
  }

  /** Glance's own state (the keys and usage database) cannot be read or written. */
  public static final class Storage extends GlanceException {
    public Storage(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
