/**
 * The Elasticsearch index of messages, version 1: settings, analyzers and
 * mappings. Writers and readers use the alias, never the versioned name, so
 * a reindex into `…-v2` is a background copy followed by one atomic alias
 * swap (docs/search.md).
 *
 * The analyzers are mirrored in TypeScript by search-text.ts (the embedded
 * mode's index and the query validation); change both together — the
 * contract tests run the same cases against both.
 */
export const INDEX_VERSION = 1;

export interface IndexNames {
  /** What everything reads and writes: `parley-messages`. */
  alias: string;
  /** The concrete index behind it: `parley-messages-v1`. */
  index: string;
}

/** @example indexNames('parley-messages') // {alias: 'parley-messages', index: 'parley-messages-v1'} */
export const indexNames = (alias: string): IndexNames => ({
  alias,
  index: `${alias}-v${INDEX_VERSION}`,
});

export interface IndexLayout {
  shards: number;
  replicas: number;
  /** How soon an indexed message becomes searchable. */
  refreshInterval: string;
}

export function indexBody(layout: IndexLayout) {
  return {
    settings: {
      number_of_shards: layout.shards,
      number_of_replicas: layout.replicas,
      refresh_interval: layout.refreshInterval,
      analysis: {
        char_filter: {
          // A space between Hangul and other letters or digits ("3시에" → "3 시에", "API키" → "API 키"):
          // the standard tokenizer keeps such mixes as one token, which the bigrams never see.
          parley_hangul_split: {
            type: 'pattern_replace',
            pattern:
              '(?<=\\p{IsHangul})(?=[\\p{L}\\p{N}&&[^\\p{IsHangul}]])|(?<=[\\p{L}\\p{N}&&[^\\p{IsHangul}]])(?=\\p{IsHangul})',
            replacement: ' ',
          },
        },
        filter: {
          // "Anna's" → "Anna" (ES's stemmer filter in its possessive_english form).
          parley_possessive: { type: 'stemmer', language: 'possessive_english' },
          // Every CJK character alone and with its neighbour: "회의는" → 회 회의 의 의는 는.
          parley_cjk_index: { type: 'cjk_bigram', output_unigrams: true },
          // Queries use the pairs only ("회의" → 회의); a lone character stays itself.
          parley_cjk_search: { type: 'cjk_bigram', output_unigrams: false },
        },
        analyzer: {
          parley_text: {
            type: 'custom',
            char_filter: ['parley_hangul_split'],
            tokenizer: 'standard',
            filter: ['parley_possessive', 'parley_cjk_index', 'lowercase', 'porter_stem'],
          },
          parley_text_search: {
            type: 'custom',
            char_filter: ['parley_hangul_split'],
            tokenizer: 'standard',
            filter: ['parley_possessive', 'parley_cjk_search', 'lowercase', 'porter_stem'],
          },
        },
      },
    },
    mappings: {
      dynamic: 'strict' as const,
      properties: {
        id: { type: 'keyword' as const },
        roomId: { type: 'keyword' as const },
        senderId: { type: 'keyword' as const },
        seq: { type: 'long' as const },
        ts: { type: 'date' as const, format: 'epoch_millis' },
        editedTs: { type: 'date' as const, format: 'epoch_millis' },
        deleted: { type: 'boolean' as const },
        clientMsgId: { type: 'keyword' as const, index: false, doc_values: false },
        body: {
          type: 'text' as const,
          analyzer: 'parley_text',
          search_analyzer: 'parley_text_search',
          // Offsets in the postings make the unified highlighter exact and fast.
          index_options: 'offsets' as const,
        },
      },
    },
  };
}
