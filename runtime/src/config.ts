/**
 * Configuration is read once at start into a typed, validated object. A bad
 * or missing value stops the process with one clear message naming the
 * variable, never later with an obscure failure.
 */
import type { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * @example const cfg = loadConfig(z.object({ PORT: z.coerce.number().default(8080) }));
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (i) => `  ${i.path.map(String).join('.') || '(env)'}: ${i.message}`,
    );
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
