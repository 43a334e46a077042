package probe;

import java.util.Map;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenizer;
import org.apache.lucene.analysis.ngram.NGramTokenizer;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/** Stand-in for the parts of ES's analysis-common module (not on Maven Central) that a chat search needs. */
public class ProbeAnalysisPlugin extends Plugin implements AnalysisPlugin, org.elasticsearch.plugins.ActionPlugin {
  @Override
  public java.util.Collection<org.elasticsearch.rest.RestHandler> getRestHandlers(org.elasticsearch.common.settings.Settings settings,
      org.elasticsearch.common.io.stream.NamedWriteableRegistry r, org.elasticsearch.rest.RestController rc,
      org.elasticsearch.common.settings.ClusterSettings cs, org.elasticsearch.common.settings.IndexScopedSettings iss,
      org.elasticsearch.common.settings.SettingsFilter sf, org.elasticsearch.cluster.metadata.IndexNameExpressionResolver ier,
      java.util.function.Supplier<org.elasticsearch.cluster.node.DiscoveryNodes> nodes,
      java.util.function.Predicate<org.elasticsearch.features.NodeFeature> feat) {
    return java.util.List.of(new RootHandler(settings));
  }

  @Override
  public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
    return Map.of(
      "ngram", (is, env, name, s) -> TokenizerFactory.newFactory(name,
          () -> new NGramTokenizer(s.getAsInt("min_gram", 1), s.getAsInt("max_gram", 2))),
      "edge_ngram", (is, env, name, s) -> TokenizerFactory.newFactory(name,
          () -> new EdgeNGramTokenizer(s.getAsInt("min_gram", 1), s.getAsInt("max_gram", 2))),
      "whitespace", (is, env, name, s) -> TokenizerFactory.newFactory(name, WhitespaceTokenizer::new),
      "keyword", (is, env, name, s) -> TokenizerFactory.newFactory(name, KeywordTokenizer::new));
  }

  @Override
  public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
    return Map.of(
      "cjk_bigram", (is, env, name, s) -> simple(name, ts -> new CJKBigramFilter(ts)),
      "lowercase", (is, env, name, s) -> simple(name, LowerCaseFilter::new),
      "asciifolding", (is, env, name, s) -> simple(name, ASCIIFoldingFilter::new));
  }

  private static TokenFilterFactory simple(String name, java.util.function.UnaryOperator<org.apache.lucene.analysis.TokenStream> f) {
    return new TokenFilterFactory() {
      public String name() { return name; }
      public org.apache.lucene.analysis.TokenStream create(org.apache.lucene.analysis.TokenStream ts) { return f.apply(ts); }
    };
  }
}
