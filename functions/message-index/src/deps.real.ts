/** The real adapters of message-index, built from its config: Elasticsearch. */
import type { Adapters, FunctionContext } from '@parley/runtime/function-host';
import { esOptions, SearchIndexConnectionSchema } from '@parley/search-index/config';
import { EsSearchIndex } from '@parley/search-index/es';
import type { z } from 'zod';
import type { MessageIndexDeps } from './handler';
import { messageIndexMetrics } from './metrics';

/** ES and the alias; the index itself is created by the migration step (migrate.ts). */
export const MessageIndexConfigSchema = SearchIndexConnectionSchema;
export type MessageIndexConfig = z.infer<typeof MessageIndexConfigSchema>;

/** @example const { deps, ready } = realMessageIndex(cfg, ctx); */
export function realMessageIndex(
  cfg: MessageIndexConfig,
  ctx: FunctionContext,
): Adapters<Omit<MessageIndexDeps, 'log'>> {
  const index = new EsSearchIndex({ ...esOptions(cfg), registry: ctx.registry });
  return {
    deps: { index, metrics: messageIndexMetrics(ctx.registry) },
    ready: () => index.ping(),
    close: () => index.close(),
  };
}
