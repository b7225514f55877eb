package dev.glance.engine.text;

import dev.glance.engine.GlanceException;
import java.util.Locale;

/** Who speaks a chat message; {@link #wireName()} is the role string chat templates compare. */
public enum Role {
  SYSTEM,
  USER,
  ASSISTANT;

  /** The lower-case name used by chat templates and the OpenAI-style API: "system", "user"... */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a wire name.
   *
   * @throws GlanceException.BadRequest if the role is not system, user or assistant
   */
  public static Role parse(String wireName) {
    for (Role r : values()) {
      if (r.wireName().equals(wireName)) {
        return r;
      }
    }
    throw new GlanceException.BadRequest(
        "unknown message role '" + wireName + "': expected system, user or assistant");
  }
}
