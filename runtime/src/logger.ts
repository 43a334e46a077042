/**
 * Structured JSON logs (Loki-friendly: one JSON object per line on stdout).
 * Secrets and message bodies are redacted by path so a careless `log.info({req})`
 * cannot leak them.
 */
import { type Logger, pino } from 'pino';

export type { Logger };

const REDACT = [
  'password',
  'token',
  'authorization',
  'body',
  '*.password',
  '*.token',
  '*.authorization',
  '*.body',
  'headers.authorization',
  'req.headers.authorization',
];

/**
 * @example const log = createLogger('message-write'); log.info({ roomId }, 'stored');
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT, censor: '[redacted]' },
  });
}
