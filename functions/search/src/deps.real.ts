/**
 * The real adapters of search, built from the environment: Elasticsearch
 * (the index message-index writes), the room service for the caller's rooms,
 * and the token key.
 */

import { createTokenService, type Logger, loadConfig, serviceClient } from '@parley/runtime';
import { esOptions, SearchIndexConfigSchema } from '@parley/search-index/config';
import { EsSearchIndex } from '@parley/search-index/es';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { SearchDeps } from './app';
import { roomIdsFromRoomService } from './room-ids';

export const SearchConfigSchema = SearchIndexConfigSchema.extend({
  /** The rooms function: whose rooms a caller may search. */
  ROOMS_URL: z.string().url(),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters'),
});

export interface RealSearch {
  deps: SearchDeps;
  close: () => Promise<void>;
}

/** @example const { deps } = realSearchDeps(log, registry); registerFunction('search', createSearchApp(deps)); */
export function realSearchDeps(
  log: Logger,
  registry: Registry,
  env: Record<string, string | undefined> = process.env,
): RealSearch {
  const cfg = loadConfig(SearchConfigSchema, env);
  const index = new EsSearchIndex(esOptions(cfg));
  return {
    deps: {
      index,
      roomIdsOf: roomIdsFromRoomService(serviceClient(cfg.ROOMS_URL)),
      tokens: createTokenService(cfg.JWT_SECRET),
      log,
      registry,
      ready: () => index.ping(),
    },
    close: () => index.close(),
  };
}
