/*
 * Stands in for: Elasticsearch's rest-root module (RestMainAction: GET / and
 * HEAD /, the "You Know, for Search" response).
 * Why: rest-root is only shipped inside the ES distribution, not on Maven
 * Central. Without it GET / answers 405, and the official @elastic/elasticsearch
 * client's info() (and its product check) fails.
 *
 * The body has the same fields as ES's main response, built from the running
 * server's own Build/IndexVersion, so version.number is the real version.
 * Registered by ParleyAnalysisPlugin (one module for all our REST/analysis parts).
 */
package org.parley.es.analysis;

import java.util.List;
import java.util.function.Supplier;
import org.elasticsearch.Build;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.ClusterName;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.IndexVersion;
import org.elasticsearch.node.Node;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;

public class RootHandler extends BaseRestHandler {
  private final Settings settings;
  private final Supplier<ClusterService> clusterService;

  RootHandler(Settings settings, Supplier<ClusterService> clusterService) {
    this.settings = settings;
    this.clusterService = clusterService;
  }

  @Override
  public String getName() {
    return "parley_main_action";
  }

  @Override
  public List<Route> routes() {
    return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/"));
  }

  @Override
  protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
    return channel -> {
      Build build = Build.current();
      ClusterService cs = clusterService.get();
      // Like ES: the cluster UUID from the current cluster state ("_na_" until one exists).
      String clusterUuid = cs == null ? "_na_" : cs.state().metadata().clusterUUID();
      XContentBuilder x = channel.newBuilder();
      x.startObject()
          .field("name", Node.NODE_NAME_SETTING.get(settings))
          .field("cluster_name", ClusterName.CLUSTER_NAME_SETTING.get(settings).value())
          .field("cluster_uuid", clusterUuid)
          .startObject("version")
          .field("number", build.qualifiedVersion())
          .field("build_flavor", build.flavor())
          .field("build_type", build.type().displayName())
          .field("build_hash", build.hash())
          .field("build_date", build.date())
          .field("build_snapshot", build.isSnapshot())
          .field("lucene_version", IndexVersion.current().luceneVersion().toString())
          .field("minimum_wire_compatibility_version", build.minWireCompatVersion())
          .field("minimum_index_compatibility_version", build.minIndexCompatVersion())
          .endObject()
          .field("tagline", "You Know, for Search")
          .endObject();
      channel.sendResponse(new RestResponse(RestStatus.OK, x));
    };
  }
}
