/**
 * Merging component checkpoints into one op stack's and splitting it back: every URN a resource
 * holds is renamed both ways, default providers are shared, secrets keep their salt, and a member
 * whose resources are all gone has no checkpoint left.
 */
import { describe, expect, it } from 'vitest';
import { holdsSecrets, membersOf, mergeCheckpoints, shareableProviders, splitCheckpoint, type CheckpointFile } from './batch-checkpoint.js';

const P = 'deployer';
const manifest = { time: '2026-12-03T00:00:00Z', magic: 'm', version: 'v3.259.0' };
const urn = (stack: string, type: string, name: string): string => `urn:pulumi:${stack}::${P}::${type}::${name}`;
const S3 = 'pulumi-nodejs:dynamic/local:S3';
const PROVIDER = 'pulumi:providers:pulumi-nodejs';

function component(stack: string, providerId: string, extra: Partial<CheckpointFile['checkpoint']['latest']> = {}): CheckpointFile {
  const root = urn(stack, 'pulumi:pulumi:Stack', `${P}-${stack}`);
  const provider = urn(stack, PROVIDER, 'default');
  const bucket = urn(stack, S3, 'data');
  return {
    version: 3,
    checkpoint: {
      stack: `organization/${P}/${stack}`,
      latest: {
        manifest,
        secrets_providers: { type: 'passphrase', state: { salt: `salt-of-${stack}` } },
        resources: [
          { urn: root, type: 'pulumi:pulumi:Stack', custom: false, outputs: { url: `file:///${stack}` } },
          { urn: provider, type: PROVIDER, custom: true, id: providerId },
          {
            urn: bucket,
            type: S3,
            custom: true,
            id: `/b/${stack}`,
            parent: root,
            provider: `${provider}::${providerId}`,
            outputs: { path: `/b/${stack}` },
          },
          {
            urn: urn(stack, S3, 'logs'),
            type: S3,
            custom: true,
            id: `/l/${stack}`,
            parent: root,
            provider: `${provider}::${providerId}`,
            dependencies: [bucket],
            propertyDependencies: { source: [bucket] },
          },
        ],
        ...extra,
      },
    },
  };
}

