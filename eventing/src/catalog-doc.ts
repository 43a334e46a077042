/**
 * Renders docs/events.md from the catalog, so the page cannot drift from
 * the code: `npm run docs:events` writes it, and a unit test fails when the
 * committed page differs from what this renders.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { CATALOG, deadLetterTopic, type EventType, TOPIC_PARTITIONS, TOPICS } from './catalog';

function fieldsOf(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as {
    properties?: Record<string, { type?: string }>;
    required?: string[];
  };
  const required = new Set(json.required ?? []);
  return Object.keys(json.properties ?? {})
    .map((k) => (required.has(k) ? `\`${k}\`` : `\`${k}?\``))
    .join(', ');
}

export function renderEventsDoc(): string {
  const lines = [
    '# Event catalog',
    '',
    '<!-- Generated from eventing/src/catalog.ts by `npm run docs:events`; a unit test keeps it in step. -->',
    '',
    'Every CloudEvent in Parley, with its Kafka topic and partition key. Commands ask a',
    'service to act; facts say what happened. Events travel in the CloudEvents Kafka',
    'binding, binary content mode: attributes in `ce_` headers, the JSON data as the',
    'record value, the partition key as the record key (and the `partitionkey`',
    'extension). Over HTTP (KafkaSource → function, function → KafkaSink) they use the',
    'HTTP binding, binary mode (`ce-` headers). Extensions: `partitionkey`,',
    '`causationid` (the id of the command that caused a fact), `traceparent`.',
    '',
    `Topics have ${TOPIC_PARTITIONS} partitions; each has a dead-letter topic \`<topic>.dlq\`.`,
    '',
    '## Topics',
    '',
    '| topic | dead letters | types |',
    '| --- | --- | --- |',
  ];
  for (const topic of Object.values(TOPICS)) {
    const types = (Object.keys(CATALOG) as EventType[]).filter((t) => CATALOG[t].topic === topic);
    lines.push(
      `| \`${topic}\` | \`${deadLetterTopic(topic)}\` | ${types.map((t) => `\`${t}\``).join(', ')} |`,
    );
  }
  lines.push(
    '',
    '## Types',
    '',
    '| type | kind | topic | key | data | what |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const [type, def] of Object.entries(CATALOG) as [EventType, (typeof CATALOG)[EventType]][]) {
    lines.push(
      `| \`${type}\` | ${def.kind} | \`${def.topic}\` | ${def.keyDoc} | ${fieldsOf(def.schema)} | ${def.doc} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? 'docs/events.md';
  writeFileSync(out, renderEventsDoc());
  console.log(`wrote ${out}`);
}
