package dev.glance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** --device on ask and bench: parsing, and one clear line where CUDA cannot run. */
class DeviceFlagTest {
  static final Path FIXTURE = Path.of(System.getProperty("glance.fixtures", "../../shared/fixtures"))
      .resolve("glm4v-tiny-a").toAbsolutePath().normalize();

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  static void assertOneLine(Run r, int code, String mustContain) {
    assertEquals(code, r.code(), r.err());
    String err = r.err().strip();
    assertFalse(err.contains("\n") || err.contains("\tat ") || err.contains("Exception"), "one line: " + err);
    assertTrue(err.contains(mustContain), "stderr should mention '" + mustContain + "': " + err);
  }

  @Test
  void parsesDeviceNames() {
    assertEquals(new BackendChoice(false, 0), BackendChoice.parse("cpu"));
    assertEquals(new BackendChoice(true, 0), BackendChoice.parse("cuda"));
    assertEquals(new BackendChoice(true, 3), BackendChoice.parse("CUDA:3"));
    for (String bad : List.of("gpu", "cuda:", "cuda:-1", "cuda:x", "")) {
      assertOneLine(run("ask", "--model", FIXTURE.toString(), "--device", bad, "hi"), Main.EXIT_BAD_INPUT,
          "--device must be cpu, cuda or cuda:N");
    }
  }

  @Test
  void cpuIsTheDefaultAndCanBeNamed() {
    Run r = run("ask", "--model", FIXTURE.toString(), "--device", "cpu", "--max-tokens", "2", "--temperature", "0",
        "--ignore-eos", "--json", "hi");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("\"completion_tokens\":2"), r.out());
  }

  @Test
  void cudaWhereItCannotRunIsOneLineAndExitCodeFour() {
    Run r = run("ask", "--model", FIXTURE.toString(), "--device", "cuda:7", "--max-tokens", "2", "hi");
    // No machine this runs on has eight GPUs; without a driver the reason is the missing library.
    assertOneLine(r, Main.EXIT_UNSUPPORTED, "--device cuda:7: CUDA is not available: ");
  }

  @Test
  void benchChecksItsFlags() {
    assertOneLine(run("bench", "--device", "gpu"), Main.EXIT_BAD_INPUT, "--device must be cpu, cuda or cuda:N");
    Run r = run("bench", "--device", "cuda:7", "--shape", "huge");
    assertEquals(Main.EXIT_BAD_INPUT, r.code(), r.err());
    assertTrue(r.err().contains("--shape must be one of [tiny, mid, glm46v-flash]"), r.err());
    assertOneLine(run("bench", "--device", "cuda:7", "--shape", "tiny"), Main.EXIT_UNSUPPORTED, "CUDA is not available");
  }
}
