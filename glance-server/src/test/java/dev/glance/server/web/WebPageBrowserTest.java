package dev.glance.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.glance.server.Fixture;
import dev.glance.server.TestServer;
import dev.glance.server.TestState;
import dev.glance.server.security.AccessSettings;
import dev.glance.server.security.KeyLimits;
import dev.glance.server.usage.CostModel;
import java.util.Optional;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page in real headless Chromium (Debian's chromium and chromium-driver, which .ci/run
 * installs; this test fails, not skips, without them): upload a fixture PNG, ask, and see the
 * streamed answer and the token counts; open the usage dashboard and see the ledger charted; with
 * keys required, both pages work once the key is typed into their field.
 */
@Tag("browser")
class WebPageBrowserTest {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  static TestServer server;
  static WebDriver browser;
  static Path profile;

  @BeforeAll
  static void start() throws Exception {
    assertTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "the browser test needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver");
    // A priced server, so that the dashboard has costs to draw.
    server = TestServer.start(TestState.open("sqlite", AccessSettings.open(),
        new CostModel("USD", 1.2, 0, 0, new CostModel.Reference("ref", 2.5, 10)), java.time.Clock.systemUTC()));
    profile = Files.createTempDirectory("glance-chromium");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--user-data-dir=" + profile, "--window-size=1280,900");
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().build();
    browser = new ChromeDriver(service, options);
  }

  @AfterAll
  static void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (server != null) {
      server.close();
    }
    if (profile != null) {
      try (var files = Files.walk(profile)) {
        files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
  }

  static String text(String id) {
    return browser.findElement(By.id(id)).getDomProperty("textContent");
  }

  static void fill(String id, String value) {
    WebElement e = browser.findElement(By.id(id));
    e.clear();
    e.sendKeys(value);
  }

  @Test
  void uploadAskAndWatchTheAnswerStreamIn() throws Exception {
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
    browser.get(server.url("/"));
    wait.until(d -> text("model").startsWith(server.modelName()));
    browser.findElement(By.id("file")).sendKeys(Fixture.DIR.resolve("case0_0.png").toString());
    wait.until(d -> d.findElement(By.id("preview")).isDisplayed());
    wait.until(d -> text("image-info").contains("64×64"));
    fill("question", "What is in this picture?");
    fill("max-tokens", "12");
    fill("temperature", "0");
    browser.findElement(By.id("ask")).click();
    wait.until(d -> text("status").equals("done") || !d.findElement(By.id("error")).getDomProperty("hidden")
        .equals("true"));
    assertEquals("true", browser.findElement(By.id("error")).getDomProperty("hidden"), text("error"));
    var c0 = Fixture.caseNamed("case0");
    // case0's reference continuation, streamed piece by piece into the page.
    assertEquals(c0.path("greedy_text").asText(), text("answer"));
    assertEquals(c0.path("image_tokens").asText(), text("stat-image-tokens"));
    assertEquals(c0.path("seq_len").asText(), text("stat-prompt-tokens"));
    assertEquals("12", text("stat-completion-tokens"));
    assertEquals("length", text("stat-finish"));
    assertTrue(text("stat-ttft").matches("[0-9.]+ m?s"), text("stat-ttft"));
    assertTrue(text("stat-tps").matches("[0-9.]+"), text("stat-tps"));
    var timings = browser.findElements(By.cssSelector("#timings td"));
    assertEquals(6, timings.size());
    for (WebElement td : timings) {
      assertTrue(td.getDomProperty("textContent").matches("[0-9.]+ m?s"), td.getDomProperty("textContent"));
    }
    Path shot = Path.of("target", "web-page.png");
    Files.write(shot, ((ChromeDriver) browser).getScreenshotAs(OutputType.BYTES));
    // The page used the streaming API: the request log says so.
    assertTrue(server.lastLogFor("/v1/chat/completions", 1).path("stream").asBoolean());
  }

  @Test
  void errorsFromTheServerAreShown() {
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
    browser.get(server.url("/"));
    wait.until(d -> text("model").startsWith(server.modelName()));
    fill("question", "Hello?");
    fill("max-tokens", "0");
    browser.findElement(By.id("ask")).click();
    wait.until(d -> d.findElement(By.id("error")).isDisplayed());
    assertTrue(text("error").contains("max_tokens must be between 1 and"), text("error"));
    assertFalse(browser.findElement(By.id("ask")).getDomProperty("disabled").equals("true"));
  }

  @Test
  void theUsageDashboardChartsTheLedger() throws Exception {
    assertEquals(200, server.post("/infer", "{\"image\": \"" + Fixture.base64("case0_0.png")
        + "\", \"text\": \"What is in this picture?\", \"max_tokens\": 5}").status());
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
    browser.get(server.url("/usage"));
    wait.until(d -> text("sum-requests").matches("[1-9][0-9]*"));
    var total = server.get("/v1/usage?group_by=day").json().path("total");
    assertEquals(total.path("requests").asText(), text("sum-requests"));
    assertTrue(text("sum-cost").endsWith(" USD"), text("sum-cost"));
    assertTrue(text("sum-token-split").contains("image"), text("sum-token-split"));
    // Each chart drew something: bars of tokens and cost, the split, the latency points.
    assertFalse(browser.findElements(By.cssSelector("#chart-tokens rect")).isEmpty());
    assertFalse(browser.findElements(By.cssSelector("#chart-cost rect")).isEmpty());
    assertEquals(3, browser.findElements(By.cssSelector("#chart-split text")).size());
    assertFalse(browser.findElements(By.cssSelector("#chart-latency circle")).isEmpty());
    assertEquals(1, browser.findElements(By.cssSelector("#by-key tbody tr")).size());
    assertEquals("true", browser.findElement(By.id("error")).getDomProperty("hidden"), text("error"));
    Files.write(Path.of("target", "usage-page.png"), ((ChromeDriver) browser).getScreenshotAs(OutputType.BYTES));
  }

  @Test
  void withKeysOnThePagesSendTheKeyFromTheirField() throws Exception {
    AccessSettings keysRequired = AccessSettings.open().withRequireKeys(true);
    try (TestServer locked = TestServer.start(TestState.open("sqlite", keysRequired, CostModel.free(),
        java.time.Clock.systemUTC()))) {
      var ops = locked.state.keys.create("ops", KeyLimits.none(), Optional.empty());
      WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
      browser.get(locked.url("/usage"));
      wait.until(d -> d.findElement(By.id("error")).isDisplayed());
      assertTrue(text("error").contains("API key is required"), text("error"));
      browser.findElement(By.id("api-key")).sendKeys(ops.secret(), Keys.TAB);
      wait.until(d -> text("sum-requests").equals("0"));
      assertEquals("true", browser.findElement(By.id("error")).getDomProperty("hidden"), text("error"));
      // The ask page reads the same stored key.
      browser.get(locked.url("/"));
      wait.until(d -> text("model").startsWith(locked.modelName()));
      // Without it, the ask page says why it cannot work, until a key is typed in.
      ((JavascriptExecutor) browser).executeScript("localStorage.clear()");
      browser.get(locked.url("/"));
      wait.until(d -> text("model").startsWith("not allowed"));
      assertTrue(text("model").contains("API key is required"), text("model"));
      browser.findElement(By.id("api-key")).sendKeys(ops.secret(), Keys.TAB);
      wait.until(d -> text("model").startsWith(locked.modelName()));
    }
  }

  @Test
  void thePageLoadsNothingFromElsewhere() throws Exception {
    TestServer.Reply page = server.get("/");
    assertEquals(200, page.status());
    String csp = page.response().headers().firstValue("Content-Security-Policy").orElseThrow();
    assertTrue(csp.contains("default-src 'self'"), csp);
    for (String path : new String[] {"/", "/app.js", "/style.css", "/usage", "/usage.js", "/key.js"}) {
      String body = server.get(path).body();
      assertFalse(body.contains("http://") || body.contains("https://"), path + " refers to another site");
    }
  }
}
