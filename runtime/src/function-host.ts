/**
 * One shape for every function. A function is a spec — its name, its config
 * schema, how its real adapters are built from that config, and its hono app
 * (HTTP) or handler (CloudEvent, see `cloudEventFunction` in @parley/eventing) —
 * and its `src/index.ts` hands the spec to the host, which does the rest the
 * same way everywhere: validate the environment once (a bad value stops the
 * process with one clear line), make the logger and the metrics registry,
 * build the adapters, register the app under the function's name, and close
 * the adapters on shutdown. `serveFunction` (serve-function.ts) serves a
 * registered app over HTTP.
 *
 * CloudEvent functions are HTTP apps too: one process answers `/healthz`,
 * `/readyz` (and `/metrics`, on its private METRICS_PORT) and chooses the
 * status of a refused event (4xx: dead-letter it; 5xx: retry it). The host is Parley's own, not the Functions
 * Framework's (docs/decisions.md D28: its Express stack and per-request
 * `domain` cost 25-57 % of each event's CPU and ~100 ms of every cold start,
 * for features Parley does not use).
 */
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { ConfigError, LogLevelSchema, loadConfig } from './config';
import { createLogger, type Logger } from './logger';
import { createMetricsRegistry } from './ops';
import { startTracing, stopTracing, type TracingConfig, TracingConfigSchema } from './tracing';

/** What the host gives every function: its name, its logger, its metrics registry. */
export interface FunctionContext {
  name: string;
  log: Logger;
  registry: Registry;
}

/** A function's real adapters, built from its config: what its app or handler needs, plus readiness and close. */
export interface Adapters<D> {
  deps: D;
  /** True when every dependency answers (`/readyz`). */
  ready: () => Promise<boolean>;
  /** Closes pools and connections (on SIGTERM). */
  close: () => Promise<void>;
}

/** What an HTTP function's app gets besides its adapters. */
export interface HostDeps {
  log: Logger;
  registry: Registry;
  ready?: () => Promise<boolean> | boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: a config schema is any zod object
type ConfigSchema = z.ZodObject<any>;

export interface FunctionSpec<S extends ConfigSchema, D> {
  /** The deployable's name in the deployment table, and the Functions Framework target. */
  name: string;
  /**
   * Exactly the variables the function reads (besides PORT/HOST/METRICS_PORT of the server,
   * LOG_LEVEL and the tracing variables, which the host reads for every function).
   */
  config: S;
  adapters: (cfg: z.infer<S>, ctx: FunctionContext) => Adapters<D>;
}

export interface HttpFunctionSpec<S extends ConfigSchema, D> extends FunctionSpec<S, D> {
  app: (deps: D & HostDeps) => Hono;
}

const closers = new Set<() => Promise<void>>();

/** Closes what the registered functions opened (serveFunction calls it on SIGTERM). */
export async function closeFunctions(): Promise<void> {
  await Promise.allSettled([...closers].map((close) => close()));
  closers.clear();
  // The spans of the last events handled, still in the batch, go before the process ends.
  await stopTracing();
}

const registered = new Map<string, Hono>();
/** The registry the host made for each function it hosted, for `serveFunction`'s metrics port. */
const registries = new Map<string, Registry>();

/** Registers a function's app under its name, for `serveFunction` (and tests). */
export function registerFunction(name: string, app: Hono): void {
  if (registered.has(name)) throw new Error(`function ${name} is registered twice`);
  registered.set(name, app);
}

/** The app registered under `name`; throws naming the function if none is. */
export function registeredFunction(name: string): Hono {
  const app = registered.get(name);
  if (!app) throw new Error(`no function ${name} is registered: import its src/index.ts first`);
  return app;
}

/** The metrics registry `hostFunction` made for `name`; undefined if it hosted no such function. */
export const functionRegistry = (name: string): Registry | undefined => registries.get(name);

/** A function's or a step's config: its own variables and LOG_LEVEL. Throws ConfigError. */
const loadWithLogLevel = <S extends ConfigSchema>(
  config: S,
  env: Record<string, string | undefined>,
) =>
  loadConfig(config.extend({ LOG_LEVEL: LogLevelSchema }), env) as z.infer<S> & {
    LOG_LEVEL: string;
  };

/**
 * Config, logger, registry and adapters of a function, from the environment.
 * A configuration error is logged as one JSON line and ends the process (exit 1).
 */
export function hostFunction<S extends ConfigSchema, D>(
  spec: FunctionSpec<S, D>,
  env: Record<string, string | undefined> = process.env,
): { ctx: FunctionContext; adapters: Adapters<D> } {
  let cfg: z.infer<S> & { LOG_LEVEL: string };
  let tracing: TracingConfig;
  try {
    cfg = loadWithLogLevel(spec.config, env);
    tracing = loadConfig(TracingConfigSchema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger(spec.name).fatal({ reason: err.message }, 'cannot start');
    process.exit(1);
  }
  startTracing(spec.name, tracing);
  const ctx: FunctionContext = {
    name: spec.name,
    log: createLogger(spec.name, cfg.LOG_LEVEL),
    registry: createMetricsRegistry(spec.name),
  };
  registries.set(spec.name, ctx.registry);
  const adapters = spec.adapters(cfg, ctx);
  closers.add(adapters.close);
  return { ctx, adapters };
}

/** Types an HTTP function's spec (identity at run time). */
export const defineHttpFunction = <S extends ConfigSchema, D>(
  spec: HttpFunctionSpec<S, D>,
): HttpFunctionSpec<S, D> => spec;

/**
 * @example httpFunction({ name: 'users', config: UsersConfigSchema, adapters: realUsers, app: createUsersApp });
 */
export function httpFunction<S extends ConfigSchema, D>(spec: HttpFunctionSpec<S, D>): void {
  const { ctx, adapters } = hostFunction(spec);
  registerFunction(
    spec.name,
    spec.app({ ...adapters.deps, log: ctx.log, registry: ctx.registry, ready: adapters.ready }),
  );
}

/**
 * A one-shot step beside a function (its migration: `dist/migrate.mjs`, a
 * Kubernetes Job), with the same config handling: validated environment,
 * JSON logs, exit code 1 on failure.
 * @example await runStep('users-migrate', z.object({ USERS_DB_SHARDS: ShardSpecSchema }), async (cfg) => ({ applied: … }));
 */
export async function runStep<S extends ConfigSchema>(
  name: string,
  config: S,
  step: (cfg: z.infer<S>, log: Logger) => Promise<Record<string, unknown>>,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  let log = createLogger(name);
  try {
    const cfg = loadWithLogLevel(config, env);
    log = createLogger(name, cfg.LOG_LEVEL);
    log.info(await step(cfg, log), 'done');
  } catch (err) {
    if (err instanceof ConfigError) log.fatal({ reason: err.message }, 'cannot start');
    else log.fatal({ err }, 'failed');
    process.exitCode = 1;
  }
}
