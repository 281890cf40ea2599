/**
 * What the aws target needs of the stack around each component (model/stack-infra.ts): the
 * stack's shared resources become one component, `stack/platform` (the Networking document's
 * VPC, Security's security groups and KMS keys, the ECS cluster, Observability's alert topic),
 * and each component is given, under `_stack` in its spec, the platform outputs its kind uses,
 * Observability as it applies to it, Security's roles attached to it, the IAM access its
 * references call for, and the load balancers that route to it. Everything given is a value or
 * a valueFrom, so it orders, resolves and hashes as the rest of the spec does.
 */
import type { DesiredComponent, DesiredService, SourceRef } from '../model/desired.js';
import {
  PLATFORM_ID,
  PLATFORM_KIND,
  PLATFORM_SERVICE,
  CONTAINER_KINDS,
  STACK_INFRA_KEY,
  VPC_KINDS,
  type Access,
  type AttachedRole,
  type Grant,
  type LoadBalancerAttachment,
  type PlatformOutput,
  type StackInfra,
} from '../model/stack-infra.js';
import { bucketAccess } from './aws-bucket-access.js';
import { alarmsOf, usedObservability } from './aws-observability.js';
import type { PendingProblem } from './locate.js';
import { overlayCandidates, pendingAt } from './provenance.js';
import { collectReferences } from './references.js';
import type { StackDoc } from './components.js';
import type { Attachment } from './typed-references.js';
import { article } from '../util/text.js';
import { closest } from './suggest.js';
import { labelOf } from './validate.js';

type Spec = Record<string, unknown>;

/** Kinds that run with a role of their own (a task role, a function role, an instance profile). */
export const ROLE_KINDS = new Set<string>(['MicroService', 'Worker', 'CronJob', 'Lambda', 'EC2Instance']);
/** Kinds a role may be granted access to, by IAM. */
const GRANTABLE_KINDS = new Set<string>(['SQS', 'SNS', 'S3', 'DynamoDB', 'EventBridge', 'Lambda', 'EFS', 'MSK']);

export interface PlatformInput {
  docs: StackDoc[];
  stack: string;
  environment: string;
  components: Map<string, DesiredComponent>;
  services: Map<string, DesiredService>;
  attachments: ReadonlyMap<string, Attachment[]>;
  /** The region of a component: its own, else InfraDefaults', else the Stack's. */
  regionOf: (c: DesiredComponent) => string;
  /** The Stack document (where the platform component is said to come from when no Networking document says it). */
  stackSource: SourceRef;
  stackDir: string;
  /** A problem of a component, at a pointer of its document. */
  reportComponent: (id: string, pointer: string, message: string) => void;
}

const kindOf = (d: StackDoc): string => String((d.data as { kind?: unknown } | null)?.kind ?? '');
const specOf = (d: StackDoc): Spec => ((d.data as { spec?: Spec } | null)?.spec ?? {}) as Spec;
const listOf = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
const platformRef = (output: PlatformOutput) => ({ valueFrom: { component: PLATFORM_ID, output } });

/**
 * Adds stack/platform (and its service `stack`) to the stack when it has anything to share, and
 * gives every component its `_stack`. Returns the problems found (a reserved service name, a
 * second Networking or Observability document, a role naming an unknown policy or component).
 */
