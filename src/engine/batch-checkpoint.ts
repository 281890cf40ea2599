/**
 * Several component stacks' checkpoints as one, and back (pure). Components that are ready at
 * the same moment share one Pulumi operation on a transient stack (batch-operation.ts); each
 * keeps its own checkpoint before and after it. Merging renames every resource of member `M`
 * from `urn:pulumi:M::P::T::N` to `urn:pulumi:OP::P::T::M~N` (the name its program registers in
 * the resource scope, util/resource-scope.ts), folds the members' root stacks into the op's (its
 * outputs keyed by member) and their default providers into one; splitting undoes exactly that.
 * Every field that holds a URN is rewritten: parent, provider references (`urn::id`),
 * dependencies, property dependencies, deletedWith, replaceWith, viewOf, aliases, and the
 * pending operations.
 */
import { InternalError } from '../errors.js';
import { SCOPE_SEPARATOR } from '../util/resource-scope.js';

/** A resource in a checkpoint (only the fields deployer rewrites are typed). */
export interface CheckpointResource {
  urn: string;
  type: string;
  id?: string;
  parent?: string;
  provider?: string;
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  deletedWith?: string;
  replaceWith?: string[];
  viewOf?: string;
  aliases?: string[];
  outputs?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface PendingOperation {
  resource: CheckpointResource;
  type: string;
  [field: string]: unknown;
}

export interface Deployment {
  manifest: Record<string, unknown>;
  secrets_providers?: { type: string; state?: { salt?: string } };
  resources?: CheckpointResource[];
  pending_operations?: PendingOperation[];
  [field: string]: unknown;
}

/** A DIY backend's stack file: `.pulumi/stacks/<project>/<stack>.json`. */
export interface CheckpointFile {
  version: number;
  checkpoint: { stack: string; latest?: Deployment | null; [field: string]: unknown };
}

const ROOT_TYPE = 'pulumi:pulumi:Stack';
/** Marks a secret value in a checkpoint (Pulumi's signature key). */
const SECRET_SIGNATURE = '4dabf18193072939515e22adb298388d';

interface Urn {
  stack: string;
  project: string;
  type: string;
  name: string;
}

function parseUrn(urn: string): Urn {
  const parts = urn.startsWith('urn:pulumi:') ? urn.slice('urn:pulumi:'.length).split('::') : [];
  if (parts.length < 4) throw new InternalError(`not a Pulumi URN: ${urn}`);
  return { stack: parts[0]!, project: parts[1]!, type: parts[2]!, name: parts.slice(3).join('::') };
}

const formatUrn = (u: Urn): string => `urn:pulumi:${u.stack}::${u.project}::${u.type}::${u.name}`;
const lastType = (type: string): string => type.split('$').pop()!;
const isRoot = (u: Urn): boolean => u.type === ROOT_TYPE;
// Pulumi names a default provider `default`, or `default_<version>` for a pinned version.
const isDefaultProvider = (u: Urn): boolean =>
  lastType(u.type).startsWith('pulumi:providers:') && (u.name === 'default' || /^default_\d/.test(u.name));
/** The only provider a shared operation may give every member: the dynamic provider, which has no configuration. */
const SHAREABLE_PROVIDER = 'pulumi:providers:pulumi-nodejs';
export const rootUrn = (stack: string, project: string): string =>
  formatUrn({ stack, project, type: ROOT_TYPE, name: `${project}-${stack}` });

/** The member a URN of the op stack belongs to (undefined for the root and shared providers). */
export function memberOfUrn(urn: string): string | undefined {
  const u = parseUrn(urn);
  const at = u.name.indexOf(SCOPE_SEPARATOR);
  return isRoot(u) || at < 0 ? undefined : u.name.slice(0, at);
}

/** The resource's name as its component's program gave it (the scope removed). */
export function unscopedName(urn: string): string {
  const { name } = parseUrn(urn);
  const at = name.indexOf(SCOPE_SEPARATOR);
  return at < 0 ? name : name.slice(at + 1);
}

/**
 * Whether the checkpoint's resources may join a shared operation: every provider they use is the
 * dynamic provider (a member's own AWS provider, say, has settings the op could not keep apart).
 */
export function shareableProviders(file: CheckpointFile | undefined): boolean {
  return (file?.checkpoint.latest?.resources ?? []).every(
    (r) => !lastType(r.type).startsWith('pulumi:providers:') || r.type === SHAREABLE_PROVIDER,
  );
}

/** The salt of the passphrase the checkpoint's secrets are encrypted under, if any. */
export function saltOf(file: CheckpointFile | undefined): string | undefined {
  return file?.checkpoint.latest?.secrets_providers?.state?.salt;
}

/** Whether the checkpoint holds any encrypted value (then only a batch under its salt can read it). */
export function holdsSecrets(file: CheckpointFile | undefined): boolean {
  return file !== undefined && JSON.stringify(file.checkpoint.latest ?? {}).includes(SECRET_SIGNATURE);
}

/** Rewrites every URN a resource holds with `map` (provider references: `urn::id`, with `mapRef`). */
function rewrite(r: CheckpointResource, map: (urn: string) => string, mapRef: (ref: string) => string): CheckpointResource {
  const out: CheckpointResource = { ...r, urn: map(r.urn) };
  if (r.parent) out.parent = map(r.parent);
  if (r.provider) out.provider = mapRef(r.provider);
  if (r.dependencies) out.dependencies = r.dependencies.map(map);
  if (r.propertyDependencies)
    out.propertyDependencies = Object.fromEntries(Object.entries(r.propertyDependencies).map(([k, v]) => [k, v.map(map)]));
  if (r.deletedWith) out.deletedWith = map(r.deletedWith);
  if (r.replaceWith) out.replaceWith = r.replaceWith.map(map);
  if (r.viewOf) out.viewOf = map(r.viewOf);
  if (r.aliases) out.aliases = r.aliases.map(map);
  return out;
}

function splitRef(ref: string): { urn: string; id: string } {
  const at = ref.lastIndexOf('::');
  return { urn: ref.slice(0, at), id: ref.slice(at + 2) };
}

export interface MergeMember {
  stack: string;
  checkpoint: CheckpointFile | undefined;
  /**
   * For a member being destroyed: the members whose resources must be deleted before its own.
   * Their resources are made to depend on its resources (Pulumi deletes dependents first, and
   * skips what a failed delete still depends on); the split drops those dependencies again.
   */
  after?: readonly string[];
}

/** The members' checkpoints as the op stack's one (`manifest` when no member has a checkpoint yet). */
export function mergeCheckpoints(op: string, project: string, members: MergeMember[], manifest: Record<string, unknown>): CheckpointFile {
  const opRoot = rootUrn(op, project);
  let root: CheckpointResource | undefined;
  const rootOutputs: Record<string, unknown> = {};
  const providers = new Map<string, CheckpointResource>(); // by op URN: the first member's wins
  const resources: CheckpointResource[] = [];
  const pending: PendingOperation[] = [];
  let latest: Deployment | undefined;
  for (const m of members) {
    const d = m.checkpoint?.checkpoint.latest;
    if (!d) continue;
    latest ??= d;
    const providerIds = new Map<string, string>(); // member provider URN -> op provider id
    for (const r of d.resources ?? []) {
      const u = parseUrn(r.urn);
      if (isDefaultProvider(u)) {
        const opUrn = formatUrn({ ...u, stack: op });
        if (!providers.has(opUrn)) providers.set(opUrn, { ...r, urn: opUrn });
        providerIds.set(r.urn, providers.get(opUrn)!.id ?? '');
      }
    }
    const map = (urn: string): string => {
      const u = parseUrn(urn);
      if (isRoot(u)) return opRoot;
      if (isDefaultProvider(u)) return formatUrn({ ...u, stack: op });
      return formatUrn({ ...u, stack: op, name: `${m.stack}${SCOPE_SEPARATOR}${u.name}` });
    };
    const mapRef = (ref: string): string => {
      const { urn, id } = splitRef(ref);
      return `${map(urn)}::${providerIds.get(urn) ?? id}`;
    };
    for (const r of d.resources ?? []) {
      const u = parseUrn(r.urn);
      if (isRoot(u)) {
        root ??= { ...r, urn: opRoot };
        rootOutputs[m.stack] = r.outputs ?? {};
      } else if (!isDefaultProvider(u)) resources.push(rewrite(r, map, mapRef));
    }
    for (const p of d.pending_operations ?? []) pending.push({ ...p, resource: rewrite(p.resource, map, mapRef) });
  }
  orderDeletes(resources, members);
  const all = [...(root ? [{ ...root, outputs: rootOutputs }] : []), ...providers.values(), ...resources];
  const { resources: _r, pending_operations: _p, secrets_providers: _s, ...rest } = latest ?? { manifest, metadata: {} };
  // The secrets manager of a member whose checkpoint holds encrypted values (their salt decrypts
  // them; members holding none can take any), whatever the order of the members.
  const salted = [...members]
    .sort((a, b) => Number(holdsSecrets(b.checkpoint)) - Number(holdsSecrets(a.checkpoint)))
    .map((m) => m.checkpoint?.checkpoint.latest?.secrets_providers)
    .find((s) => s?.state?.salt);
  return {
    version: 3,
    checkpoint: {
      stack: `organization/${project}/${op}`,
      latest: {
        ...rest,
        ...(salted ? { secrets_providers: salted } : {}),
        ...(all.length > 0 ? { resources: all } : {}),
        ...(pending.length > 0 ? { pending_operations: pending } : {}),
      },
    },
  };
}

/**
 * Makes the resources of each member that must be deleted first depend on those of the member
 * that follows it, through the whole chain of `after` (a member with no resources of its own
 * between them still orders the two).
 */
function orderDeletes(resources: CheckpointResource[], members: MergeMember[]): void {
  const byMember = new Map<string, CheckpointResource[]>();
  for (const r of resources) {
    const m = memberOfUrn(r.urn)!;
    const list = byMember.get(m);
    if (list) list.push(r);
    else byMember.set(m, [r]);
  }
  const afterOf = new Map(members.map((m) => [m.stack, m.after ?? []]));
  const firsts = (stack: string, seen = new Set<string>()): Set<string> => {
    for (const a of afterOf.get(stack) ?? []) if (!seen.has(a)) firsts(a, seen.add(a));
    return seen;
  };
  for (const m of members) {
    const own = (byMember.get(m.stack) ?? []).map((r) => r.urn);
    if (own.length === 0) continue;
    for (const first of firsts(m.stack)) for (const r of byMember.get(first) ?? []) r.dependencies = [...(r.dependencies ?? []), ...own];
  }
}

/**
 * The op stack's checkpoint as one checkpoint per member: `members` are the stacks that took
 * part (a member that had nothing and got nothing is absent from the result: no stack to keep).
 */
export function splitCheckpoint(op: string, project: string, file: CheckpointFile, members: string[]): Map<string, CheckpointFile> {
  const d = file.checkpoint.latest;
  const out = new Map<string, CheckpointFile>();
  if (!d) return out;
  const opRoot = rootUrn(op, project);
  const root = (d.resources ?? []).find((r) => r.urn === opRoot);
  const providers = (d.resources ?? []).filter((r) => isDefaultProvider(parseUrn(r.urn)));
  for (const m of members) {
    const map = (urn: string): string => {
      const u = parseUrn(urn);
      if (isRoot(u)) return rootUrn(m, project);
      if (isDefaultProvider(u)) return formatUrn({ ...u, stack: m });
      const owner = memberOfUrn(urn);
      if (owner !== m) throw new InternalError(`${m}'s resource refers to ${urn}, which is not its own`);
      return formatUrn({ ...u, stack: m, name: unscopedName(urn) });
    };
    const mapRef = (ref: string): string => {
      const { urn, id } = splitRef(ref);
      return `${map(urn)}::${id}`;
    };
    const own = (d.resources ?? []).filter((r) => memberOfUrn(r.urn) === m).map((r) => rewrite(withOwnDependencies(r, m), map, mapRef));
    const pending = (d.pending_operations ?? [])
      .filter((p) => memberOfUrn(p.resource.urn) === m)
      .map((p) => ({ ...p, resource: rewrite(withOwnDependencies(p.resource, m), map, mapRef) }));
    if (own.length === 0 && pending.length === 0) continue;
    const used = new Set(own.map((r) => (r.provider ? splitRef(r.provider).urn : '')));
    const memberProviders = providers.filter((p) => used.has(formatUrn({ ...parseUrn(p.urn), stack: m })));
    const memberRoot = root
      ? [{ ...root, urn: rootUrn(m, project), outputs: ((root.outputs ?? {})[m] ?? {}) as Record<string, unknown> }]
      : [];
    const { resources: _r, pending_operations: _p, ...rest } = d;
    out.set(m, {
      version: file.version,
      checkpoint: {
        stack: `organization/${project}/${m}`,
        latest: {
          ...rest,
          resources: [...memberRoot, ...memberProviders.map((p) => ({ ...p, urn: formatUrn({ ...parseUrn(p.urn), stack: m }) })), ...own],
          ...(pending.length > 0 ? { pending_operations: pending } : {}),
        },
      },
    });
  }
  return out;
}

/** Without the dependencies on other members' resources the merge added to order deletes. */
function withOwnDependencies(r: CheckpointResource, member: string): CheckpointResource {
  const other = (u: string): boolean => ![undefined, member].includes(memberOfUrn(u));
  if (!r.dependencies?.some(other)) return r;
  const own = r.dependencies.filter((u) => !other(u));
  // Pulumi leaves an empty list out of a checkpoint.
  const { dependencies: _d, ...rest } = r;
  return own.length > 0 ? { ...rest, dependencies: own } : rest;
}

/** The members an op stack's checkpoint holds resources of (for the split of a dead run's op). */
export function membersOf(file: CheckpointFile): string[] {
  const d = file.checkpoint.latest;
  const urns = [...(d?.resources ?? []).map((r) => r.urn), ...(d?.pending_operations ?? []).map((p) => p.resource.urn)];
  return [...new Set(urns.map(memberOfUrn).filter((m): m is string => m !== undefined))];
}
