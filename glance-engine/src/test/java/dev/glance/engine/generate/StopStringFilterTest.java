package dev.glance.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StopStringFilterTest {

  @Test
  void stopStringSplitAcrossPiecesNeverLeaks() {
    StopStringFilter f = new StopStringFilter(List.of("</answer>"));
    assertEquals("Hello ", f.push("Hello <"));
    assertEquals("", f.push("/ans"));
    assertEquals("", f.push("wer> and more"));
    assertTrue(f.stopped());
    assertEquals(Optional.of("</answer>"), f.matched());
    assertEquals("", f.flush());
    assertThrows(IllegalStateException.class, () -> f.push("x"));
  }

  @Test
  void heldTextIsReleasedWhenItStopsLookingLikeAStop() {
    StopStringFilter f = new StopStringFilter(List.of("<stop>"));
    assertEquals("a ", f.push("a <st"));
    assertEquals("<sta", f.push("a"));
    assertEquals("", f.push("<"));
    assertEquals("<", f.flush());
    assertFalse(f.stopped());
  }

  @Test
  void flushReleasesAPartialStopAtTheEnd() {
    StopStringFilter f = new StopStringFilter(List.of("STOP"));
    assertEquals("x", f.push("xST"));
    assertEquals("ST", f.flush());
    assertFalse(f.stopped());
  }

  @Test
  void matchInsideOnePiece() {
    StopStringFilter f = new StopStringFilter(List.of("\n\n"));
    assertEquals("one", f.push("one\n\ntwo"));
    assertTrue(f.stopped());
  }

  @Test
  void earliestStopWins() {
    StopStringFilter f = new StopStringFilter(List.of("world", "lo w"));
    assertEquals("hel", f.push("hello world"));
    assertEquals(Optional.of("lo w"), f.matched());
  }

  @Test
  void overlappingSelfPrefix() {
    StopStringFilter f = new StopStringFilter(List.of("aab"));
    StringBuilder out = new StringBuilder();
    for (String piece : new String[] {"a", "a", "a", "b", "zzz"}) {
      if (f.stopped()) {
        break;
      }
      out.append(f.push(piece));
    }
    assertEquals("a", out.toString());
    assertTrue(f.stopped());
  }

  @Test
  void noStopsPassesThrough() {
    StopStringFilter f = new StopStringFilter(List.of());
    assertEquals("<|anything", f.push("<|anything"));
    assertEquals("", f.flush());
  }

  @Test
  void randomSplitsGiveTheSameTextAndNeverLeak() {
    List<String> stops = List.of("<|end|>", "END!", "ee");
    String[] texts = {
      "some text <|en then <|end|> trailing",
      "EN EN END END! more",
      "eEe e ee",
      "nothing to stop here <|en",
      "ended with a partial END",
    };
    Random r = new Random(1);
    for (String text : texts) {
      String expected = cutAtFirstStop(text, stops);
      for (int trial = 0; trial < 200; trial++) {
        StopStringFilter f = new StopStringFilter(stops);
        StringBuilder streamed = new StringBuilder();
        for (String piece : randomSplit(text, r)) {
          streamed.append(f.push(piece));
          // Every prefix streamed so far must be a prefix of the final text: nothing is ever
          // taken back, so nothing of a stop string was shown.
          assertTrue(expected.startsWith(streamed.toString()),
              "leaked '" + streamed + "' for '" + text + "'");
          if (f.stopped()) {
            break;
          }
        }
        streamed.append(f.flush());
        assertEquals(expected, streamed.toString(), text);
        assertEquals(!expected.equals(text), f.stopped());
      }
    }
  }

  static String cutAtFirstStop(String text, List<String> stops) {
    int cut = text.length();
    for (String s : stops) {
      int at = text.indexOf(s);
      if (at >= 0) {
        cut = Math.min(cut, at);
      }
    }
    return text.substring(0, cut);
  }

  static List<String> randomSplit(String text, Random r) {
    List<String> pieces = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      int len = Math.min(text.length() - i, r.nextInt(4)); // empty pieces included
      pieces.add(text.substring(i, i + len));
      i += len;
    }
    return pieces;
  }
}
