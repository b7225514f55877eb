package dev.glance.engine.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.engine.GlanceException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HubRepoTest {
  @Test
  void parsesIdsAndRevisions() {
    assertEquals(Optional.of(new HubRepo("zai-org/GLM-4.6V-Flash", "main")), HubRepo.parse("zai-org/GLM-4.6V-Flash"));
    assertEquals(Optional.of(new HubRepo("zai-org/GLM-4.6V-Flash", "v1.0")), HubRepo.parse("zai-org/GLM-4.6V-Flash@v1.0"));
    assertEquals("refs/pr/3", HubRepo.parse("a/b@refs/pr/3").orElseThrow().revision());
    assertEquals("models--zai-org--GLM-4.6V-Flash", new HubRepo("zai-org/GLM-4.6V-Flash", "main").folderName());
    assertEquals("a/b@dev", new HubRepo("a/b", "dev").toString());
    assertEquals("a/b", new HubRepo("a/b", "main").toString());
  }

  @Test
  void refusesWhatIsNotARepositoryId() {
    for (String s : new String[] {"model", "./models/glm", "/abs/path", "a/b/c", "a--x/b", "a/b..c", "-a/b",
        "a/b-", "a/", "/b", "a/b@", "a b/c"}) {
      assertTrue(HubRepo.parse(s).isEmpty(), s);
    }
    assertThrows(GlanceException.BadRequest.class, () -> new HubRepo("a/b", "../x"));
    assertThrows(GlanceException.BadRequest.class, () -> new HubRepo("a/b", "has space"));
  }

  @Test
  void knowsCommitRevisions() {
    assertTrue(new HubRepo("a/b", "0123456789abcdef0123456789abcdef01234567").revisionIsCommit());
    assertFalse(new HubRepo("a/b", "main").revisionIsCommit());
  }
}
