package dev.glance.engine.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.lang.reflect.Method;
import jinjava.javax.el.CompositeELResolver;

/**
 * Builds a Jinjava engine that behaves like Hugging Face's chat-template environment
 * ({@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)} plus the globals
 * {@code raise_exception} and {@code strftime_now} and its own {@code tojson}), so templates written
 * for transformers render the same text here. Template text must go through {@link
 * JinjaSource#prepare} first.
 */
final class JinjaEnvironment {
  /**
   * Jinjava's opt-ins for Jinja2 behaviour. Without them Jinjava ignores <code>{{-</code> / <code>
   * -}}</code> whitespace control (real GLM templates write <code>{{- '/nothink' }}</code> and would
   * gain stray newlines), gives {@code not}/{@code in}/{@code if-else} non-Python precedence, treats {@code
   * {k: v}} keys as literals, iterates maps as entries and drops None items from loops. Not
   * enabled: WhitespaceRequiredWithinTokens, which rejects {@code {{x}}}.
   */
  private static final LegacyOverrides JINJA2_SEMANTICS =
      LegacyOverrides.newBuilder()
          .withUseTrimmingForNotesAndExpressions(true)
          .withParseWhitespaceControlStrictly(true)
          .withAllowAdjacentTextNodes(true)
          .withUseNaturalOperatorPrecedence(true)
          .withEvaluateMapKeys(true)
          .withIterateOverMapKeys(true)
          .withUsePyishObjectMapper(true)
          .withKeepNullableLoopValues(true)
          .build();

  private JinjaEnvironment() {}

  static Jinjava create() {
    // Python str methods first; everything they do not answer falls through to Jinjava's own
    // read-only chain (maps, lists, beans), as in HF's immutable sandbox.
    CompositeELResolver resolver = new CompositeELResolver();
    resolver.add(new PythonStringMethodResolver());
    resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);

    JinjavaConfig config =
        JinjavaConfig.newBuilder()
            // trim_blocks and lstrip_blocks are done by JinjaSource: Jinjava's differ from Jinja2's.
            .withTrimBlocks(false)
            .withLstripBlocks(false)
            .withLegacyOverrides(JINJA2_SEMANTICS)
            .withInterperterFactory(new PythonOutputInterpreter.Factory())
            .withElResolver(resolver)
            .build();
    Jinjava jinjava = new Jinjava(config);
    jinjava.registerFunction(function("raise_exception", "raiseException"));
    jinjava.registerFunction(function("strftime_now", "strftimeNow"));
    jinjava.registerFilter(new PythonToJsonFilter());
    return jinjava;
  }

  private static ELFunctionDefinition function(String name, String javaName) {
    try {
      Method m = TemplateFunctions.class.getDeclaredMethod(javaName, String.class);
      // TemplateFunctions is package-private; Jinjava calls it reflectively from its own package.
      m.setAccessible(true);
      return new ELFunctionDefinition("", name, m);
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(e);
    }
  }
}
