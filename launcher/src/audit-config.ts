/**
 * The audit command's input: its arguments and its environment, validated
 * with zod into `AuditOptions`. Anything wrong is a UsageError (exit code 2)
 * with a message naming the argument or variable.
 *
 * Connections come from the variables the functions read (MESSAGE_DB_SHARDS,
 * REDIS_URL, ES_URL, SEARCH_INDEX_ALIAS, KAFKA_BROKERS). Without
 * MESSAGE_DB_SHARDS the audit targets the local real stack instead
 * (`npm run start:real`: .parley/infra.env, databases `<prefix>_messages_N`,
 * alias `<prefix>-messages`), and takes none of the others from the
 * environment — so a half-set production environment never mixes with it.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ClientMsgIdSchema, IdSchema } from '@parley/protocol';
import { ShardSpecSchema, UrlSchema } from '@parley/runtime';
import { SearchIndexConnectionSchema } from '@parley/search-index/config';
import { z } from 'zod';
import type { AuditConnections, AuditOptions, AuditScope } from './audit';
import { SKIPPABLE, type SkippableCheck } from './audit-findings';
import { type InfraEnv, infraEnv, twoShardSpec } from './infra';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: npm run audit -- (--rooms <id,id> | --since <iso time | duration> | --all) [options]

Checks, for each room: every message stored exactly once, seqs 1..N without holes,
each sender's order, the Redis recent cache and the Elasticsearch index against MySQL;
then lists the dead-letter topics and each consumer group's lag.

Scope (one of them; --expect alone audits the rooms it names):
  --rooms <id,id>          these rooms
  --since <time>           rooms with a message stored since then: 10m, 2h, 1d, 500ms,
                           or an ISO time (2026-01-31T12:00:00Z)
  --all                    every room
Options:
  --expect <file.json>     {roomId: {senderId: [clientMsgId, …]}}: the acknowledged sends in
                           send order; each must be stored once, in that order
  --expect-dead <id,id>    CloudEvent ids that should be dead-lettered (a poison event):
                           required in a .dlq topic, not counted as failures
  --strict-cache           a hole in the recent cache fails (default: a warning)
  --settle <duration>      first wait up to this long for every consumer lag to reach 0
  --skip <check,check>     skip ${SKIPPABLE.join(', ')}
  --dlq-limit <n>          newest dead letters read per partition (default 1000)
  --no-refresh             do not refresh the search index before reading it
  --db-prefix <prefix>     the local real stack's prefix (default parley; only without
                           MESSAGE_DB_SHARDS)
  --json                   the report as JSON on stdout
  --help
Environment: MESSAGE_DB_SHARDS, REDIS_URL, ES_URL, SEARCH_INDEX_ALIAS, KAFKA_BROKERS
(without MESSAGE_DB_SHARDS: the local real stack of tests/infra/up).
Exit codes: 0 every check passed, 1 a check failed, 2 usage or configuration error.`;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `10m` → 600000; undefined if it is not a duration. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s.trim());
  return m ? Number(m[1]) * (UNITS[m[2] as string] as number) : undefined;
}

const DurationSchema = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration (e.g. 30s, 10m, 2h, 1d)` });
    return z.NEVER;
  }
  return ms;
});

const sinceSchema = (now: number) =>
  z.string().transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms !== undefined) return now - ms;
    const t = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : Number.NaN;
    if (Number.isNaN(t)) {
      ctx.addIssue({
        code: 'custom',
        message: `"${s}" is neither a duration (10m, 2h) nor an ISO time (2026-01-31T12:00:00Z)`,
      });
      return z.NEVER;
    }
    return t;
  });

const list = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).min(1, 'needs at least one value'));

const argsSchema = (now: number) =>
  z
    .object({
      rooms: list(IdSchema).optional(),
      since: sinceSchema(now).optional(),
      all: z.boolean().optional(),
      expect: z.string().min(1).optional(),
      'expect-dead': list(z.string().min(1)).optional(),
      'strict-cache': z.boolean().optional(),
      settle: DurationSchema.optional(),
      skip: list(z.enum(SKIPPABLE)).optional(),
      'dlq-limit': z.coerce.number().int().min(1).max(1_000_000).optional(),
      'no-refresh': z.boolean().optional(),
      'db-prefix': z
        .string()
        .regex(/^[a-z0-9_]+$/, 'lowercase letters, digits and _')
        .optional(),
      json: z.boolean().optional(),
      help: z.boolean().optional(),
    })
    .superRefine((a, ctx) => {
      const scopes = [a.rooms && '--rooms', a.since !== undefined && '--since', a.all && '--all'];
      const given = scopes.filter(Boolean);
      if (given.length > 1) {
        ctx.addIssue({ code: 'custom', message: `give one of ${given.join(', ')}, not several` });
      } else if (given.length === 0 && !a.expect && !a.help) {
        ctx.addIssue({
          code: 'custom',
          message: 'say which rooms: --rooms, --since, --all (or --expect)',
        });
      }
    });

/** The expectation file: unique clientMsgIds per sender, in send order. */
export const ExpectSchema = z.record(
  IdSchema,
  z.record(
    IdSchema,
    z.array(ClientMsgIdSchema).refine((ids) => new Set(ids).size === ids.length, {
      message: 'a clientMsgId is listed twice',
    }),
  ),
);