export function addAwsPlatform(input: PlatformInput): PendingProblem[] {
  const problems: PendingProblem[] = [];
  const at = (d: StackDoc, pointer: string, message: string): void => {
    problems.push(pendingAt(overlayCandidates(d.sources), pointer, { document: labelOf(d.data), message, rule: 'aws' }));
  };
  const single = (kind: string): StackDoc | undefined => {
    const found = input.docs.filter((d) => kindOf(d) === kind);
    for (const extra of found.slice(1))
      at(extra, '/metadata/name', `a stack has one ${kind} document; ${labelOf(found[0]!.data)} is the first`);
    return found[0];
  };
  const serviceDoc = input.docs.find(
    (d) => kindOf(d) === 'Service' && (d.data as { metadata?: { name?: unknown } }).metadata?.name === PLATFORM_SERVICE,
  );
  if (serviceDoc)
    at(
      serviceDoc,
      '/metadata/name',
      `the service name "${PLATFORM_SERVICE}" is reserved on the aws target: the stack's network, security groups, keys and cluster deploy as ${PLATFORM_ID}`,
    );
  const networking = single('Networking');
  const observability = single('Observability');
  const security = input.docs.filter((d) => kindOf(d) === 'Security');
  const policies = new Map(
    security.flatMap((d) => listOf<{ name: string }>((specOf(d)['iam'] as Spec | undefined)?.['policies']).map((p) => [p.name, p])),
  );

  const platform = platformSpec(input, networking, security, observability);
  if (platform) addPlatform(input, platform, networking);
  const provides = new Set<PlatformOutput>(platform ? platformOutputs(platform) : []);

  const roles = attachedRoles(input, security, policies, at);
  const buckets = bucketAccess(input.components);
  checkSecurityGroupNames(input, security, at);
  for (const c of input.components.values()) {
    if (c.id === PLATFORM_ID) {
      c.spec[STACK_INFRA_KEY] = {
        stack: input.stack,
        environment: input.environment,
        region: regionOfStack(input),
        platform: {},
        observability: { ...usedObservability(c.kind, observability), alarms: [] },
        iam: { roles: [] },
        grants: [],
        attachments: [],
      } satisfies StackInfra;
      continue;
    }
    const alarms = alarmsOf(c, observability, input.environment);
    const wanted: PlatformOutput[] = [];
    if (VPC_KINDS.has(c.kind)) wanted.push('vpcId', 'subnetIds', 'securityGroupIds');
    if (CONTAINER_KINDS.has(c.kind)) wanted.push('clusterArn', 'clusterName');
    // An EventBridge rule that runs a CronJob's task runs it on the stack's cluster, in its subnets.
    if (c.kind === 'EventBridge' && runsCronJob(c, input.components)) wanted.push('clusterArn', 'subnetIds');
    if (
      namesKey(c.spec, platform) ||
      (ROLE_KINDS.has(c.kind) && grantsOf(c, input.components).some((g) => namesKey({ k: g.kmsKeyId }, platform)))
    )
      wanted.push('kmsKeyArns');
    if (alarms.length > 0) wanted.push('alertTopicArn');
    const infra: StackInfra = {
      stack: input.stack,
      environment: input.environment,
      region: input.regionOf(c),
      platform: Object.fromEntries(wanted.filter((o) => provides.has(o)).map((o) => [o, platformRef(o)])),
      observability: { ...usedObservability(c.kind, observability), alarms },
      iam: { roles: ROLE_KINDS.has(c.kind) ? (roles.get(c.id) ?? []) : [], ...boundaryOf(security) },
      grants: ROLE_KINDS.has(c.kind) ? grantsOf(c, input.components) : [],
      attachments: attachmentsOf(c, input),
      ...(buckets.has(c.id) ? { bucketAccess: buckets.get(c.id)! } : {}),
    };
    c.spec[STACK_INFRA_KEY] = infra;
  }
  return problems;
}

/**
 * Security group names (in components' `network.securityGroups` and in the groups' own rules)
 * must be groups of the stack's Security documents; `sg-` ids and valueFroms are taken as they are.
 */
function checkSecurityGroupNames(
  input: PlatformInput,
  security: StackDoc[],
  at: (d: StackDoc, pointer: string, message: string) => void,
): void {
  const groups = security.flatMap((d) => listOf<{ name?: unknown }>(specOf(d)['securityGroups']).map((g) => String(g.name)));
  const known = new Set(groups);
  const unknown = (name: unknown): name is string => typeof name === 'string' && !name.startsWith('sg-') && !known.has(name);
  const hint = (name: string): string => {
    const near = closest(name, groups);
    return near
      ? `; did you mean "${near}"?`
      : groups.length
        ? `; the stack's groups: ${groups.join(', ')}`
        : '; the stack has no Security document with securityGroups';
  };
  for (const c of input.components.values()) {
    listOf<unknown>((c.spec['network'] as Spec | undefined)?.['securityGroups']).forEach((g, i) => {
      if (unknown(g))
        input.reportComponent(
          c.id,
          `/spec/network/securityGroups/${i}`,
          `no security group "${g}" in the stack's Security documents${hint(g)}`,
        );
    });
  }
  for (const d of security)
    listOf<Spec>(specOf(d)['securityGroups']).forEach((g, i) =>
      (['ingress', 'egress'] as const).forEach((direction) =>
        listOf<Spec>(g[direction]).forEach((rule, j) =>
          listOf<unknown>(rule['securityGroups']).forEach((name, k) => {
            if (unknown(name))
              at(
                d,
                `/spec/securityGroups/${i}/${direction}/${j}/securityGroups/${k}`,
                `no security group "${name}" in the stack's Security documents${hint(name)}`,
              );
          }),
        ),
      ),
    );
}

