/**
 * Parley's CloudEvents (spec 1.0) and their two bindings: HTTP (binary and
 * structured content modes, `ce-` headers) and Kafka (binary mode, `ce_`
 * headers, record key = partition key). Every event is validated against the
 * catalog when it is made and when it is read, so an invalid event is refused
 * at the edge where it appears.
 */
import { randomUUID } from 'node:crypto';
import { describeIssues, ParleyError } from '@parley/runtime';
import { currentTraceparent } from '@parley/runtime/tracing';
import { CATALOG, type EventData, type EventType, isEventType, SOURCE_PREFIX } from './catalog';

export interface ParleyEvent<T extends EventType = EventType> {
  specversion: '1.0';
  id: string;
  source: string;
  type: T;
  /** RFC 3339 */
  time: string;
  datacontenttype: 'application/json';
  /** Knative's partitionkey extension: the Kafka record key. */
  partitionkey: string;
  /** Extension: the id of the event (command) that caused this one. */
  causationid?: string;
  subject?: string;
  /** W3C trace context, carried as the CloudEvents distributed-tracing extension. */
  traceparent?: string;
  data: EventData<T>;
}

/** Any event of the catalog, narrowed by `type`. */
export type AnyParleyEvent = { [T in EventType]: ParleyEvent<T> }[EventType];

const EXTENSIONS = ['partitionkey', 'causationid', 'subject', 'traceparent'] as const;
const REQUIRED = ['specversion', 'id', 'source', 'type'] as const;

/**
 * Makes a valid event of the catalog.
 * @example createEvent('parley.message.send', data, { source: 'gateway' })
 */
export function createEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  opts: {
    source: string;
    id?: string;
    causationid?: string;
    subject?: string;
    traceparent?: string;
  },
): ParleyEvent<T> {
  const entry = CATALOG[type];
  const parsed = entry.schema.safeParse(data);
  if (!parsed.success) {
    throw new ParleyError('bad_request', `${type}: ${describeIssues(parsed.error.issues)}`);
  }
  const value = parsed.data as EventData<T>;
  const event: ParleyEvent<T> = {
    specversion: '1.0',
    id: opts.id ?? randomUUID(),
    source: opts.source.startsWith('/') ? opts.source : `${SOURCE_PREFIX}${opts.source}`,
    type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    partitionkey: (entry.key as (d: EventData<T>) => string)(value),
    data: value,
  };
  if (opts.causationid) event.causationid = opts.causationid;
  if (opts.subject) event.subject = opts.subject;
  // An event made while a span is active (a gateway's `send`, a function handling an event)
  // continues that span's trace; tracing off, there is none.
  const traceparent = opts.traceparent ?? currentTraceparent();
  if (traceparent) event.traceparent = traceparent;
  return event;
}

/**
 * Validates attributes and data read from a wire into an event of the catalog.
 * Throws ParleyError('bad_request') — never retriable — for anything invalid.
 */
export function parseEvent(
  attrs: Record<string, string | undefined>,
  data: unknown,
): AnyParleyEvent {
  for (const name of REQUIRED) {
    if (!attrs[name])
      throw new ParleyError('bad_request', `CloudEvent attribute ${name} is missing`);
  }
  if (attrs.specversion !== '1.0') {
    throw new ParleyError('bad_request', `unsupported specversion ${attrs.specversion}`);
  }
  const type = attrs.type as string;
  if (!isEventType(type)) throw new ParleyError('bad_request', `unknown event type ${type}`);
  const entry = CATALOG[type];
  const parsed = entry.schema.safeParse(data);
  if (!parsed.success) {
    throw new ParleyError('bad_request', `${type}: ${describeIssues(parsed.error.issues)}`);
  }
  const event = {
    specversion: '1.0',
    id: attrs.id as string,
    source: attrs.source as string,
    type,
    time: attrs.time ?? new Date().toISOString(),
    datacontenttype: 'application/json',
    partitionkey: attrs.partitionkey ?? (entry.key as (d: unknown) => string)(parsed.data),
    data: parsed.data,
  } as AnyParleyEvent;
  if (attrs.causationid) event.causationid = attrs.causationid;
  if (attrs.subject) event.subject = attrs.subject;
  if (attrs.traceparent) event.traceparent = attrs.traceparent;
  return event;
}

function attributesOf(event: ParleyEvent): Record<string, string> {
  const out: Record<string, string> = {
    specversion: event.specversion,
    id: event.id,
    source: event.source,
    type: event.type,
    time: event.time,
  };
  for (const ext of EXTENSIONS) {
    const v = event[ext];
    if (v !== undefined) out[ext] = v;
  }
  return out;
}

/**
 * HTTP binary content mode: attributes in `ce-` headers, data as the JSON body (`body` if given:
 * the data's JSON as it was read, e.g. a Kafka record's value, not serialized again).
 */
export function toHttpBinary(
  event: ParleyEvent,
  body?: string,
): {
  headers: Record<string, string>;
  body: string;
} {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(attributesOf(event))) headers[`ce-${k}`] = v;
  return { headers, body: body ?? JSON.stringify(event.data) };
}

/**
 * Reads an HTTP request in binary mode (`ce-` headers) or structured mode
 * (`content-type: application/cloudevents+json`).
 */
export function fromHttp(
  headers: Headers | Record<string, string | undefined>,
  body: string,
): AnyParleyEvent {
  const get = (name: string): string | undefined =>
    headers instanceof Headers ? (headers.get(name) ?? undefined) : headers[name.toLowerCase()];
  const contentType = get('content-type') ?? '';
  let json: unknown;
  try {
    json = body.length ? JSON.parse(body) : undefined;
  } catch {
    throw new ParleyError('bad_request', 'CloudEvent body is not JSON');
  }
  if (contentType.startsWith('application/cloudevents+json')) {
    if (typeof json !== 'object' || json === null)
      throw new ParleyError('bad_request', 'structured CloudEvent must be a JSON object');
    const { data, ...rest } = json as Record<string, unknown>;
    const attrs = Object.fromEntries(
      Object.entries(rest).map(([k, v]) => [k, v === undefined ? undefined : String(v)]),
    );
    return parseEvent(attrs, data);
  }
  const attrs: Record<string, string | undefined> = {};
  for (const name of [...REQUIRED, 'time', ...EXTENSIONS]) attrs[name] = get(`ce-${name}`);
  return parseEvent(attrs, json);
}

export interface KafkaRecordLike {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers: Record<string, string | Buffer | undefined>;
}

/** Kafka binary content mode: `ce_` headers, key = partition key, value = JSON data. */
export function toKafkaRecord(event: ParleyEvent): {
  key: string;
  value: string;
  headers: Record<string, string>;
} {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(attributesOf(event))) headers[`ce_${k}`] = v;
  return { key: event.partitionkey, value: JSON.stringify(event.data), headers };
}

export function fromKafkaRecord(record: KafkaRecordLike): AnyParleyEvent {
  const header = (name: string): string | undefined => {
    const v = record.headers[name];
    return v === undefined ? undefined : v.toString();
  };
  const attrs: Record<string, string | undefined> = {};
  for (const name of [...REQUIRED, 'time', ...EXTENSIONS]) attrs[name] = header(`ce_${name}`);
  if (!attrs.partitionkey && record.key) attrs.partitionkey = record.key.toString();
  let json: unknown;
  try {
    json = record.value === null ? undefined : JSON.parse(record.value.toString());
  } catch {
    throw new ParleyError('bad_request', 'Kafka record value is not JSON');
  }
  return parseEvent(attrs, json);
}
