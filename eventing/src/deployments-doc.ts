/**
 * Renders docs/deployments.md from the deployment table, so the page cannot
 * drift from what the launcher, the stack and the manifests start:
 * `npm run docs:deployments` writes it, and a unit test fails when the
 * committed page differs from what this renders.
 */
import { writeFileSync } from 'node:fs';
import { DEFAULT_DELIVERY, DEFAULT_MAX_POLL_RECORDS, retryWindowMs } from './delivery-policy';
import { CLOUDEVENT_FUNCTIONS, DEPLOYMENTS, ENV, type EnvName, sourcesOf } from './deployments';

const code = (s: string) => `\`${s}\``;

export function renderDeploymentsDoc(): string {
  const lines = [
    '# Deployables',
    '',
    '<!-- Generated from eventing/src/deployments.ts by `npm run docs:deployments`; a unit test keeps it in step. -->',
    '',
    'Every deployable of Parley, from the deployment table. The embedded launcher, the real-mode',
    'stack (`launcher/`), the bundles (`npm run build`), the Knative manifests (`knative/`) and',
    'the tests are all driven by this table. Each function is one Knative Service built from',
    '`functions/Dockerfile`; the gateway is a Deployment built from `connection-gateway/Dockerfile`.',
    '',
    '## Deployables',
    '',
    '| name | kind | folder | trigger (topic → consumer group, ordering) | emits | scaling | why |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const d of DEPLOYMENTS) {
    const trigger =
      d.kind === 'cloudevent'
        ? sourcesOf(d)
            .map((x) => `${code(x.topic)} → ${code(x.consumerGroup)}, ${x.ordering}`)
            .join('<br>')
        : '—';
    const emits = 'emits' in d ? code(d.emits) : '—';
    lines.push(
      `| ${code(d.name)} | ${d.kind} | ${code(d.dir)} | ${trigger} | ${emits} | ${d.scaling} | ${d.scalingWhy} |`,
    );
  }
  lines.push(
    '',
    '## Delivery',
    '',
    "Each KafkaSource has one of the two orderings Knative's KafkaSource offers (`spec.ordering`; there is",
    'no batch delivery). `ordered` (the default) posts one event at a time per partition, the next',
    "once the function answered: per-room seqs and each sender's order rest on it, so every command",
    `topic is ordered. \`unordered\` posts events as they are read, up to \`max.poll.records\` (${DEFAULT_MAX_POLL_RECORDS}) in`,
    'flight at once, answered in any order; offsets are still committed only up to the lowest event not yet',
    'answered, so a crash redelivers and nothing is lost. Sources delivered unordered:',
    '',
    '| function | topic | why order does not matter |',
    '| --- | --- | --- |',
  );
  for (const d of CLOUDEVENT_FUNCTIONS) {
    const u = d.trigger.unordered;
    if (u) for (const t of u.topics) lines.push(`| ${code(d.name)} | ${code(t)} | ${u.why} |`);
  }
  lines.push(
    '',
    'Each source retries a failed delivery (a network error, a',
    'timeout, 408, 429 or 5xx) before it dead-letters the record to `<topic>.dlq`. The default is',
    `${DEFAULT_DELIVERY.retry} retries, ${DEFAULT_DELIVERY.backoffPolicy} from ${DEFAULT_DELIVERY.backoffDelayMs} ms (${(retryWindowMs(DEFAULT_DELIVERY) / 1000).toFixed(0)} s of waits), long enough to ride out`,
    'a restart of a function, a database or Elasticsearch; a refusal (another 4xx) is dead-lettered at once.',
    'Triggers with their own policy:',
    '',
    '| function | retries | backoff | waits in all | why |',
    '| --- | --- | --- | --- | --- |',
  );
  const own = CLOUDEVENT_FUNCTIONS.filter((d) => d.trigger.delivery);
  if (own.length === 0) lines.push('| (none) | | | | |');
  for (const d of own) {
    const p = d.trigger.delivery;
    if (!p) continue;
    lines.push(
      `| ${code(d.name)} | ${p.retry} | ${p.backoffPolicy} from ${p.backoffDelayMs} ms | ${(retryWindowMs(p) / 1000).toFixed(0)} s | ${p.why} |`,
    );
  }
  lines.push(
    '',
    '## Environment',
    '',
    'What each deployable reads, exactly (a test runs each bundle and records the variables it reads).',
    'Sources: `secret` = a key of the `parley-secrets` Secret, `config` = a key of the `parley-config`',
    'ConfigMap, `container` = set on the container, `platform` = set by Knative (PORT) or a SinkBinding (K_SINK).',
    '',
    `| variable | source | required | ${DEPLOYMENTS.map((d) => code(d.name)).join(' | ')} | what |`,
    `| --- | --- | --- | ${DEPLOYMENTS.map(() => '---').join(' | ')} | --- |`,
  );
  for (const [name, v] of Object.entries(ENV) as [EnvName, (typeof ENV)[EnvName]][]) {
    const cells = DEPLOYMENTS.map((d) => {
      const run = (d.env as readonly string[]).includes(name);
      const migrate = 'migrate' in d && (d.migrate.env as readonly string[]).includes(name);
      return run && migrate ? '● + migrate' : run ? '●' : migrate ? 'migrate' : '';
    });
    lines.push(
      `| ${code(name)} | ${v.source} | ${v.required ? 'yes' : 'no'} | ${cells.join(' | ')} | ${v.doc} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? 'docs/deployments.md';
  writeFileSync(out, renderDeploymentsDoc());
  console.log(`wrote ${out}`);
}
