/**
 * The JSON Schemas in schemas/, field by field (the kinds themselves: schemas.test.ts): secrets
 * are only references, policy rules need their parameters, specific fields take what they say,
 * and the formats of ajv-formats.
 */
import { describe, it, expect } from 'vitest';
import { describeErrors, validate } from '../../test/helpers/schemas.js';
import { type Json, doc } from '../../test/helpers/schema-kinds.js';

describe('schemas: secrets are references', () => {
  const secretRef = { secretRef: { provider: 'aws-secretsmanager', key: 'shop/db-password' } };

  it('refuses a literal masterPassword and accepts a secretRef', () => {
    const literal = validate(doc('RDS', { engine: 'postgres', masterPassword: 'hunter22' }));
    expect(literal.some((e) => e.instancePath === '/spec/masterPassword')).toBe(true);
    expect(describeErrors(validate(doc('RDS', { engine: 'postgres', masterPassword: secretRef })))).toEqual([]);
    expect(validate(doc('DocumentDB', { masterPassword: 'hunter22' })).some((e) => e.instancePath === '/spec/masterPassword')).toBe(true);
  });

  it('refuses literal tokens and passwords elsewhere', () => {
    expect(validate(doc('ElastiCacheRedis', { authToken: 'abc' })).some((e) => e.instancePath === '/spec/authToken')).toBe(true);
    expect(validate(doc('Kafka', { authentication: { users: [{ name: 'app', password: 'pw' }] } })).length).toBeGreaterThan(0);
    expect(
      validate(doc('AWSMemoryDB', { acl: { users: [{ name: 'app', accessString: 'on ~* +@all', password: 'pw' }] } })).length,
    ).toBeGreaterThan(0);
    expect(describeErrors(validate(doc('ElastiCacheRedis', { authToken: secretRef })))).toEqual([]);
  });

  it('accepts a secretRef as an env value, and no other kind of object', () => {
    expect(describeErrors(validate(doc('Worker', { env: { TOKEN: secretRef, N: 3, ON: true } })))).toEqual([]);
    expect(validate(doc('Worker', { env: { TOKEN: { secret: 'x' } } })).length).toBeGreaterThan(0);
    expect(validate(doc('Worker', { env: { TOKEN: { secretRef: { provider: 'vault', key: 'x' } } } })).length).toBeGreaterThan(0);
  });
});

describe('schemas: policy rules', () => {
  const PARAMS: Record<string, Json> = {
    requiredTags: { tags: ['team'] },
    encryptionRequired: {},
    noPublicBuckets: {},
    allowedRegions: { regions: ['eu-west-1'] },
    allowedInstanceClasses: { classes: ['db.t4g.micro'] },
    minBackupRetention: { days: 7 },
    deletionProtection: {},
  };
  const compliance = (rule: Json): Json => doc('Compliance', { rules: [{ name: 'rule', ...rule }] });
  const security = (rule: Json): Json => doc('Security', { rules: [{ name: 'rule', ...rule }] });

  it.each(Object.entries(PARAMS))('%s with its parameters validates, in Compliance and in Security', (type, params) => {
    expect(describeErrors(validate(compliance({ type, ...params })))).toEqual([]);
    expect(
      describeErrors(validate(security({ type, ...params, enforcement: 'advisory', kinds: ['RDS'], environments: ['production'] }))),
    ).toEqual([]);
  });

  it.each(Object.entries(PARAMS).filter(([, p]) => Object.keys(p).length > 0))('%s without its parameter fails', (type, params) => {
    const param = Object.keys(params)[0]!;
    const errors = validate(compliance({ type }));
    expect(
      errors.some((e) => e.keyword === 'required' && (e.params as { missingProperty: string }).missingProperty === param),
      describeErrors(errors).join('\n'),
    ).toBe(true);
    expect(validate(security({ type })).some((e) => e.keyword === 'required')).toBe(true);
  });

  it('refuses a parameter of another type, an unknown type, enforcement or kind, and bad parameter values', () => {
    expect(
      validate(compliance({ type: 'encryptionRequired', days: 7 })).some(
        (e) => e.keyword === 'const' && e.instancePath === '/spec/rules/0/type',
      ),
    ).toBe(true);
    expect(validate(compliance({ type: 'requiredTags', tags: ['team'], regions: ['eu-west-1'] })).length).toBeGreaterThan(0);
    expect(validate(compliance({ type: 'requireTags', tags: ['team'] })).map((e) => e.keyword)).toContain('enum');
    expect(validate(compliance({ type: 'noPublicBuckets', enforcement: 'warn' })).map((e) => e.keyword)).toContain('enum');
    expect(validate(compliance({ type: 'noPublicBuckets', kinds: ['Bucket'] })).map((e) => e.keyword)).toContain('enum');
    expect(validate(compliance({ type: 'requiredTags', tags: [] })).map((e) => e.keyword)).toContain('minItems');
    expect(validate(compliance({ type: 'minBackupRetention', days: 1.5 })).map((e) => e.keyword)).toContain('type');
    expect(validate(compliance({ type: 'allowedRegions', regions: ['europe'] })).map((e) => e.keyword)).toContain('pattern');
    expect(validate(doc('Compliance', { rules: [{ type: 'noPublicBuckets' }] })).map((e) => e.keyword)).toContain('required');
    expect(validate(doc('Compliance', {})).map((e) => e.keyword)).toContain('required');
  });
});

