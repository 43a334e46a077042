package probe;

import java.util.List;
import org.elasticsearch.Build;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.ClusterName;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.IndexVersion;
import org.elasticsearch.node.Node;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;

/** Stand-in for ES's rest-root module (GET / and HEAD /), which is not on Maven Central. */
public class RootHandler extends BaseRestHandler {
  private final Settings settings;
  RootHandler(Settings settings) { this.settings = settings; }
  @Override public String getName() { return "probe_main_action"; }
  @Override public List<Route> routes() {
    return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/"));
  }
  @Override protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
    return channel -> {
      Build b = Build.current();
      XContentBuilder x = channel.newBuilder();
      x.startObject()
        .field("name", Node.NODE_NAME_SETTING.get(settings))
        .field("cluster_name", ClusterName.CLUSTER_NAME_SETTING.get(settings).value())
        .field("cluster_uuid", "_na_")
        .startObject("version")
          .field("number", b.qualifiedVersion())
          .field("build_flavor", b.flavor())
          .field("build_type", b.type().displayName())
          .field("build_hash", b.hash())
          .field("build_date", b.date())
          .field("build_snapshot", b.isSnapshot())
          .field("lucene_version", IndexVersion.current().luceneVersion().toString())
          .field("minimum_wire_compatibility_version", b.minWireCompatVersion())
          .field("minimum_index_compatibility_version", b.minIndexCompatVersion())
        .endObject()
        .field("tagline", "You Know, for Search")
        .endObject();
      channel.sendResponse(new RestResponse(RestStatus.OK, x));
    };
  }
}
