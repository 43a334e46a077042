/**
 * What the gateway needs from the rest of Parley — ports only, so the same
 * gateway runs embedded (memory bus, in-process functions) and real (Kafka,
 * Redis, HTTP functions).
 */
import type { EventSink, Fanout } from '@parley/eventing';
import type { Logger, ServiceClient, TokenService } from '@parley/runtime';
import type { AttemptStore } from '@parley/runtime/attempts/attempt-store';
import type { Registry } from 'prom-client';
import type { GatewayLimits } from './config';
import type { PresenceStore } from './presence/presence-store';

export interface GatewayDeps {
  tokens: TokenService;
  /** Where commands go: Kafka (real) or the memory bus (embedded). */
  commands: EventSink;
  fanout: Fanout;
  /** Membership check (cache with fallback to the room service). */
  isMember: (roomId: string, userId: string) => Promise<boolean>;
  users: ServiceClient;
  rooms: ServiceClient;
  messages: ServiceClient;
  search: ServiceClient;
  /** The notifications function: read markers (`/internal/...`) and the inbox. */
  notifications: ServiceClient;
  /** Who is online (Redis in the real mode, shared by every gateway); memory when absent. */
  presence?: PresenceStore;
  log: Logger;
  registry: Registry;
  limits: GatewayLimits;
  allowedOrigins: string[];
  /**
   * Login and sign-up throttle state: Redis in the real mode (shared by every gateway); memory
   * (this gateway alone) when absent.
   */
  attempts?: AttemptStore;
  /** Extra readiness checks (Redis, Kafka). */
  ready?: () => Promise<boolean>;
  /** Serves the web client's files, if built (issue 4). */
  staticRoot?: string;
}
