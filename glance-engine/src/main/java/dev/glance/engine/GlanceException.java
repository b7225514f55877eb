package dev.glance.engine;

/**
 * Base of every failure Glance reports to a person: a message that says what was wrong and where
 * (a file, a flag, a tensor name), without a stack trace. Each subclass is one kind of failure, so
 * the CLI and the HTTP layer map kinds to exit codes and status codes in one place.
 */
public abstract sealed class GlanceException extends RuntimeException
    permits GlanceException.ModelLoad, GlanceException.BadImage, GlanceException.BadRequest,
        GlanceException.Unsupported, GlanceException.Storage, GlanceException.Download {

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

  /**
   * A model could not be fetched from the Hugging Face Hub (or a mirror) or stored in the local
   * cache: the repository is unknown or gated, the hub cannot be reached, the disk is full, a file
   * kept failing verification, or the model is not cached while offline. {@link #reason()} says
   * which, so callers can react without parsing the message.
   */
  public static final class Download extends GlanceException {
    /** What went wrong, one value per thing a person would do differently. */
    public enum Reason {
      /** The repository, revision or a needed file does not exist (or is private). */
      NOT_FOUND,
      /** The repository is gated or private and the token is missing or lacks access. */
      GATED,
      /** The hub or its file host could not be reached, or kept failing. */
      UNREACHABLE,
      /** Offline mode is on and the model is not (completely) in the cache. */
      OFFLINE,
      /** Not enough free space in the cache. */
      DISK_FULL,
      /** The cache cannot be written for another reason (permissions, a read-only disk). */
      CACHE,
      /** A downloaded file did not match the hub's checksum, again after a fresh download. */
      CORRUPT,
      /** The hub answered something this client does not understand. */
      PROTOCOL
    }

    private final Reason reason;

    public Download(Reason reason, String message) {
      this(reason, message, null);
    }

    public Download(Reason reason, String message, Throwable cause) {
      super(message, cause);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }
}
