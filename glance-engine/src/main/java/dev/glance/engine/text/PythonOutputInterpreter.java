package dev.glance.engine.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;

/**
 * A Jinjava interpreter that turns expression values into text with Python's {@code str()}
 * ({@link PythonStr}); Jinjava would print {@code true} and {@code [1, 'a', null]}. None still
 * prints as empty text: Jinjava cannot tell None from an undefined variable, and printing nothing
 * for undefined is what Jinja2 does.
 */
final class PythonOutputInterpreter extends JinjavaInterpreter {

  PythonOutputInterpreter(Jinjava application, Context context, JinjavaConfig config) {
    super(application, context, config);
  }

  PythonOutputInterpreter(JinjavaInterpreter orig) {
    super(orig);
  }

  @Override
  public String getAsString(Object object) {
    String s = PythonStr.str(object);
    return s != null ? s : super.getAsString(object);
  }

  /** Makes Jinjava create this interpreter for every render. */
  static final class Factory implements InterpreterFactory {
    @Override
    public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
      return new PythonOutputInterpreter(orig);
    }

    @Override
    public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig config) {
      return new PythonOutputInterpreter(application, context, config);
    }
  }
}