/** The spec of stack/platform, or undefined when the stack shares nothing. */
function platformSpec(
  input: PlatformInput,
  networking: StackDoc | undefined,
  security: StackDoc[],
  observability: StackDoc | undefined,
): Spec | undefined {
  const spec: Spec = {};
  if (networking) spec['networking'] = specOf(networking);
  const groups = security.flatMap((d) => listOf<unknown>(specOf(d)['securityGroups']));
  const keys = security.flatMap((d) => listOf<unknown>(specOf(d)['kmsKeys']));
  if (groups.length > 0) spec['securityGroups'] = groups;
  if (keys.length > 0) spec['kmsKeys'] = keys;
  if ([...input.components.values()].some((c) => CONTAINER_KINDS.has(c.kind))) {
    const metrics = (observability ? specOf(observability)['metrics'] : undefined) as Spec | undefined;
    spec['cluster'] = { containerInsights: metrics?.['containerInsights'] === true };
  }
  const notifications = (observability ? specOf(observability)['notifications'] : undefined) as Spec | undefined;
  if (notifications && Object.keys(notifications).length > 0) spec['alerts'] = notifications;
  if (Object.keys(spec).length === 0) return undefined;
  const tags = Object.assign({}, ...[networking, ...security].map((d) => (d ? specOf(d)['tags'] : undefined) ?? {})) as Record<
    string,
    string
  >;
  return { ...spec, tags };
}

/** The platform deploys in the stack's region (that of InfraDefaults or the Stack). */
function regionOfStack(input: PlatformInput): string {
  const first = [...input.components.values()].find((c) => c.id !== PLATFORM_ID && typeof c.spec['region'] !== 'string');
  return first ? input.regionOf(first) : input.regionOf({ spec: {} } as DesiredComponent);
}

/** What stack/platform makes, by its spec. */
function platformOutputs(spec: Spec): PlatformOutput[] {
  const out: PlatformOutput[] = [];
  if (spec['networking']) out.push('vpcId', 'subnetIds');
  if (spec['networking'] || spec['securityGroups']) out.push('securityGroupIds');
  if (spec['kmsKeys']) out.push('kmsKeyArns');
  if (spec['cluster']) out.push('clusterArn', 'clusterName');
  if (spec['alerts']) out.push('alertTopicArn');
  if ((spec['networking'] as { dns?: { privateZone?: unknown } } | undefined)?.dns?.privateZone) out.push('privateZoneId');
  return out;
}

function addPlatform(input: PlatformInput, spec: Spec, networking: StackDoc | undefined): void {
  const source: SourceRef = networking
    ? { file: networking.sources[0]!.file, display: networking.sources[0]!.display, docIndex: networking.sources[0]!.docIndex }
    : input.stackSource;
  input.services.set(PLATFORM_SERVICE, { name: PLATFORM_SERVICE, owner: 'platform', source: input.stackSource });
  input.components.set(PLATFORM_ID, {
    id: PLATFORM_ID,
    service: PLATFORM_SERVICE,
    name: 'platform',
    kind: PLATFORM_KIND,
    target: 'aws',
    spec,
    dependsOn: [],
    references: [],
    baseDir: input.stackDir,
    source,
    specHash: '',
  });
}

/** Does the spec name one of the platform's KMS keys (by name, or by its alias alias/<stack>-<env>-<name>)? */
function namesKey(spec: Spec, platform: Spec | undefined): boolean {
  const keys = listOf<{ name: string }>(platform?.['kmsKeys']).map((k) => k.name);
  if (keys.length === 0) return false;
  const text = JSON.stringify(spec);
  return keys.some((k) => text.includes(`"${k}"`) || text.includes(`-${k}"`));
}

