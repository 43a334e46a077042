import { ConfigError, loadConfig } from '@parley/runtime';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY, DEFAULT_MAX_POLL_RECORDS } from '../delivery-policy';
import { KafkaSinkConfig, KafkaSourceConfig } from './config';

const base = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  SOURCE_TOPICS: 'parley.message.commands, parley.room.commands',
  CONSUMER_GROUP: 'message-write',
  SINK_URL: 'http://127.0.0.1:8081/',
};

describe('eventing process config', () => {
  it('the source reads a topic list and applies the delivery defaults', () => {
    const cfg = loadConfig(KafkaSourceConfig, base);
    expect(cfg.SOURCE_TOPICS).toEqual(['parley.message.commands', 'parley.room.commands']);
    // The stand-in's defaults are DEFAULT_DELIVERY, which the memory bus uses too.
    expect({
      retry: cfg.DELIVERY_RETRY,
      backoffPolicy: cfg.DELIVERY_BACKOFF_POLICY,
      backoffDelayMs: cfg.DELIVERY_BACKOFF_DELAY_MS,
      backoffMaxMs: cfg.DELIVERY_BACKOFF_MAX_MS,
    }).toEqual(DEFAULT_DELIVERY);
    expect(cfg.PORT).toBeUndefined();
  });

  it("the source delivers in order unless told unordered, and knows no third mode (Knative's spec.ordering)", () => {
    expect(loadConfig(KafkaSourceConfig, base)).toMatchObject({
      DELIVERY_ORDERING: 'ordered',
      MAX_POLL_RECORDS: DEFAULT_MAX_POLL_RECORDS,
      FETCH_LINGER_MS: 50,
    });
    expect(
      loadConfig(KafkaSourceConfig, { ...base, DELIVERY_ORDERING: 'unordered' }).DELIVERY_ORDERING,
    ).toBe('unordered');
    expect(() => loadConfig(KafkaSourceConfig, { ...base, DELIVERY_ORDERING: 'batch' })).toThrow(
      /DELIVERY_ORDERING/,
    );
    expect(() => loadConfig(KafkaSourceConfig, { ...base, MAX_POLL_RECORDS: '0' })).toThrow(
      /MAX_POLL_RECORDS/,
    );
  });

  it('the source polls its consumer lag every 5 s unless told otherwise, and not in a busy loop', () => {
    expect(loadConfig(KafkaSourceConfig, base).LAG_POLL_MS).toBe(5_000);
    expect(loadConfig(KafkaSourceConfig, { ...base, LAG_POLL_MS: '1000' }).LAG_POLL_MS).toBe(1_000);
    expect(() => loadConfig(KafkaSourceConfig, { ...base, LAG_POLL_MS: '0' })).toThrow(
      /LAG_POLL_MS/,
    );
  });

  it('the source refuses a missing sink, an empty topic list and a negative retry, naming them', () => {
    const bad = { ...base, SINK_URL: undefined, SOURCE_TOPICS: ' , ', DELIVERY_RETRY: '-1' };
    let err: unknown;
    try {
      loadConfig(KafkaSourceConfig, bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    for (const name of ['SINK_URL', 'SOURCE_TOPICS', 'DELIVERY_RETRY'])
      expect((err as Error).message).toContain(name);
  });

  it('the sink needs a port and binds to loopback by default', () => {
    expect(() => loadConfig(KafkaSinkConfig, { KAFKA_BROKERS: 'x:1' })).toThrow(/PORT/);
    expect(loadConfig(KafkaSinkConfig, { KAFKA_BROKERS: 'x:1', PORT: '8090' })).toMatchObject({
      PORT: 8090,
      HOST: '127.0.0.1',
    });
  });
});
