/**
 * Validation of rendered manifests against the real schemas (test support):
 *
 * - Knative Serving `Service`: its CRD from knative.dev/serving v0.51.0, and the
 *   @kubernetes-models/knative model;
 * - KafkaSource, KafkaSink: the CRDs of eventing-kafka-broker 1.15, SinkBinding: Knative Eventing
 *   1.15.0's, both as shipped in knative.dev/operator v0.42.2;
 * - Strimzi KafkaTopic: the CRD Strimzi 1.2.0's own generator makes from its api jar;
 * - PodMonitor, PrometheusRule: the CRDs of prometheus-operator v0.85.0 (its Go module's
 *   example/prometheus-operator-crd/), and the @kubernetes-models/prometheus-operator models;
 * - core objects: the kubernetes-models classes (Kubernetes' OpenAPI schemas) and, strict (unknown
 *   fields refused), the Kubernetes 1.34 OpenAPI definitions shipped by the PyPI package
 *   kubernetes-validate 1.37.0.
 *
 * knative/schemas/fetch.sh puts the CRDs and kustomize in the cache this file reads; nothing here
 * downloads. A CRD's openAPIV3Schema becomes a JSON schema for ajv the way the API server reads it:
 * `x-kubernetes-int-or-string` is an integer or a string, `x-kubernetes-preserve-unknown-fields`
 * keeps anything, `x-kubernetes-embedded-resource` adds apiVersion/kind/metadata, and every other
 * object with `properties` refuses unknown fields (the API server prunes them, and kubectl's default
 * `--validate=strict` turns them into errors).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Service as KnativeServiceModel } from '@kubernetes-models/knative/serving.knative.dev/v1/Service';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';

/** Where knative/schemas/fetch.sh keeps what it fetched (the same rule as the script's). */
export const CACHE_DIR =
  process.env.PARLEY_KNATIVE_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'parley', 'knative');

const CRD_FILES = [
  'serving-service.yaml',
  'eventing-kafka-controller.yaml',
  'eventing-crds.yaml',
  'strimzi-kafkatopic.yaml',
  'prometheus-operator-podmonitors.yaml',
  'prometheus-operator-prometheusrules.yaml',
] as const;
/** Kubernetes' OpenAPI definitions as strict JSON schemas (draft 2020-12; from kubernetes-validate). */
const KUBERNETES_STRICT = 'kubernetes-strict.json';

export const KUSTOMIZE = join(CACHE_DIR, 'bin', 'kustomize');

/** Fails (does not skip) when the fetch script has not run. */
export function assertFetched(): void {
  const missing = [
    join(CACHE_DIR, 'stamp'),
    KUSTOMIZE,
    ...[...CRD_FILES, KUBERNETES_STRICT].map((f) => join(CACHE_DIR, 'crds', f)),
  ].filter((f) => !existsSync(f));
  if (missing.length)
    throw new Error(
      `The Knative/Kubernetes schemas are missing (${missing.join(', ')}). ` +
        'Run `bash knative/schemas/fetch.sh` (npm test runs it before the unit tests); ' +
        'it downloads them from the Go module proxy and Maven Central into ' +
        `${CACHE_DIR} (PARLEY_KNATIVE_CACHE overrides it).`,
    );
}

/** Every YAML document of a multi-document string, as plain objects (empty documents dropped). */
export function parseYamlDocs(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join('; '));
      return d.toJS() as Record<string, unknown> | null;
    })
    .filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object');
}

