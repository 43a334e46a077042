/**
 * The gateway environment of a throughput benchmark: every per-socket and per-user frame budget
 * out of the way (it measures throughput, not abuse), and quiet logs.
 */
export const UNTHROTTLED_GATEWAY_ENV: Record<string, string> = {
  RATE_FRAMES_PER_SEC: '100000',
  RATE_BURST: '100000',
  RATE_USER_FRAMES_PER_SEC: '100000',
  RATE_USER_BURST: '100000',
  RATE_SEND_PER_SEC: '100000',
  RATE_SEND_BURST: '100000',
  LOG_LEVEL: 'warn',
};
