/**
 * The real adapters of search, built from its config: Elasticsearch (the
 * index message-index writes, through @parley/search-index), the room
 * service for the caller's rooms, and the token key.
 */
import { createTokenService, JwtSecretSchema, serviceClient, UrlSchema } from '@parley/runtime';
import type { Adapters, FunctionContext } from '@parley/runtime/function-host';
import { esOptions, SearchIndexConnectionSchema } from '@parley/search-index/config';
import { EsSearchIndex } from '@parley/search-index/es';
import type { z } from 'zod';
import type { SearchDeps } from './app';
import { roomIdsFromRoomService } from './room-ids';

export const SearchConfigSchema = SearchIndexConnectionSchema.extend({
  /** The rooms function: whose rooms a caller may search. */
  ROOMS_URL: UrlSchema,
  JWT_SECRET: JwtSecretSchema,
});
export type SearchConfig = z.infer<typeof SearchConfigSchema>;

/** @example const { deps, ready, close } = realSearch(cfg, ctx); */
export function realSearch(
  cfg: SearchConfig,
  ctx: FunctionContext,
): Adapters<Pick<SearchDeps, 'index' | 'roomIdsOf' | 'tokens'>> {
  const index = new EsSearchIndex({ ...esOptions(cfg), registry: ctx.registry });
  return {
    deps: {
      index,
      roomIdsOf: roomIdsFromRoomService(serviceClient(cfg.ROOMS_URL)),
      tokens: createTokenService(cfg.JWT_SECRET),
    },
    ready: () => index.ping(),
    close: () => index.close(),
  };
}
