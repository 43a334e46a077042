/*
 * Stands in for: Elasticsearch's lib/tools/ansi-console (the jar that gives the
 * server a coloured console via jansi).
 * Why: it only ships in the ES distribution, not on Maven Central, yet the 8.x
 * server refuses to start if lib/tools/ansi-console holds no jar with this class
 * ("Failed to list jars in [.../lib/tools/ansi-console]", then
 * ClassNotFoundException: org.elasticsearch.io.ansi.AnsiConsoleLoader).
 *
 * The class name and package must stay exactly as in ES: the server loads it by
 * name. get() returns null = "no ANSI console", which is what the server does
 * anyway when it has no terminal (ours writes to a log file).
 */
package org.elasticsearch.io.ansi;

import java.util.function.Supplier;

public class AnsiConsoleLoader implements Supplier<Object> {
  public AnsiConsoleLoader() {}

  @Override
  public Object get() {
    return null;
  }
}
