import { ParleyError } from '@parley/runtime';
import { describe, expect, it } from 'vitest';
import { createEvent, fromHttp, fromKafkaRecord, toHttpBinary, toKafkaRecord } from './cloudevent';
import { messageSend } from './testing';

const structured = (obj: Record<string, unknown>) => ({
  headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
  body: JSON.stringify(obj),
});

const refused = (fn: () => unknown): ParleyError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ParleyError);
    expect((err as ParleyError).code).toBe('bad_request');
    return err as ParleyError;
  }
  throw new Error('expected a bad_request refusal');
};

describe('CloudEvent bindings', () => {
  const event = createEvent(
    'parley.message.send',
    {
      actorId: 'u_1',
      roomId: 'r_1',
      clientMsgId: 'c-1',
      body: '안녕 👋',
      acceptedTs: 1700000000000,
    },
    {
      source: 'gateway',
      causationid: 'cause-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
  );

  it('an event survives the HTTP binary mode round trip', () => {
    const { headers, body } = toHttpBinary(event);
    expect(headers['ce-type']).toBe('parley.message.send');
    expect(headers['ce-partitionkey']).toBe('r_1');
    expect(fromHttp(new Headers(headers), body)).toEqual(event);
  });

  it('Kafka to HTTP binary mode carries the record value unchanged as the body', () => {
    const record = toKafkaRecord(event);
    const read = fromKafkaRecord(record);
    const { headers, body } = toHttpBinary(read, record.value);
    expect(body).toBe(record.value);
    expect(fromHttp(new Headers(headers), body)).toEqual(event);
  });

  it('binary mode headers are read case-insensitively through Headers', () => {
    const { headers, body } = toHttpBinary(event);
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(fromHttp(new Headers(upper), body)).toEqual(event);
  });

  it('an event survives the HTTP structured mode round trip', () => {
    const { headers, body } = structured({ ...event });
    expect(fromHttp(headers, body)).toEqual(event);
  });

  it('an event survives the Kafka binary mode round trip, keyed by its partition key', () => {
    const record = toKafkaRecord(event);
    expect(record.key).toBe('r_1');
    expect(record.headers.ce_id).toBe(event.id);
    const asConsumed = {
      key: Buffer.from(record.key),
      value: Buffer.from(record.value),
      headers: Object.fromEntries(
        Object.entries(record.headers).map(([k, v]) => [k, Buffer.from(v)]),
      ),
    };
    expect(fromKafkaRecord(asConsumed)).toEqual(event);
  });

  it('the record key stands in for a missing partitionkey header', () => {
    const record = toKafkaRecord(event);
    const { ce_partitionkey: _, ...headers } = record.headers;
    expect(fromKafkaRecord({ ...record, headers }).partitionkey).toBe('r_1');
  });

  it('an event without a partitionkey gets the catalog key', () => {
    const { headers, body } = toHttpBinary(messageSend('r_9'));
    delete headers['ce-partitionkey'];
    expect(fromHttp(headers, body).partitionkey).toBe('r_9');
  });

  it('refuses a missing required attribute', () => {
    const { headers, body } = toHttpBinary(event);
    delete headers['ce-id'];
    expect(refused(() => fromHttp(headers, body)).message).toMatch(/id is missing/);
  });

  it('refuses an unsupported specversion', () => {
    const { headers, body } = toHttpBinary(event);
    headers['ce-specversion'] = '0.3';
    refused(() => fromHttp(headers, body));
  });

  it('refuses an unknown event type', () => {
    const record = toKafkaRecord(event);
    record.headers.ce_type = 'parley.nope';
    expect(refused(() => fromKafkaRecord(record)).message).toMatch(/unknown event type/);
  });

  it('refuses data that fails the catalog schema', () => {
    const { headers } = toHttpBinary(event);
    refused(() => fromHttp(headers, JSON.stringify({ roomId: 'r_1' })));
    refused(() => fromHttp(headers, JSON.stringify({ ...event.data, roomId: 'not an id!' })));
    refused(() =>
      createEvent('parley.message.send', { ...event.data, body: '   ' }, { source: 'x' }),
    );
  });

  it('refuses a body that is not JSON, in either binding', () => {
    const { headers } = toHttpBinary(event);
    refused(() => fromHttp(headers, '{oops'));
    refused(() => fromKafkaRecord({ ...toKafkaRecord(event), value: Buffer.from('{oops') }));
  });

  it('refuses a structured event that is not an object', () => {
    refused(() => fromHttp(structured({}).headers, '"just a string"'));
  });
});
