/**
 * perf/scenarios/scenarios.json read and validated at the edge: the harness never runs on a number
 * the file does not hold or a command-line option did not set. The schema is tied to the types in
 * perf/scenarios/types.ts (`satisfies z.ZodType<Scenarios>`), so the two cannot drift apart: a
 * field added to one and not the other stops the type check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@parley/launcher/infra';
import { z } from 'zod';
import type {
  ChatScenario,
  FanoutScenario,
  HandshakeScenario,
  HttpMixScenario,
  IdleScenario,
  Scenarios,
  SoakScenario,
  StressScenario,
} from '../scenarios/types';

const count = z.number().int().positive();
const seconds = z.number().positive();
const rate = z.number().positive();

export const ChatScenarioSchema = z.object({
  description: z.string(),
  users: count,
  rooms: count,
  ratePerSecond: rate,
  durationSeconds: seconds,
  warmupSeconds: z.number().nonnegative(),
  bodyChars: count,
  p99TargetMs: z.number().positive(),
  maxErrorRate: z.number().min(0).max(1),
}) satisfies z.ZodType<ChatScenario>;

export const SoakScenarioSchema = z.object({
  description: z.string(),
  sockets: count,
  connectPerSecond: rate,
  holdSeconds: seconds,
  maxErrorRate: z.number().min(0).max(1),
}) satisfies z.ZodType<SoakScenario>;

export const HttpMixScenarioSchema = z.object({
  description: z.string(),
  users: count,
  rooms: count,
  seedMessages: z.number().int().nonnegative(),
  ratePerSecond: rate,
  durationSeconds: seconds,
  weights: z.object({
    rooms: z.number().nonnegative(),
    history: z.number().nonnegative(),
    search: z.number().nonnegative(),
    notifications: z.number().nonnegative(),
  }),
  maxErrorRate: z.number().min(0).max(1),
}) satisfies z.ZodType<HttpMixScenario>;

export const StressScenarioSchema = z
  .object({
    description: z.string(),
    users: count,
    rooms: count,
    startRate: rate,
    stepRate: rate,
    stepSeconds: seconds,
    maxRate: rate,
    kneeP99Ms: z.number().positive(),
    kneeAchievedRatio: z.number().positive().max(1),
    bodyChars: count,
  })
  .refine((s) => s.maxRate >= s.startRate, {
    message: 'maxRate must be at least startRate',
    path: ['maxRate'],
  }) satisfies z.ZodType<StressScenario>;

export const FanoutScenarioSchema = z.object({
  description: z.string(),
  sockets: count,
  ratePerSecond: rate,
  durationSeconds: seconds,
  bodyChars: count,
}) satisfies z.ZodType<FanoutScenario>;

export const HandshakeScenarioSchema = z.object({
  description: z.string(),
  sockets: count,
  concurrency: count,
}) satisfies z.ZodType<HandshakeScenario>;

export const IdleScenarioSchema = z.object({
  description: z.string(),
  sockets: count,
  settleSeconds: z.number().nonnegative(),
}) satisfies z.ZodType<IdleScenario>;

/** The whole file; `$comment` and other extra keys are allowed and dropped. */
export const ScenariosSchema = z.object({
  chat: ChatScenarioSchema.refine((c) => c.users >= 2 * c.rooms, 'chat needs ≥ 2 users per room'),
  soak: SoakScenarioSchema,
  httpMix: HttpMixScenarioSchema,
  stress: StressScenarioSchema,
  fanout: FanoutScenarioSchema,
  handshakes: HandshakeScenarioSchema,
  idle: IdleScenarioSchema,
}) satisfies z.ZodType<Scenarios>;

/** True when A and B are assignable both ways: the schema's output is exactly the hand-written type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// A field in the schema and not in types.ts (or the other way) stops the type check here.
const _schemaIsTheTypes: Same<z.infer<typeof ScenariosSchema>, Scenarios> = true;
void _schemaIsTheTypes;

/** Where the shared scenario file lives. */
export const SCENARIOS_FILE = join(REPO_ROOT, 'perf', 'scenarios', 'scenarios.json');

/** Reads and validates the scenario file; a bad file fails with every issue named. */
export function loadScenarios(file = SCENARIOS_FILE): Scenarios {
  return parseScenarios(JSON.parse(readFileSync(file, 'utf8')), file);
}

/** Validates parsed scenario JSON (the file's name only for the error message). */
export function parseScenarios(json: unknown, file = 'scenarios'): Scenarios {
  const parsed = ScenariosSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`${file} is not a valid scenario file:\n${issues.join('\n')}`);
  }
  return parsed.data;
}

/**
 * One scenario with some of its numbers replaced (from command-line options), validated again, so
 * `--rate 0` or `--users 1` is refused with the same rules as the file.
 * @example withOverrides(ChatScenarioSchema, s.chat, { ratePerSecond: 500 })
 */
export function withOverrides<T extends object>(
  schema: z.ZodType<T>,
  scenario: T,
  overrides: Partial<Record<keyof T, number | undefined>>,
): T {
  const merged = { ...scenario } as Record<string, unknown>;
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) merged[k] = v;
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`bad option: ${issues.join('; ')}`);
  }
  return parsed.data;
}