describe('batch checkpoints', () => {
  it('merge renames every URN into the op stack, shares one provider, and split gives each member its own back', () => {
    const a = component('shop.dev.api.a', 'prov-a');
    const b = component('shop.dev.api.b', 'prov-b');
    const merged = mergeCheckpoints(
      'op.1',
      P,
      [
        { stack: 'shop.dev.api.a', checkpoint: a },
        { stack: 'shop.dev.api.b', checkpoint: b },
        { stack: 'shop.dev.api.new', checkpoint: undefined },
      ],
      manifest,
    );
    const resources = merged.checkpoint.latest!.resources!;
    expect(merged.checkpoint.stack).toBe('organization/deployer/op.1');
    expect(resources.map((r) => r.urn)).toEqual([
      urn('op.1', 'pulumi:pulumi:Stack', 'deployer-op.1'),
      urn('op.1', PROVIDER, 'default'),
      urn('op.1', S3, 'shop.dev.api.a~data'),
      urn('op.1', S3, 'shop.dev.api.a~logs'),
      urn('op.1', S3, 'shop.dev.api.b~data'),
      urn('op.1', S3, 'shop.dev.api.b~logs'),
    ]);
    // One provider for all: b's resources point at the provider a brought.
    expect(resources[4]!.provider).toBe(`${urn('op.1', PROVIDER, 'default')}::prov-a`);
    expect(resources[5]).toMatchObject({
      parent: urn('op.1', 'pulumi:pulumi:Stack', 'deployer-op.1'),
      dependencies: [urn('op.1', S3, 'shop.dev.api.b~data')],
      propertyDependencies: { source: [urn('op.1', S3, 'shop.dev.api.b~data')] },
    });
    expect(resources[0]!.outputs).toEqual({
      'shop.dev.api.a': { url: 'file:///shop.dev.api.a' },
      'shop.dev.api.b': { url: 'file:///shop.dev.api.b' },
    });
    expect(membersOf(merged).sort()).toEqual(['shop.dev.api.a', 'shop.dev.api.b']);

    const parts = splitCheckpoint('op.1', P, merged, ['shop.dev.api.a', 'shop.dev.api.b', 'shop.dev.api.new']);
    expect([...parts.keys()]).toEqual(['shop.dev.api.a', 'shop.dev.api.b']); // the new one got nothing
    expect(parts.get('shop.dev.api.a')).toEqual(a);
    // b comes back under the shared provider's id (the one Pulumi now knows), everything else as it was.
    const bBack = parts.get('shop.dev.api.b')!.checkpoint.latest!.resources!;
    const bOrig = b.checkpoint.latest!.resources!;
    expect(bBack.map((r) => r.urn)).toEqual(bOrig.map((r) => r.urn));
    expect(bBack[1]!.id).toBe('prov-a');
    expect(bBack[2]!.provider).toBe(`${urn('shop.dev.api.b', PROVIDER, 'default')}::prov-a`);
    expect(bBack[3]).toMatchObject({
      dependencies: bOrig[3]!.dependencies,
      propertyDependencies: bOrig[3]!.propertyDependencies,
      parent: bOrig[3]!.parent,
    });
    expect(bBack[0]!.outputs).toEqual({ url: 'file:///shop.dev.api.b' });
  });

  it('pending operations follow their resource both ways', () => {
    const stack = 'shop.dev.api.a';
    const pending = [
      { type: 'creating', resource: { urn: urn(stack, S3, 'half'), type: S3, parent: urn(stack, 'pulumi:pulumi:Stack', `${P}-${stack}`) } },
    ];
    const a = component(stack, 'p', { pending_operations: pending });
    const merged = mergeCheckpoints('op.2', P, [{ stack, checkpoint: a }], manifest);
    expect(merged.checkpoint.latest!.pending_operations![0]!.resource.urn).toBe(urn('op.2', S3, `${stack}~half`));
    expect(splitCheckpoint('op.2', P, merged, [stack]).get(stack)!.checkpoint.latest!.pending_operations).toEqual(pending);
  });

  it('a member whose resources were all deleted (a destroy) has no checkpoint left; new members start from the manifest', () => {
    const merged = mergeCheckpoints('op.3', P, [{ stack: 'x.dev.s.new', checkpoint: undefined }], manifest);
    expect(merged).toEqual({ version: 3, checkpoint: { stack: 'organization/deployer/op.3', latest: { manifest, metadata: {} } } });
    const a = component('x.dev.s.gone', 'p');
    const afterDestroy = mergeCheckpoints('op.4', P, [{ stack: 'x.dev.s.gone', checkpoint: a }], manifest);
    afterDestroy.checkpoint.latest!.resources = afterDestroy.checkpoint.latest!.resources!.filter((r) => !r.urn.includes('~'));
    expect(splitCheckpoint('op.4', P, afterDestroy, ['x.dev.s.gone']).size).toBe(0);
  });

  it('knows a checkpoint that holds encrypted values', () => {
    const a = component('s.dev.a.b', 'p');
    expect(holdsSecrets(a)).toBe(false);
    a.checkpoint.latest!.resources![2]!.outputs = {
      token: { '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270', ciphertext: 'v1:x' },
    };
    expect(holdsSecrets(a)).toBe(true);
  });

  it('shares only the dynamic provider, which has no settings; a member with its own provider keeps its operation', () => {
    expect(shareableProviders(undefined)).toBe(true);
    expect(shareableProviders(component('s.dev.a.b', 'p'))).toBe(true);
    const aws = component('s.dev.a.c', 'p');
    aws.checkpoint.latest!.resources!.push({
      urn: urn('s.dev.a.c', 'pulumi:providers:aws', 'default_6_0_0'),
      type: 'pulumi:providers:aws',
      id: 'x',
    });
    expect(shareableProviders(aws)).toBe(false);
  });

  it('renames replaceWith and viewOf like every other URN, and an explicit provider named like a default is no default', () => {
    const stack = 's.dev.a.d';
    const a = component(stack, 'p');
    const rs = a.checkpoint.latest!.resources!;
    rs[3]!.replaceWith = [rs[2]!.urn];
    rs[3]!.viewOf = rs[2]!.urn;
    rs.push({ urn: urn(stack, 'pulumi:providers:pulumi-nodejs', 'defaults'), type: 'pulumi:providers:pulumi-nodejs', id: 'own' });
    const merged = mergeCheckpoints('op.5', P, [{ stack, checkpoint: a }], manifest);
    const m = merged.checkpoint.latest!.resources!;
    expect(m.find((r) => r.urn.endsWith('~logs'))).toMatchObject({
      replaceWith: [urn('op.5', S3, `${stack}~data`)],
      viewOf: urn('op.5', S3, `${stack}~data`),
    });
    expect(m.map((r) => r.urn)).toContain(urn('op.5', 'pulumi:providers:pulumi-nodejs', `${stack}~defaults`));
    expect(splitCheckpoint('op.5', P, merged, [stack]).get(stack)).toEqual(a);
  });
});

