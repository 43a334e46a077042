/*
 * Stands in for: the parts of Elasticsearch's analysis-common module that
 * Parley's search uses (char filter pattern_replace; tokenizers ngram, edge_ngram, whitespace, keyword;
 * token filters lowercase, asciifolding, porter_stem, stemmer, cjk_bigram,
 * cjk_width, edge_ngram, ngram), and, via RootHandler, the rest-root module.
 * Why: neither module is published on Maven Central (only the server jar and
 * transport-netty4 are), and the stock server registers none of these names
 * (it only has the standard tokenizer and the stop/shingle/hunspell filters,
 * plus a pre-configured "lowercase"). Registering a name the server already
 * registers would fail at startup, so stop/standard/shingle/hunspell are left
 * out; "lowercase" here is the configurable filter (with "language"), which
 * lives in a separate registry from the server's pre-configured one, exactly
 * as in analysis-common.
 *
 * Every component wraps Lucene's own class from lucene-analysis-common (a
 * dependency of the server), with ES's type names, option names and defaults,
 * and ES's validation where it matters (index.max_ngram_diff). It is project
 * code, not Elastic's: options not listed below are not implemented and are
 * ignored; unsupported values throw.
 *
 *   ngram / edge_ngram tokenizer: min_gram (1), max_gram (2), token_chars
 *       (letter, digit, whitespace, punctuation, symbol, custom +
 *       custom_token_chars); ngram checks index.max_ngram_diff like ES.
 *   whitespace tokenizer: max_token_length (255). keyword tokenizer: buffer_size (256).
 *   lowercase: language (greek, irish, turkish). asciifolding: preserve_original (false).
 *   porter_stem. stemmer: language/name = english, porter, light_english,
 *       minimal_english, possessive_english (ES's "english possessive" filter).
 *   cjk_bigram: output_unigrams (false), ignored_scripts (han, hiragana, katakana, hangul).
 *   cjk_width. edge_ngram / ngram filter: min_gram (1), max_gram (2), preserve_original (false).
 *   char filter pattern_replace: pattern, replacement (""), flags (Java Pattern flag names, | separated).
 */
package org.parley.es.analysis;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.apache.lucene.analysis.cjk.CJKWidthFilter;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.el.GreekLowerCaseFilter;
import org.apache.lucene.analysis.en.EnglishMinimalStemFilter;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.ga.IrishLowerCaseFilter;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenizer;
import org.apache.lucene.analysis.ngram.NGramTokenFilter;
import org.apache.lucene.analysis.ngram.NGramTokenizer;
import org.apache.lucene.analysis.pattern.PatternReplaceCharFilter;
import org.apache.lucene.analysis.tr.TurkishLowerCaseFilter;
import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;

public class ParleyAnalysisPlugin extends Plugin implements AnalysisPlugin, ActionPlugin {
  private volatile ClusterService clusterService;

  @Override
  public Collection<?> createComponents(PluginServices services) {
    clusterService = services.clusterService();   // for the cluster_uuid in GET /
    return List.of();
  }

  @Override
  public Collection<RestHandler> getRestHandlers(Settings settings, NamedWriteableRegistry namedWriteableRegistry,
      RestController restController, ClusterSettings clusterSettings, IndexScopedSettings indexScopedSettings,
      SettingsFilter settingsFilter, IndexNameExpressionResolver indexNameExpressionResolver,
      Supplier<DiscoveryNodes> nodesInCluster, Predicate<NodeFeature> clusterSupportsFeature) {
    return List.of(new RootHandler(settings, () -> clusterService));
  }

  // --- tokenizers -------------------------------------------------------------

