package dev.glance.server.log;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RepetitionCheckTest {
  static int[] repeat(int[] head, int[] pattern, int times) {
    return IntStream.concat(IntStream.of(head),
        IntStream.range(0, times).flatMap(i -> IntStream.of(pattern))).toArray();
  }

  @Test
  void loopsAreFound() {
    assertTrue(RepetitionCheck.endsInLoop(repeat(new int[] {1, 2, 3}, new int[] {7}, 20)));
    assertTrue(RepetitionCheck.endsInLoop(repeat(new int[] {9}, new int[] {4, 5, 6, 7, 8}, 4)));
    assertTrue(RepetitionCheck.endsInLoop(repeat(new int[] {}, IntStream.range(100, 140).toArray(), 3)));
  }

  @Test
  void ordinaryTextIsNot() {
    assertFalse(RepetitionCheck.endsInLoop(IntStream.range(0, 200).toArray()));
    assertFalse(RepetitionCheck.endsInLoop(repeat(new int[] {1, 2}, new int[] {7}, 10)), "10 tokens is short");
    assertFalse(RepetitionCheck.endsInLoop(repeat(IntStream.range(0, 50).toArray(), new int[] {4, 5, 6, 7, 8}, 2)));
    assertFalse(RepetitionCheck.endsInLoop(new int[] {}));
    int[] loopThenMore = IntStream.concat(IntStream.of(repeat(new int[] {}, new int[] {3}, 30)),
        IntStream.range(10, 30)).toArray();
    assertFalse(RepetitionCheck.endsInLoop(loopThenMore), "a loop that ended is not at the end");
  }
}
