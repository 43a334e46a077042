/*
 * Stands in for: Elasticsearch's server-cli (bin/elasticsearch and the
 * org.elasticsearch.server.cli launcher in the distribution's lib/tools/).
 * Why: the launcher is only shipped inside the ES tarball/Docker image, it is
 * not published on Maven Central, and we have neither here.
 *
 * ES 8's server (org.elasticsearch.bootstrap.Elasticsearch) reads no flags and
 * no elasticsearch.yml itself: it reads a binary ServerArgs (settings, keystore,
 * config and logs dirs) from its stdin, and it shuts down when that stdin is
 * closed. The real server-cli builds the ServerArgs from config/ and keeps the
 * pipe open while the server runs. This class does the first part: it writes
 * the ServerArgs to stdout and exits. tests/infra/up runs
 *   server-jvm < <(java ... Launcher <es-home>; exec tail -f /dev/null --pid=<server>)
 * so the pipe stays open (held by tail, ~1 MB instead of a second JVM) until
 * the server exits.
 *
 * Usage: Launcher <es-home>   (reads <es-home>/config/elasticsearch.yml)
 */
package org.parley.es.launcher;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import org.elasticsearch.bootstrap.ServerArgs;
import org.elasticsearch.common.io.stream.OutputStreamStreamOutput;
import org.elasticsearch.common.settings.KeyStoreWrapper;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;

public final class Launcher {
  private Launcher() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: Launcher <es-home>");
      System.exit(2);
    }
    Path home = Paths.get(args[0]).toAbsolutePath();
    Path config = home.resolve("config");
    // Same call the real server-cli makes: elasticsearch.yml + path.home ->
    // final node settings (path.data/path.logs resolved, defaults applied).
    Environment env = InternalSettingsPreparer.prepareEnvironment(
        Settings.builder().put("path.home", home.toString()).build(), Map.of(), config, () -> "parley-es");
    // An empty keystore: no secure settings are used (no x-pack security).
    KeyStoreWrapper keystore = KeyStoreWrapper.create();
    ServerArgs serverArgs = new ServerArgs(
        false,                // daemonize
        false,                // quiet
        null,                 // pidfile: tests/infra/up keeps its own
        keystore, env.settings(), config, env.logsDir());
    OutputStreamStreamOutput out = new OutputStreamStreamOutput(System.out);
    serverArgs.writeTo(out);
    out.flush();
    System.out.flush();
    // Done: the caller keeps the server's stdin open (see above). Exit even if
    // some ES class left a non-daemon thread behind.
    System.exit(0);
  }
}