/** Security's roles by the component they are attached to, each with its named policies given whole. */
function attachedRoles(
  input: PlatformInput,
  security: StackDoc[],
  policies: Map<string, { name: string }>,
  at: (d: StackDoc, pointer: string, message: string) => void,
): Map<string, AttachedRole[]> {
  const out = new Map<string, AttachedRole[]>();
  for (const d of security) {
    listOf<Spec>((specOf(d)['iam'] as Spec | undefined)?.['roles']).forEach((role, i) => {
      const named = listOf<string>(role['policies']);
      named.forEach((p, j) => {
        if (!policies.has(p)) at(d, `/spec/iam/roles/${i}/policies/${j}`, `no policy "${p}" in the stack's Security documents`);
      });
      const { attachTo, policies: _names, ...rest } = role;
      const attached = { ...rest, policies: named.flatMap((p) => (policies.has(p) ? [policies.get(p)!] : [])) } as AttachedRole;
      listOf<string>(attachTo).forEach((id, j) => {
        const c = input.components.get(id);
        if (!c) return at(d, `/spec/iam/roles/${i}/attachTo/${j}`, `unknown component "${id}"`);
        if (!ROLE_KINDS.has(c.kind))
          return at(
            d,
            `/spec/iam/roles/${i}/attachTo/${j}`,
            `${id} is ${article(c.kind)} ${c.kind}, which runs with no role; roles attach to ${[...ROLE_KINDS].join(', ')}`,
          );
        out.set(id, [...(out.get(id) ?? []), attached]);
      });
    });
  }
  return out;
}

function boundaryOf(security: StackDoc[]): { permissionsBoundary?: string } {
  const b = security.map((d) => (specOf(d)['iam'] as Spec | undefined)?.['permissionsBoundary']).find((x) => typeof x === 'string');
  return typeof b === 'string' ? { permissionsBoundary: b } : {};
}

/**
 * The access each component `c` references gives it, least privilege: a Worker (and a Lambda
 * reading its event sources) consumes the queues it names; anything else uses what it names
 * (sends to a queue, publishes to a topic, reads and writes a bucket or a table ...).
 */
function grantsOf(c: DesiredComponent, components: ReadonlyMap<string, DesiredComponent>): Grant[] {
  const grants = new Map<string, Grant>();
  for (const r of collectReferences(withoutInfra(c.spec))) {
    // A function's code in a bucket is read by Lambda when the function is made, not by the function.
    if (r.path.startsWith('/code/')) continue;
    const target = components.get(r.component);
    if (!target || !GRANTABLE_KINDS.has(target.kind)) continue;
    const eventSource = c.kind === 'Lambda' && r.path.startsWith('/events/');
    const access: Access = eventSource || (c.kind === 'Worker' && target.kind === 'SQS') ? 'consume' : 'use';
    const kmsKeyId = (target.spec['encryption'] as { kmsKeyId?: unknown } | undefined)?.kmsKeyId;
    grants.set(`${r.component} ${access}`, {
      component: r.component,
      kind: target.kind,
      access,
      arn: { valueFrom: { component: r.component, output: 'arn' } },
      // Using what a key encrypts takes the key too (to encrypt a message, to read one).
      ...(typeof kmsKeyId === 'string' ? { kmsKeyId } : {}),
    });
  }
  return [...grants.values()].sort((a, b) => a.component.localeCompare(b.component) || a.access.localeCompare(b.access));
}

/** Whether one of an EventBridge component's rules targets a CronJob of the stack (its task definition). */
function runsCronJob(c: DesiredComponent, components: ReadonlyMap<string, DesiredComponent>): boolean {
  return collectReferences(c.spec).some((r) => r.path.startsWith('/rules/') && components.get(r.component)?.kind === 'CronJob');
}

function withoutInfra(spec: Spec): Spec {
  const { [STACK_INFRA_KEY]: _infra, ...rest } = spec;
  return rest;
}

/** The load balancers that named `c` as a target, each with its listeners and the entry routing to `c`. */
function attachmentsOf(c: DesiredComponent, input: PlatformInput): LoadBalancerAttachment[] {
  return (input.attachments.get(c.id) ?? []).map((a) => {
    const lb = input.components.get(a.to)!;
    const listeners = listOf<Spec>(lb.spec['listeners']).map((l) => ({ port: Number(l['port']), protocol: String(l['protocol'] ?? '') }));
    return {
      loadBalancer: a.to,
      kind: a.kind as 'ALB' | 'NLB',
      listenerArns: { valueFrom: { component: a.to, output: 'listenerArns' } },
      url: { valueFrom: { component: a.to, output: a.kind === 'NLB' ? 'dnsName' : 'url' } },
      listeners,
      route: a.entry,
    };
  });
}