const required = (what: string) =>
  z.string({ error: `required: ${what}` }).min(1, `required: ${what}`);

/** Every variable the audit can read; which are required depends on the checks that run. */
const ENV = {
  MESSAGE_DB_SHARDS: ShardSpecSchema,
  REDIS_URL: required('redis://host:port').pipe(UrlSchema),
  ES_URL: required('http(s)://host:port').pipe(UrlSchema),
  SEARCH_INDEX_ALIAS: SearchIndexConnectionSchema.shape.SEARCH_INDEX_ALIAS,
  KAFKA_BROKERS: required('host:port[,host:port]'),
} as const;
type EnvName = keyof typeof ENV;

/** What each skippable check reads besides MESSAGE_DB_SHARDS. */
const NEEDS: Record<SkippableCheck, EnvName[]> = {
  'recent-cache': ['REDIS_URL'],
  'search-index': ['ES_URL', 'SEARCH_INDEX_ALIAS'],
  'dead-letters': ['KAFKA_BROKERS'],
  'consumer-lag': ['KAFKA_BROKERS'],
};

const issuesOf = (error: z.ZodError, name: (path: string) => string): string =>
  error.issues
    .map((i) => {
      const label = name(i.path.map(String).join('.'));
      return `  ${label ? `${label}: ` : ''}${i.message}`;
    })
    .join('\n');

export interface ParsedCommand {
  options: AuditOptions;
  json: boolean;
  help: boolean;
  /** Where the connections came from, for the first line of the report. */
  source: string;
}

export interface ParseContext {
  env: Record<string, string | undefined>;
  now: number;
  /** The local real stack's services (default: `.parley/infra.env` via infraEnv()). */
  localInfra?: () => InfraEnv;
  readFile?: (path: string) => string;
}

/**
 * @throws UsageError for bad arguments, an unreadable --expect file or a bad environment.
 * @example const { options, json } = parseAuditCommand(process.argv.slice(2), { env: process.env, now: Date.now() });
 */
