/**
 * Application-level sharding: a key (room id, user id) hashes to one of a
 * fixed number of logical shards; configuration maps ranges of logical shards
 * onto physical databases. Moving a logical shard is a copy plus a config
 * change: no key is rehashed, because the logical shard count never changes.
 */

/** The fixed number of logical shards. Changing it would rehash every key: don't. */
export const LOGICAL_SHARDS = 64;

/** FNV-1a, 32 bit, over the key's UTF-8 bytes: stable across processes and languages. */
export function fnv1a32(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The logical shard of a key, 0 ≤ shard < LOGICAL_SHARDS. */
export function logicalShardOf(key: string, shards = LOGICAL_SHARDS): number {
  return fnv1a32(key) % shards;
}

export interface ShardRange {
  from: number;
  to: number;
  target: string;
}

/**
 * A shard map: which physical target (a database URL) holds each logical shard.
 *
 * @example
 * const map = ShardMap.parse('0-31=mysql://u:p@127.0.0.1:3307/parley_message_0;32-63=mysql://u:p@127.0.0.1:3308/parley_message_1');
 * map.targetFor('room_123'); // one of the two URLs
 */
export class ShardMap {
  private readonly byShard: string[];

  constructor(
    ranges: ShardRange[],
    readonly logicalShards = LOGICAL_SHARDS,
  ) {
    const byShard: (string | undefined)[] = new Array(logicalShards).fill(undefined);
    for (const r of ranges) {
      if (
        !Number.isInteger(r.from) ||
        !Number.isInteger(r.to) ||
        r.from > r.to ||
        r.from < 0 ||
        r.to >= logicalShards
      ) {
        throw new Error(`shard range ${r.from}-${r.to} is outside 0-${logicalShards - 1}`);
      }
      for (let s = r.from; s <= r.to; s++) {
        if (byShard[s] !== undefined) throw new Error(`logical shard ${s} is mapped twice`);
        byShard[s] = r.target;
      }
    }
    const missing = byShard.indexOf(undefined);
    if (missing >= 0) throw new Error(`logical shard ${missing} is not mapped`);
    this.byShard = byShard as string[];
  }

  /** Parses `from-to=target;from-to=target` (a single `target` alone maps every shard). */
  static parse(spec: string, logicalShards = LOGICAL_SHARDS): ShardMap {
    const parts = spec
      .split(/[;\n]/)
      .map((p) => p.trim())
      .filter(Boolean);
    if (parts.length === 1 && !/^\d+(-\d+)?=/.test(parts[0] ?? '')) {
      return new ShardMap(
        [{ from: 0, to: logicalShards - 1, target: parts[0] as string }],
        logicalShards,
      );
    }
    const ranges = parts.map((p) => {
      const m = p.match(/^(\d+)(?:-(\d+))?=(.+)$/);
      if (!m) throw new Error(`bad shard map entry "${p}": expected from-to=target`);
      const from = Number(m[1]);
      return { from, to: m[2] === undefined ? from : Number(m[2]), target: m[3] as string };
    });
    return new ShardMap(ranges, logicalShards);
  }

  shardOf(key: string): number {
    return logicalShardOf(key, this.logicalShards);
  }

  targetFor(key: string): string {
    return this.byShard[this.shardOf(key)] as string;
  }

  targetOfShard(shard: number): string {
    const t = this.byShard[shard];
    if (t === undefined) throw new Error(`no logical shard ${shard}`);
    return t;
  }

  /** The distinct physical targets, in order of first appearance. */
  targets(): string[] {
    return [...new Set(this.byShard)];
  }
}
