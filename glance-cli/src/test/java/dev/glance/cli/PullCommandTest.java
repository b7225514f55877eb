package dev.glance.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.glance.engine.hub.FakeHub;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `glance pull` and `glance ask --model ORG/NAME` in-process against a local fake hub. */
class PullCommandTest {
  static final String ID = "test-org/glm4v-tiny";
  @TempDir Path tmp;
  FakeHub hub;

  @BeforeEach
  void start() throws IOException {
    hub = new FakeHub();
    hub.addRepo(ID, FakeHub.filesOf(AskCommandTest.FIXTURE), Optional.empty());
  }

  @AfterEach
  void stop() {
    hub.close();
  }

  Map<String, String> env(String... extra) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("HF_ENDPOINT", hub.endpoint().toString());
    env.put("HF_HOME", tmp.resolve("hf").toString()); // no token file from the machine running the tests
    env.put("HF_HUB_ETAG_TIMEOUT", "5");
    for (int i = 0; i < extra.length; i += 2) {
      env.put(extra[i], extra[i + 1]);
    }
    return env;
  }

  static AskCommandTest.Run run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), env, false);
    return new AskCommandTest.Run(code, out.toString(), err.toString());
  }

  Path snapshot() {
    return tmp.resolve("hf/hub/models--test-org--glm4v-tiny/snapshots").resolve(hub.repo(ID).commit());
  }

  static String lastLine(String text) {
    String[] lines = text.split("\n");
    return lines[lines.length - 1];
  }

  @Test
  void pullPrintsTheSnapshotDirectoryAndLogsProgress() {
    AskCommandTest.Run r = run(env(), "pull", ID);
    assertEquals(0, r.code(), r.err());
    assertEquals(snapshot() + "\n", r.out());
    assertTrue(r.err().startsWith("pulling " + ID + " (commit "), r.err());
    assertTrue(r.err().contains("fetching model.safetensors (1.4 MB)\n"), r.err());
    assertTrue(r.err().contains("pulled " + ID + " ("), r.err());
    assertTrue(Files.isRegularFile(snapshot().resolve("model.safetensors")));

    Path other = tmp.resolve("elsewhere");
    AskCommandTest.Run c = run(env(), "pull", ID, "--cache-dir", other.toString(), "--parallel", "1");
    assertEquals(0, c.code(), c.err());
    assertTrue(c.out().startsWith(other.resolve("models--test-org--glm4v-tiny").toString()), c.out());
  }

  @Test
  void askWithARepositoryPullsOnFirstUseAndAnswersLikeTheOriginal() throws IOException {
    JsonNode case0 = AskCommandTest.expected().path("cases").get(0);
    List<String> local = AskCommandTest.argsFor(case0);
    List<String> remote = new ArrayList<>(local);
    remote.set(remote.indexOf("--model") + 1, ID);

    AskCommandTest.Run original = AskCommandTest.ask(local);
    AskCommandTest.Run first = run(env(), remote.toArray(String[]::new));
    AskCommandTest.Run offline = run(env("HF_HUB_OFFLINE", "1"), remote.toArray(String[]::new));
    assertEquals(0, original.code(), original.err());
    assertEquals(0, first.code(), first.err());
    assertEquals(0, offline.code(), offline.err());
    assertTrue(first.err().contains("pulling " + ID), first.err());
    assertTrue(!offline.err().contains("pulling"), "the second run uses the cache: " + offline.err());

    int[] expected = AskCommandTest.greedyIds(case0.path("name").asText());
    for (AskCommandTest.Run r : List.of(original, first, offline)) {
      JsonNode out = AskCommandTest.JSON.readTree(r.out());
      assertArrayEquals(expected, AskCommandTest.JSON.convertValue(out.path("token_ids"), int[].class));
      assertEquals(AskCommandTest.JSON.readTree(original.out()).path("text"), out.path("text"));
    }
  }

  @Test
  void failuresAreOneLineWithTheirOwnExitCodes() throws IOException {
    AskCommandTest.Run missing = run(env(), "pull", "test-org/nope");
    assertEquals(Main.EXIT_DOWNLOAD, missing.code());
    assertEquals("glance: repository not found: test-org/nope on " + hub.endpoint()
        + " (if it is private, set HF_TOKEN)\n", missing.err());

    hub.addRepo("test-org/gated", FakeHub.filesOf(AskCommandTest.FIXTURE), Optional.of("hf_ok"));
    AskCommandTest.Run gated = run(env(), "pull", "test-org/gated");
    assertEquals(Main.EXIT_DOWNLOAD, gated.code());
    assertTrue(lastLine(gated.err()).startsWith("glance: test-org/gated is a gated repository: accept its terms at "),
        gated.err());
    assertEquals(0, run(env("HF_TOKEN", "hf_ok"), "pull", "test-org/gated").code());

    Map<String, byte[]> llama = new LinkedHashMap<>(FakeHub.filesOf(AskCommandTest.FIXTURE));
    llama.put("config.json", "{\"model_type\": \"llama\", \"architectures\": [\"LlamaForCausalLM\"]}"
        .getBytes(StandardCharsets.UTF_8));
    hub.addRepo("test-org/llama", llama, Optional.empty());
    AskCommandTest.Run unsupported = run(env(), "pull", "test-org/llama");
    assertEquals(Main.EXIT_UNSUPPORTED, unsupported.code());
    assertTrue(lastLine(unsupported.err()).startsWith("glance: test-org/llama config.json: model_type 'llama'")
        && unsupported.err().contains("is not supported; Glance runs Glm4vForConditionalGeneration"),
        unsupported.err());

    AskCommandTest.Run offline = run(env("HF_HUB_OFFLINE", "1"), "ask", "--model", "test-org/other", "hi");
    assertEquals(Main.EXIT_DOWNLOAD, offline.code());
    assertTrue(offline.err().startsWith("glance: test-org/other is not in the cache"), offline.err());

    AskCommandTest.Run badId = run(env(), "pull", "not-a-repo");
    assertEquals(Main.EXIT_BAD_INPUT, badId.code());
    assertTrue(badId.err().contains("'not-a-repo' is not a Hugging Face repository id"), badId.err());

    AskCommandTest.Run twoRevs = run(env(), "pull", ID + "@v1", "--revision", "v2");
    assertEquals(Main.EXIT_BAD_INPUT, twoRevs.code());
    assertTrue(twoRevs.err().contains("two revisions given"), twoRevs.err());

    AskCommandTest.Run badEndpoint = run(env("HF_ENDPOINT", "hub.example"), "pull", ID);
    assertEquals(Main.EXIT_BAD_INPUT, badEndpoint.code());
    assertTrue(badEndpoint.err().startsWith("glance: hub endpoint (HF_ENDPOINT) must be an http(s) URL"),
        badEndpoint.err());
  }
}
