package dev.glance.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ThinkingSplitterTest {

  /** Pushes the pieces, then finishes; returns every classified piece in order. */
  private static List<Piece> run(ThinkingSplitter s, String... pieces) {
    List<Piece> out = new ArrayList<>();
    for (String p : pieces) {
      out.addAll(s.push(p));
    }
    out.addAll(s.finish());
    return out;
  }

  private static String joined(List<Piece> pieces, Class<? extends Piece> kind) {
    StringBuilder b = new StringBuilder();
    for (Piece p : pieces) {
      if (kind.isInstance(p)) {
        b.append(p.text());
      }
    }
    return b.toString();
  }

  @Test
  void splitsReasoningFromAnswer() {
    ThinkingSplitter s = new ThinkingSplitter();
    List<Piece> pieces = run(s, "<think>Let me see.</think>\nThe cat is black.");
    assertEquals(
        List.of(new Piece.Reasoning("Let me see."), new Piece.Answer("The cat is black.")),
        pieces);
    assertEquals("Let me see.", s.reasoning());
    assertEquals("The cat is black.", s.answer());
  }

  @Test
  void tagsSplitAcrossPieces() {
    ThinkingSplitter s = new ThinkingSplitter();
    assertEquals(List.of(), s.push("<th"));
    assertEquals(List.of(), s.push("ink"));
    assertEquals(List.of(new Piece.Reasoning("a")), s.push(">\na</"));
    assertEquals(List.of(), s.push("thi"));
    assertEquals(List.of(new Piece.Answer("b")), s.push("nk>\n\nb"));
    assertEquals(List.of(new Piece.Answer(" c")), s.push(" c"));
    assertEquals(List.of(), s.finish());
    assertEquals("a", s.reasoning());
    assertEquals("b c", s.answer());
  }

  @Test
  void everyPieceIsClassifiedAsItArrivesWhateverTheSplit() {
    String text = "<think>Count: 1 < 2 and </b> is not a tag.\n</think>\nAnswer: <b>2</b>";
    Random r = new Random(2);
    for (int trial = 0; trial < 300; trial++) {
      ThinkingSplitter s = new ThinkingSplitter();
      List<Piece> pieces = run(s, StopStringFilterTest.randomSplit(text, r).toArray(String[]::new));
      assertEquals("Count: 1 < 2 and </b> is not a tag.\n", joined(pieces, Piece.Reasoning.class));
      assertEquals("Answer: <b>2</b>", joined(pieces, Piece.Answer.class));
      // All reasoning comes before any answer, and no piece is empty or carries a tag.
      boolean answerSeen = false;
      for (Piece p : pieces) {
        assertFalse(p.text().isEmpty());
        assertFalse(p.text().contains("think>"), p.text());
        if (p instanceof Piece.Answer) {
          answerSeen = true;
        } else {
          assertFalse(answerSeen, "reasoning after answer");
        }
      }
      assertEquals(s.reasoning(), joined(pieces, Piece.Reasoning.class));
      assertEquals(s.answer(), joined(pieces, Piece.Answer.class));
    }
  }

  @Test
  void noThinkTagMeansEverythingIsAnswer() {
    // Thinking disabled: the template put <think></think> in the prompt.
    ThinkingSplitter s = new ThinkingSplitter();
    List<Piece> pieces = run(s, "The ", "answer</think> stays");
    assertEquals("", s.reasoning());
    assertEquals("The answer</think> stays", s.answer());
    assertTrue(pieces.stream().allMatch(p -> p instanceof Piece.Answer));
  }

  @Test
  void unclosedThinkIsAllReasoning() {
    ThinkingSplitter s = new ThinkingSplitter();
    List<Piece> pieces = run(s, "<think>still thinking", " when max_tokens hit </thi");
    assertEquals("still thinking when max_tokens hit </thi", s.reasoning());
    assertEquals("", s.answer());
    assertTrue(pieces.stream().allMatch(p -> p instanceof Piece.Reasoning));
  }

  @Test
  void somethingThatOnlyLooksLikeATagIsText() {
    ThinkingSplitter s = new ThinkingSplitter();
    run(s, "<thi", "s is fine");
    assertEquals("<this is fine", s.answer());

    ThinkingSplitter t = new ThinkingSplitter();
    run(t, "<think>a</thin", "g>b</think>c");
    assertEquals("a</thing>b", t.reasoning());
    assertEquals("c", t.answer());

    ThinkingSplitter u = new ThinkingSplitter();
    run(u, "<thi");
    assertEquals("<thi", u.answer());
  }

  @Test
  void leadingNewlinesAreSeparatorsNotContent() {
    ThinkingSplitter s = new ThinkingSplitter();
    run(s, "\n", "<think>", "\n", "Hmm.\n\nOk.", "</think>", "\n", "\n", "Yes\n\nreally");
    assertEquals("Hmm.\n\nOk.", s.reasoning());
    assertEquals("Yes\n\nreally", s.answer());
  }

  @Test
  void emptyThinkBlock() {
    ThinkingSplitter s = new ThinkingSplitter();
    List<Piece> pieces = run(s, "<think></think>", "\nHello");
    assertEquals(List.of(new Piece.Answer("Hello")), pieces);
    assertEquals("", s.reasoning());
  }
}