  @Override
  public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
    Map<String, AnalysisProvider<TokenizerFactory>> m = new HashMap<>();
    m.put("ngram", (indexSettings, env, name, s) -> {
      int min = s.getAsInt("min_gram", NGramTokenizer.DEFAULT_MIN_NGRAM_SIZE);
      int max = s.getAsInt("max_gram", NGramTokenizer.DEFAULT_MAX_NGRAM_SIZE);
      checkNgramDiff(indexSettings, "NGram Tokenizer", min, max);
      IntPredicate chars = tokenChars(s);
      return TokenizerFactory.newFactory(name, () -> chars == null ? new NGramTokenizer(min, max)
          : new NGramTokenizer(min, max) {
              @Override protected boolean isTokenChar(int c) { return chars.test(c); }
            });
    });
    // ES's edge_ngram defaults are 1/2 (Lucene's own EdgeNGramTokenizer defaults are 1/1);
    // like ES, edge_ngram does not check index.max_ngram_diff.
    m.put("edge_ngram", (indexSettings, env, name, s) -> {
      int min = s.getAsInt("min_gram", NGramTokenizer.DEFAULT_MIN_NGRAM_SIZE);
      int max = s.getAsInt("max_gram", NGramTokenizer.DEFAULT_MAX_NGRAM_SIZE);
      IntPredicate chars = tokenChars(s);
      return TokenizerFactory.newFactory(name, () -> chars == null ? new EdgeNGramTokenizer(min, max)
          : new EdgeNGramTokenizer(min, max) {
              @Override protected boolean isTokenChar(int c) { return chars.test(c); }
            });
    });
    m.put("whitespace", (indexSettings, env, name, s) -> {
      int maxTokenLength = s.getAsInt("max_token_length", 255);
      return TokenizerFactory.newFactory(name,
          () -> new WhitespaceTokenizer(TokenStream.DEFAULT_TOKEN_ATTRIBUTE_FACTORY, maxTokenLength));
    });
    m.put("keyword", (indexSettings, env, name, s) -> {
      int bufferSize = s.getAsInt("buffer_size", 256);
      return TokenizerFactory.newFactory(name, () -> new KeywordTokenizer(bufferSize));
    });
    return m;
  }

  /** ES refuses max_gram - min_gram above index.max_ngram_diff (default 1) for ngram; so do we. */
  private static void checkNgramDiff(IndexSettings indexSettings, String what, int min, int max) {
    int allowed = indexSettings == null ? IndexSettings.MAX_NGRAM_DIFF_SETTING.get(Settings.EMPTY)
        : indexSettings.getMaxNgramDiff();
    if (max - min > allowed) {
      throw new IllegalArgumentException("The difference between max_gram and min_gram in " + what
          + " must be less than or equal to: [" + allowed + "] but was [" + (max - min)
          + "]. This limit can be set by changing the [" + IndexSettings.MAX_NGRAM_DIFF_SETTING.getKey()
          + "] index level setting.");
    }
  }

  /** ES's token_chars (CharMatcher.Basic): null = every character is a token character. */
  private static IntPredicate tokenChars(Settings s) {
    List<String> classes = s.getAsList("token_chars");
    if (classes == null || classes.isEmpty()) {
      return null;
    }
    List<IntPredicate> matchers = new ArrayList<>();
    for (String raw : classes) {
      String cls = raw.toLowerCase(Locale.ROOT).trim();
      switch (cls) {
        case "letter" -> matchers.add(c -> switch (Character.getType(c)) {
          case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
              Character.MODIFIER_LETTER, Character.OTHER_LETTER -> true;
          default -> false;
        });
        case "digit" -> matchers.add(Character::isDigit);
        case "whitespace" -> matchers.add(Character::isWhitespace);
        case "punctuation" -> matchers.add(c -> switch (Character.getType(c)) {
          case Character.START_PUNCTUATION, Character.END_PUNCTUATION, Character.OTHER_PUNCTUATION,
              Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION,
              Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION -> true;
          default -> false;
        });
        case "symbol" -> matchers.add(c -> switch (Character.getType(c)) {
          case Character.CURRENCY_SYMBOL, Character.MATH_SYMBOL, Character.OTHER_SYMBOL,
              Character.MODIFIER_SYMBOL -> true;
          default -> false;
        });
        case "custom" -> {
          String custom = s.get("custom_token_chars");
          if (custom == null) {
            throw new IllegalArgumentException("Token type: 'custom' requires setting `custom_token_chars`");
          }
          Set<Integer> set = custom.codePoints().boxed().collect(Collectors.toSet());
          matchers.add(set::contains);
        }
        default -> throw new IllegalArgumentException("Unknown token type: '" + cls
            + "', must be one of [letter, digit, whitespace, punctuation, symbol, custom]");
      }
    }
    return c -> {
      for (IntPredicate m : matchers) {
        if (m.test(c)) {
          return true;
        }
      }
      return false;
    };
  }

  // --- char filters -------------------------------------------------------------

  @Override
  public Map<String, AnalysisProvider<CharFilterFactory>> getCharFilters() {
    // requiresAnalysisSettings: ES builds every provider without settings for each index unless it
    // says it needs them (as analysis-common's pattern_replace does); without a pattern it can't be built.
    return Map.of("pattern_replace", new AnalysisProvider<CharFilterFactory>() {
      @Override public boolean requiresAnalysisSettings() { return true; }
      @Override public CharFilterFactory get(IndexSettings indexSettings, org.elasticsearch.env.Environment env,
          String name, Settings s) {
        return patternReplace(name, s);
      }
    });
  }

  private static CharFilterFactory patternReplace(String name, Settings s) {
    String pattern = s.get("pattern");
    if (pattern == null) {
      throw new IllegalArgumentException("pattern is missing for [" + name + "] char filter of type 'pattern_replace'");
    }
    int flags = 0;
    for (String f : s.get("flags", "").split("\\|")) {
      if (f.isBlank()) continue;
      try {
        flags |= java.util.regex.Pattern.class.getField(f.trim().toUpperCase(Locale.ROOT)).getInt(null);
      } catch (ReflectiveOperationException e) {
        throw new IllegalArgumentException("unknown regex flag [" + f + "]", e);
      }
    }
    java.util.regex.Pattern compiled = java.util.regex.Pattern.compile(pattern, flags);
    String replacement = s.get("replacement", "");
    return new CharFilterFactory() {
      @Override public String name() { return name; }
      @Override public java.io.Reader create(java.io.Reader reader) {
        return new PatternReplaceCharFilter(compiled, replacement, reader);
      }
    };
  }

  // --- token filters ------------------------------------------------------------

  @Override
  public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
    Map<String, AnalysisProvider<TokenFilterFactory>> m = new HashMap<>();
    m.put("lowercase", (indexSettings, env, name, s) -> {
      String language = s.get("language");
      if (language == null) {
        return normalizing(name, LowerCaseFilter::new);
      }
      return switch (language.toLowerCase(Locale.ROOT)) {
        case "greek" -> normalizing(name, GreekLowerCaseFilter::new);
        case "irish" -> normalizing(name, IrishLowerCaseFilter::new);
        case "turkish" -> normalizing(name, TurkishLowerCaseFilter::new);
        default -> throw new IllegalArgumentException("language [" + language + "] not support for lower case");
      };
    });
    m.put("asciifolding", (indexSettings, env, name, s) -> {
      boolean preserveOriginal = s.getAsBoolean("preserve_original", false);
      return new NormalizingTokenFilterFactory() {
        @Override public String name() { return name; }
        @Override public TokenStream create(TokenStream ts) { return new ASCIIFoldingFilter(ts, preserveOriginal); }
        // As in ES: normalizers (keyword fields, multi-term queries) fold without keeping the original.
        @Override public TokenStream normalize(TokenStream ts) { return new ASCIIFoldingFilter(ts, false); }
      };
    });
    m.put("porter_stem", (indexSettings, env, name, s) -> simple(name, PorterStemFilter::new));
    m.put("stemmer", (indexSettings, env, name, s) -> {
      String language = s.get("language", s.get("name", "porter"));
      return switch (language.toLowerCase(Locale.ROOT)) {
        case "english", "porter" -> simple(name, PorterStemFilter::new);
        case "light_english", "lightenglish", "kstem" -> simple(name, KStemFilter::new);
        case "minimal_english", "minimalenglish" -> simple(name, EnglishMinimalStemFilter::new);
        case "possessive_english", "possessiveenglish" -> simple(name, EnglishPossessiveFilter::new);
        default -> throw new IllegalArgumentException("stemmer language [" + language
            + "] is not implemented by Parley's parley-analysis stand-in (english, porter, light_english,"
            + " minimal_english, possessive_english)");
      };
    });
    m.put("cjk_bigram", (indexSettings, env, name, s) -> {
      boolean outputUnigrams = s.getAsBoolean("output_unigrams", false);
      List<String> ignored = s.getAsList("ignored_scripts");
      int flags = 0;
      if (!ignored.contains("han")) flags |= CJKBigramFilter.HAN;
      if (!ignored.contains("hiragana")) flags |= CJKBigramFilter.HIRAGANA;
      if (!ignored.contains("katakana")) flags |= CJKBigramFilter.KATAKANA;
      if (!ignored.contains("hangul")) flags |= CJKBigramFilter.HANGUL;
      final int scripts = flags;
      return new TokenFilterFactory() {
        @Override public String name() { return name; }
        @Override public TokenStream create(TokenStream ts) { return new CJKBigramFilter(ts, scripts, outputUnigrams); }
        @Override public TokenFilterFactory getSynonymFilter() {
          if (outputUnigrams) {
            throw new IllegalArgumentException("Token filter [" + name + "] cannot be used to parse synonyms");
          }
          return this;
        }
      };
    });
    m.put("cjk_width", (indexSettings, env, name, s) -> normalizing(name, CJKWidthFilter::new));
    m.put("edge_ngram", (indexSettings, env, name, s) -> {
      int min = s.getAsInt("min_gram", 1);
      int max = s.getAsInt("max_gram", 2);
      boolean preserveOriginal = s.getAsBoolean("preserve_original", false);
      String side = s.get("side", "front");
      if (!"front".equals(side)) {
        throw new IllegalArgumentException("edge_ngram side [" + side + "] is not implemented by Parley's"
            + " parley-analysis stand-in (only front)");
      }
      return simple(name, ts -> new EdgeNGramTokenFilter(ts, min, max, preserveOriginal));
    });
    m.put("ngram", (indexSettings, env, name, s) -> {
      int min = s.getAsInt("min_gram", 1);
      int max = s.getAsInt("max_gram", 2);
      boolean preserveOriginal = s.getAsBoolean("preserve_original", false);
      checkNgramDiff(indexSettings, "NGram Token Filter", min, max);
      return simple(name, ts -> new NGramTokenFilter(ts, min, max, preserveOriginal));
    });
    return m;
  }

  private static TokenFilterFactory simple(String name, UnaryOperator<TokenStream> filter) {
    return new TokenFilterFactory() {
      @Override public String name() { return name; }
      @Override public TokenStream create(TokenStream ts) { return filter.apply(ts); }
    };
  }

  /** A filter that may also be used in custom normalizers (keyword fields), like ES's lowercase/asciifolding. */
  private static TokenFilterFactory normalizing(String name, UnaryOperator<TokenStream> filter) {
    return new NormalizingTokenFilterFactory() {
      @Override public String name() { return name; }
      @Override public TokenStream create(TokenStream ts) { return filter.apply(ts); }
    };
  }
}