describe('batch checkpoints: deletes in order', () => {
  it('makes the resources of what must be deleted first depend on the follower, and the split drops that again', () => {
    const base = component('shop.dev.api.base', 'prov-a');
    const web = component('shop.dev.api.web', 'prov-a');
    // base is deleted after web (web depended on base): listed first, web's resources depend on it.
    const merged = mergeCheckpoints(
      'op.2',
      P,
      [
        { stack: 'shop.dev.api.base', checkpoint: base, after: ['shop.dev.api.web'] },
        { stack: 'shop.dev.api.web', checkpoint: web },
      ],
      manifest,
    );
    const byName = new Map(merged.checkpoint.latest!.resources!.map((r) => [r.urn, r]));
    const baseUrns = [urn('op.2', S3, 'shop.dev.api.base~data'), urn('op.2', S3, 'shop.dev.api.base~logs')];
    expect(byName.get(urn('op.2', S3, 'shop.dev.api.web~data'))!.dependencies).toEqual(baseUrns);
    expect(byName.get(urn('op.2', S3, 'shop.dev.api.web~logs'))!.dependencies).toEqual([
      urn('op.2', S3, 'shop.dev.api.web~data'),
      ...baseUrns,
    ]);
    expect(byName.get(urn('op.2', S3, 'shop.dev.api.base~logs'))!.dependencies).toEqual([urn('op.2', S3, 'shop.dev.api.base~data')]);
    // A failed delete leaves both: each gets back exactly its own checkpoint.
    const parts = splitCheckpoint('op.2', P, merged, ['shop.dev.api.base', 'shop.dev.api.web']);
    expect(parts.get('shop.dev.api.base')!.checkpoint.latest!.resources).toEqual(base.checkpoint.latest!.resources);
    expect(parts.get('shop.dev.api.web')!.checkpoint.latest!.resources).toEqual(web.checkpoint.latest!.resources);
  });

  it('orders through a member with no resources of its own, and a delete killed midway splits back as its own', () => {
    const [net, mid, web] = ['shop.dev.api.net', 'shop.dev.api.mid', 'shop.dev.api.web'];
    const merged = mergeCheckpoints(
      'op.4',
      P,
      [
        { stack: net, checkpoint: component(net, 'p'), after: [mid] },
        { stack: mid, checkpoint: undefined, after: [web] },
        { stack: web, checkpoint: component(web, 'p') },
      ],
      manifest,
    );
    const resources = merged.checkpoint.latest!.resources!;
    const webData = resources.find((r) => r.urn === urn('op.4', S3, `${web}~data`))!;
    expect(webData.dependencies).toEqual([urn('op.4', S3, `${net}~data`), urn('op.4', S3, `${net}~logs`)]);
    // Pulumi records the resource it was deleting, injected dependencies and all, as pending.
    merged.checkpoint.latest!.pending_operations = [{ type: 'deleting', resource: webData }];
    const back = splitCheckpoint('op.4', P, merged, [net, mid, web]).get(web)!.checkpoint.latest!;
    expect(back.pending_operations![0]!.resource).toEqual({
      ...webData,
      urn: urn(web, S3, 'data'),
      parent: urn(web, 'pulumi:pulumi:Stack', `${P}-${web}`),
      provider: expect.any(String) as string,
      dependencies: undefined,
    });
  });

  it('takes the secrets manager of the member holding encrypted values, wherever the order puts it', () => {
    const files = component('shop.dev.api.files', 'p');
    const api = component('shop.dev.api.api', 'p');
    api.checkpoint.latest!.resources![2]!.outputs = {
      token: { '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270', ciphertext: 'v1:x' },
    };
    // files is deleted after api, so it is listed first; api's values decrypt only with api's salt.
    const merged = mergeCheckpoints(
      'op.3',
      P,
      [
        { stack: 'shop.dev.api.files', checkpoint: files, after: ['shop.dev.api.api'] },
        { stack: 'shop.dev.api.api', checkpoint: api },
      ],
      manifest,
    );
    expect(merged.checkpoint.latest!.secrets_providers).toEqual({ type: 'passphrase', state: { salt: 'salt-of-shop.dev.api.api' } });
  });
});
