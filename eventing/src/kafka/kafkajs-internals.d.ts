/** The one kafkajs internal Parley touches (kafkajs-idle-fix.ts): its per-connection request queue. */
declare module 'kafkajs/src/network/requestQueue/index.js' {
  import type { EventEmitter } from 'node:events';

  export default class RequestQueue extends EventEmitter {
    constructor(options: {
      maxInFlightRequests?: number | null;
      requestTimeout: number;
      enforceRequestTimeout?: boolean;
      clientId: string;
      broker: string;
      logger: unknown;
      isConnected?: () => boolean;
    });
    pending: unknown[];
    inflight: Map<number, unknown>;
    throttledUntil: number;
    throttleCheckTimeoutId: NodeJS.Timeout | null;
    maybeThrottle(clientSideThrottleTime: number | null): void;
    push(request: {
      entry: { correlationId: number };
      expectResponse: boolean;
      sendRequest: () => void;
      requestTimeout?: number;
    }): void;
    checkPendingRequests(): void;
    scheduleCheckPendingRequests(): void;
    destroy(): void;
  }
}