export function parseAuditCommand(argv: readonly string[], ctx: ParseContext): ParsedCommand {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        rooms: { type: 'string' },
        since: { type: 'string' },
        all: { type: 'boolean' },
        expect: { type: 'string' },
        'expect-dead': { type: 'string' },
        'strict-cache': { type: 'boolean' },
        settle: { type: 'string' },
        skip: { type: 'string' },
        'dlq-limit': { type: 'string' },
        'no-refresh': { type: 'boolean' },
        'db-prefix': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const parsed = argsSchema(ctx.now).safeParse(values);
  if (!parsed.success)
    throw new UsageError(
      `invalid arguments:\n${issuesOf(parsed.error, (p) => (p ? `--${p}` : ''))}`,
    );
  const a = parsed.data;
  if (a.help) {
    return { options: undefined as never, json: false, help: true, source: '' };
  }

  let expect: AuditOptions['expect'];
  if (a.expect) {
    let raw: unknown;
    try {
      raw = JSON.parse((ctx.readFile ?? ((p) => readFileSync(p, 'utf8')))(a.expect));
    } catch (err) {
      throw new UsageError(`--expect ${a.expect}: ${(err as Error).message}`);
    }
    const e = ExpectSchema.safeParse(raw);
    if (!e.success)
      throw new UsageError(
        `--expect ${a.expect} is invalid:\n${issuesOf(e.error, (p) => (p ? `at ${p}` : 'the file'))}`,
      );
    expect = e.data;
  }

  const skip = a.skip ?? [];
  const { connections, source } = connectionsOf(ctx, a['db-prefix'], skip);
  const scope: AuditScope = a.rooms
    ? { rooms: a.rooms }
    : a.since !== undefined
      ? { since: a.since }
      : a.all
        ? { all: true }
        : { rooms: [] };
  return {
    options: {
      connections,
      scope,
      ...(expect ? { expect } : {}),
      ...(a['expect-dead'] ? { expectDead: a['expect-dead'] } : {}),
      strictCache: a['strict-cache'] === true,
      settleMs: a.settle ?? 0,
      skip,
      refresh: a['no-refresh'] !== true,
      ...(a['dlq-limit'] ? { deadLetterLimit: a['dlq-limit'] } : {}),
    },
    json: a.json === true,
    help: false,
    source,
  };
}

function connectionsOf(
  ctx: ParseContext,
  dbPrefix: string | undefined,
  skip: readonly SkippableCheck[],
): { connections: AuditConnections; source: string } {
  const { env } = ctx;
  if (env.MESSAGE_DB_SHARDS === undefined || env.MESSAGE_DB_SHARDS === '') {
    const prefix = dbPrefix ?? 'parley';
    let infra: InfraEnv;
    try {
      infra = (ctx.localInfra ?? infraEnv)();
    } catch (err) {
      throw new UsageError(
        `MESSAGE_DB_SHARDS is not set, and there is no local real stack to audit instead (${(err as Error).message}).\nSet MESSAGE_DB_SHARDS, REDIS_URL, ES_URL, SEARCH_INDEX_ALIAS and KAFKA_BROKERS as the functions get them.`,
      );
    }
    return {
      connections: {
        messageDbShards: twoShardSpec(infra, `${prefix}_messages`),
        redisUrl: infra.REDIS_URL,
        esUrl: infra.ES_URL,
        searchIndexAlias: `${prefix}-messages`,
        kafkaBrokers: infra.KAFKA_BROKERS,
      },
      source: `the local real stack (prefix ${prefix}; MESSAGE_DB_SHARDS is not set)`,
    };
  }
  if (dbPrefix !== undefined) {
    throw new UsageError(
      '--db-prefix names the local real stack; it makes no sense with MESSAGE_DB_SHARDS set',
    );
  }
  // Only what the checks that run read is required.
  const needed = new Set<EnvName>([
    'MESSAGE_DB_SHARDS',
    ...SKIPPABLE.filter((c) => !skip.includes(c)).flatMap((c) => NEEDS[c]),
  ]);
  const schema = z.object({
    MESSAGE_DB_SHARDS: ENV.MESSAGE_DB_SHARDS,
    REDIS_URL: needed.has('REDIS_URL') ? ENV.REDIS_URL : ENV.REDIS_URL.optional(),
    ES_URL: needed.has('ES_URL') ? ENV.ES_URL : ENV.ES_URL.optional(),
    SEARCH_INDEX_ALIAS: ENV.SEARCH_INDEX_ALIAS,
    KAFKA_BROKERS: needed.has('KAFKA_BROKERS') ? ENV.KAFKA_BROKERS : ENV.KAFKA_BROKERS.optional(),
  });
  const e = schema.safeParse(env);
  if (!e.success) throw new UsageError(`invalid environment:\n${issuesOf(e.error, (p) => p)}`);
  return {
    connections: {
      messageDbShards: e.data.MESSAGE_DB_SHARDS,
      redisUrl: e.data.REDIS_URL ?? '',
      esUrl: e.data.ES_URL ?? '',
      searchIndexAlias: e.data.SEARCH_INDEX_ALIAS,
      kafkaBrokers: e.data.KAFKA_BROKERS ?? '',
    },
    source: 'the environment (MESSAGE_DB_SHARDS, …)',
  };
}