/** `kustomize build <dir>` with the fetched kustomize. */
export function kustomizeBuild(dir: string): Record<string, unknown>[] {
  const out = execFileSync(KUSTOMIZE, ['build', dir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return parseYamlDocs(out);
}

type Json = Record<string, unknown>;

/** A CRD's openAPIV3Schema, as ajv checks it the way the API server does (see the file comment). */
export function structuralToAjv(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structuralToAjv);
  if (!node || typeof node !== 'object') return node;
  const src = node as Json;
  if (src['x-kubernetes-int-or-string'] === true) {
    const { type: _type, 'x-kubernetes-int-or-string': _, ...rest } = src;
    return { ...mapValues(rest), anyOf: [{ type: 'integer' }, { type: 'string' }] };
  }
  const out = mapValues(src);
  const preserve = src['x-kubernetes-preserve-unknown-fields'] === true;
  if (src['x-kubernetes-embedded-resource'] === true) {
    const props = (out.properties ?? {}) as Json;
    out.properties = {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      ...props,
    };
  }
  if (out.type === 'object' && out.properties && !('additionalProperties' in out) && !preserve)
    out.additionalProperties = false;
  return out;
}

function mapValues(src: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    // `properties` holds names, not schemas: map its values one level down.
    if (k === 'properties' && v && typeof v === 'object') {
      const props: Json = {};
      for (const [pk, pv] of Object.entries(v as Json)) props[pk] = structuralToAjv(pv);
      out[k] = props;
    } else if (k === 'description') {
      // dropped: large, and not validation
    } else if (k === 'pattern' && typeof v === 'string') out[k] = goPattern(v);
    else out[k] = structuralToAjv(v);
  }
  return out;
}

/**
 * A CRD `pattern` (Go's RE2 syntax) as a JavaScript regex source. The one RE2 construct the fetched
 * CRDs use that JavaScript lacks is a leading case-insensitive flag, `(?i)` (prometheus-operator's
 * `partial_response_strategy`): each letter outside a character class becomes `[xX]`.
 * @example goPattern('^(?i)(abort|warn)?$') // '^([aA][bB][oO][rR][tT]|[wW][aA][rR][nN])?$'
 */
export function goPattern(pattern: string): string {
  const m = /^(\^?)\(\?i\)/.exec(pattern);
  if (!m) return pattern;
  let out = m[1] as string;
  let inClass = false;
  const rest = pattern.slice(m[0].length);
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i] as string;
    if (c === '\\') {
      out += c + (rest[i + 1] ?? '');
      i++;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === ']') {
      inClass = false;
      out += c;
    } else if (!inClass && /[a-zA-Z]/.test(c)) out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
    else out += c;
  }
  return out;
}

/** Every object has apiVersion, kind and metadata, whether its CRD's root schema lists them or not. */
function rootSchema(openAPIV3Schema: unknown): Json {
  const root = structuralToAjv(openAPIV3Schema) as Json;
  root.properties = {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    ...(root.properties as Json | undefined),
  };
  return root;
}

interface CrdVersion {
  crd: string;
  served: boolean;
  /** Compiled on first use (the CRD files hold dozens of kinds the manifests never use). */
  validator(): ValidateFunction;
}

export interface Schemas {
  /** `group/version/Kind` → the CRD version that validates it. */
  crds: Map<string, CrdVersion>;
  /** Problems of one object (empty when valid), each prefixed with the object's kind and name. */
  validate(obj: Json): string[];
  /** What validates this kind of object, in words (for the report). */
  describe(obj: Json): string;
}

/** Core kinds: the kubernetes-models class and the strict OpenAPI definition that validate each. */
const CORE: Record<
  string,
  { model: new (data: never) => { validate(): void }; definition: string }
> = {
  'v1/Namespace': { model: Namespace, definition: 'io.k8s.api.core.v1.Namespace' },
  'v1/ConfigMap': { model: ConfigMap, definition: 'io.k8s.api.core.v1.ConfigMap' },
  'v1/Service': { model: Service, definition: 'io.k8s.api.core.v1.Service' },
  'apps/v1/Deployment': { model: Deployment, definition: 'io.k8s.api.apps.v1.Deployment' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    definition: 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
  },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    definition: 'io.k8s.api.policy.v1.PodDisruptionBudget',
  },
  'batch/v1/Job': { model: Job, definition: 'io.k8s.api.batch.v1.Job' },
};