describe('schemas: specific fields', () => {
  it('checks cron expressions of CronJob schedules', () => {
    for (const schedule of ['30 2 * * *', '*/5 * * * *', '0 12 ? * MON-FRI *', '@daily', 'rate(5 minutes)', 'rate(1 hour)']) {
      expect(describeErrors(validate(doc('CronJob', { schedule }))), schedule).toEqual([]);
    }
    for (const schedule of ['every day', '* * *', 'rate(0 minutes)', '@sometimes', '']) {
      expect(validate(doc('CronJob', { schedule })).length, schedule).toBeGreaterThan(0);
    }
  });

  it('ties canary and blue-green settings to their strategy type', () => {
    const ms = (strategy: Json): Json => doc('MicroService', { port: 80, strategy });
    expect(describeErrors(validate(ms({ type: 'canary', canary: { percentage: 10, bakeTime: '10m' } })))).toEqual([]);
    expect(
      describeErrors(validate(ms({ type: 'canary', canary: { steps: [{ percentage: 10, bakeTime: 300 }, { percentage: 50 }] } }))),
    ).toEqual([]);
    expect(describeErrors(validate(ms({ type: 'rolling', maxUnavailable: 0, maxSurge: '50%' })))).toEqual([]);
    expect(validate(ms({ type: 'rolling', canary: { percentage: 10 } })).length).toBeGreaterThan(0);
    expect(validate(ms({ canary: { percentage: 10 } })).length).toBeGreaterThan(0);
    expect(validate(ms({ type: 'canary', canary: { percentage: 10, steps: [{ percentage: 10 }] } })).length).toBeGreaterThan(0);
    expect(validate(ms({ type: 'canary', canary: { bakeTime: '10 minutes' } })).length).toBeGreaterThan(0);
    expect(validate(ms({ type: 'rolling', maxSurge: 'half' })).length).toBeGreaterThan(0);
    expect(validate(doc('MicroService', { port: 80, rollback: 'sometimes' })).length).toBeGreaterThan(0);
  });

  it('accepts ALB targets as <service>/<component>, valueFrom or objects, and CloudFront origins from valueFrom', () => {
    const valueFrom = { valueFrom: { component: 'api/api', output: 'targetGroupArn' } };
    expect(describeErrors(validate(doc('ALB', { targets: ['api/api', valueFrom, { component: 'api/api', paths: ['/api/*'] }] })))).toEqual(
      [],
    );
    expect(validate(doc('ALB', { targets: ['api'] })).length).toBeGreaterThan(0);
    const origin = { name: 'assets', source: { valueFrom: { component: 'data/assets', output: 'regionalDomainName' } } };
    expect(describeErrors(validate(doc('CloudFront', { origins: [origin], defaultBehavior: { origin: 'assets' } })))).toEqual([]);
  });

  it('requires what each variant needs: Lambda code, DynamoDB capacity, EBS size, SQS FIFO options, EventBridge rules', () => {
    expect(describeErrors(validate(doc('Lambda', { code: { image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/fn:1' } })))).toEqual([]);
    expect(validate(doc('Lambda', { code: { path: 'fn' } })).length).toBeGreaterThan(0);
    expect(validate(doc('Lambda', { runtime: 'nodejs20.x', handler: 'a.b', code: { path: 'fn', image: 'x' } })).length).toBeGreaterThan(0);
    expect(validate(doc('DynamoDB', { partitionKey: { name: 'pk' }, billingMode: 'provisioned' })).length).toBeGreaterThan(0);
    expect(
      describeErrors(
        validate(doc('DynamoDB', { partitionKey: { name: 'pk' }, billingMode: 'provisioned', capacity: { read: 5, write: 5 } })),
      ),
    ).toEqual([]);
    expect(validate(doc('EBS', {})).length).toBeGreaterThan(0);
    expect(describeErrors(validate(doc('EBS', { snapshotId: 'snap-0123abcd' })))).toEqual([]);
    expect(validate(doc('SQS', { contentBasedDeduplication: true })).length).toBeGreaterThan(0);
    expect(
      describeErrors(validate(doc('SQS', { fifo: true, contentBasedDeduplication: true, deadLetter: { maxReceiveCount: 3 } }))),
    ).toEqual([]);
    expect(validate(doc('EventBridge', { rules: [{ name: 'r', targets: [{ target: 'jobs/fn' }] }] })).length).toBeGreaterThan(0);
    expect(
      describeErrors(validate(doc('EventBridge', { rules: [{ name: 'r', schedule: 'rate(1 hour)', targets: [{ target: 'jobs/fn' }] }] }))),
    ).toEqual([]);
  });

  it('accepts variables, allowEnv and region in the Stack, and checks them', () => {
    const stack = (extra: Json): Json => doc('Stack', { environments: ['dev'], target: 'aws', ...extra });
    expect(
      describeErrors(
        validate(stack({ region: 'eu-west-1', variables: { tag: '1.0', n: 2, on: true }, allowEnv: ['GIT_SHA', 'CI_PIPELINE_ID'] })),
      ),
    ).toEqual([]);
    expect(validate(stack({ allowEnv: ['not-a-name'] })).map((e) => e.keyword)).toContain('pattern');
    expect(validate(stack({ allowEnv: ['A', 'A'] })).map((e) => e.keyword)).toContain('uniqueItems');
    expect(validate(stack({ region: 'Ireland' })).map((e) => e.keyword)).toContain('pattern');
    expect(validate(doc('RDS', { engine: 'postgres', region: 'eu-west' })).map((e) => e.keyword)).toContain('pattern');
  });
});

describe('formats (ajv-formats)', () => {
  it('checks the webhook URL and the e-mail addresses of Observability', async () => {
    const { loadSchemas: load, validateData: check } = await import('./validate.js');
    const doc = (notifications: object) => ({
      apiVersion: 'infra.deployer.io/v1',
      kind: 'Observability',
      metadata: { name: 'obs' },
      spec: { notifications },
    });
    expect(check(load(), doc({ webhook: { url: 'https://hooks.example.com/alerts' }, emails: ['oncall@example.com'] }))).toEqual([]);
    const bad = check(load(), doc({ emails: ['oncall at example'] }));
    expect(bad.map((f) => [f.pointer, f.rule])).toContainEqual(['/spec/notifications/emails/0', 'format']);
  });
});
