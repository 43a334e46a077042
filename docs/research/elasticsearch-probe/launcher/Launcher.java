import java.nio.file.*;
import java.util.Map;
import org.elasticsearch.bootstrap.ServerArgs;
import org.elasticsearch.common.io.stream.OutputStreamStreamOutput;
import org.elasticsearch.common.settings.KeyStoreWrapper;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;

/** Plays the part of ES's server-cli: serialises ServerArgs to stdout, then keeps the pipe open. */
public class Launcher {
  public static void main(String[] a) throws Exception {
    Path home = Paths.get(a[0]).toAbsolutePath();
    Path config = home.resolve("config");
    Environment env = InternalSettingsPreparer.prepareEnvironment(
        Settings.builder().put("path.home", home.toString()).build(), Map.of(), config, () -> "probe-1");
    KeyStoreWrapper ks = KeyStoreWrapper.create();
    ServerArgs args = new ServerArgs(false, false, null, ks, env.settings(), config, env.logsDir());
    var out = new OutputStreamStreamOutput(System.out);
    args.writeTo(out);
    out.flush();
    System.out.flush();
    // keep stdin of the server open; closing it tells the server to shut down
    Thread.sleep(Long.MAX_VALUE);
  }
}