/** Custom resources that also have a TypeScript model, validated by it as well as by the CRD. */
const CRD_MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'serving.knative.dev/v1/Service': KnativeServiceModel,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** Loads the fetched CRDs; throws a clear error if fetch.sh has not run. */
export function loadSchemas(): Schemas {
  assertFetched();
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const crds = new Map<string, CrdVersion>();
  for (const file of CRD_FILES) {
    for (const doc of parseYamlDocs(readFileSync(join(CACHE_DIR, 'crds', file), 'utf8'))) {
      if (doc.kind !== 'CustomResourceDefinition') continue;
      const spec = doc.spec as {
        group: string;
        names: { kind: string };
        versions: { name: string; served: boolean; schema?: { openAPIV3Schema: unknown } }[];
      };
      for (const v of spec.versions) {
        if (!v.schema) continue;
        const schema = v.schema.openAPIV3Schema;
        let compiled: ValidateFunction | undefined;
        crds.set(`${spec.group}/${v.name}/${spec.names.kind}`, {
          crd: `${(doc.metadata as Json).name} (${file})`,
          served: v.served,
          validator: () => {
            compiled ??= ajv.compile(rootSchema(schema));
            return compiled;
          },
        });
      }
    }
  }

  const keyOf = (obj: Json) => `${obj.apiVersion}/${obj.kind}`;
  const nameOf = (obj: Json) => `${obj.kind} ${(obj.metadata as Json | undefined)?.name ?? '?'}`;

  // Kubernetes' own definitions, strict: every object refuses fields Kubernetes does not know.
  const strict = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  const definitions = JSON.parse(readFileSync(join(CACHE_DIR, 'crds', KUBERNETES_STRICT), 'utf8'));
  strict.addSchema(definitions);
  const strictValidators = new Map<string, ValidateFunction>();
  const strictDefinition = (name: string): ValidateFunction => {
    let v = strictValidators.get(name);
    if (!v) {
      v = strict.compile({ $ref: `${definitions.$id}#/$defs/${name}` });
      strictValidators.set(name, v);
    }
    return v;
  };

  const modelProblems = (obj: Json, Model: new (data: never) => { validate(): void }) => {
    try {
      new Model(obj as never).validate();
      return [];
    } catch (err) {
      return [(err as Error).message];
    }
  };
  const ajvProblems = (validate: ValidateFunction, data: unknown, at = '') =>
    validate(data)
      ? []
      : (validate.errors ?? []).map(
          (e) =>
            `${at}${e.instancePath || '/'} ${e.message}${
              e.params && 'additionalProperty' in e.params ? `: ${e.params.additionalProperty}` : ''
            }`,
        );

  return {
    crds,
    describe(obj) {
      const key = keyOf(obj);
      const core = CORE[key];
      if (core) return `kubernetes-models ${key} + strict ${core.definition}`;
      const crd = crds.get(key);
      return crd ? `CRD ${crd.crd}` : 'nothing';
    },
    validate(obj) {
      const key = keyOf(obj);
      const core = CORE[key];
      const problems: string[] = [];
      if (core) {
        problems.push(...modelProblems(obj, core.model));
        problems.push(...ajvProblems(strictDefinition(core.definition), obj, 'strict '));
      } else {
        const crd = crds.get(key);
        if (!crd) return [`${nameOf(obj)}: no schema for ${key}`];
        if (!crd.served) problems.push(`${key} is not served by ${crd.crd}`);
        problems.push(...ajvProblems(crd.validator(), obj));
        // The API server checks ObjectMeta itself (a CRD's schema says only `type: object`).
        problems.push(
          ...ajvProblems(
            strictDefinition('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
            obj.metadata,
            '/metadata',
          ),
        );
        const model = CRD_MODELS[key];
        if (model) problems.push(...modelProblems(obj, model));
      }
      return problems.map((p) => `${nameOf(obj)}: ${p}`);
    },
  };
}
