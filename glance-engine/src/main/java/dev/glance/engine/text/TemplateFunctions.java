package dev.glance.engine.text;

import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.time.ZonedDateTime;
import java.util.Locale;

/**
 * The global functions Hugging Face adds to its chat-template environment. Stateless: each call
 * reads only its arguments (and the clock).
 */
final class TemplateFunctions {
  private TemplateFunctions() {}

  /** {@code raise_exception(message)}: the template rejects the conversation. */
  static Object raiseException(String message) {
    throw new TemplateRaisedException(message);
  }

  /** {@code strftime_now(format)}: the local time in a Python strftime format. */
  static String strftimeNow(String format) {
    return StrftimeFormatter.format(ZonedDateTime.now(), format, Locale.ENGLISH);
  }

  /** Thrown by {@code raise_exception}; recognised when Jinjava reports the render error. */
  static final class TemplateRaisedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TemplateRaisedException(String message) {
      super(message, null, false, false);
    }
  }
}
