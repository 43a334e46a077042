package org.elasticsearch.io.ansi;
/** Stand-in for ES's lib/tools/ansi-console: no ANSI console. */
public class AnsiConsoleLoader implements java.util.function.Supplier<Object> {
  public AnsiConsoleLoader() {}
  public Object get() { return null; }
}
