/** What bench:peer needs of a server under test, Parley's gateway or Centrifugo. */
import type { Message } from '@parley/protocol';
import type { ServerKind } from './clients';

export interface PeerServer {
  kind: ServerKind;
  /** What ran, for the record (binary, version, engine). */
  label: string;
  pid: number;
  host: string;
  port: number;
  /** Processes whose CPU is shown beside the server's, not in it (Parley: Redis, the fan-out). */
  side: { name: string; pid: number }[];
  /** Publishes one message to the room every client follows, as the server's publisher would. */
  publish(message: Message): Promise<void>;
  /** Counters worth recording (Parley: calls to each stub). */
  counters(): Record<string, number>;
  /** Stops the server (gracefully, then by force) and what was started for it. */
  stop(): Promise<void>;
}
