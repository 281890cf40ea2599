/**
 * What the aws target refuses at validation, beyond the schemas (AwsTarget.check): each at the
 * field, with what to write instead, all at once, exit 2, nothing written — before a plan, let
 * alone an apply, could fail on it.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deployer } from '../../../test/helpers/cli.js';
import { removeTestdirs, writeStackDir } from '../../../test/helpers/testdir.js';

afterAll(removeTestdirs);

const doc = (kind: string, name: string, spec: string, group = 'components'): string =>
  `apiVersion: ${group}.deployer.io/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

describe('the aws target refuses at validation', () => {
  it('a container without an image or on EC2, a secret read where deployer runs, no subnets, an ALB logging to a KMS bucket, queue scaling without Container Insights', async () => {
    const dir = writeStackDir({
      'stack.yaml': doc('Stack', 'tmp', '  environments: [dev]\n  target: aws\n  region: eu-west-1\n', 'core'),
      'services/app/service.yaml': doc('Service', 'app', '  owner: me\n', 'core'),
      'services/app/web.yaml': doc(
        'MicroService',
        'web',
        '  port: 8080\n  launchType: ec2\n  env:\n    TOKEN:\n      secretRef: { provider: env, key: WEB_TOKEN }\n',
      ),
      'services/app/work.yaml': doc(
        'Worker',
        'work',
        '  image: example/work:1\n  autoscaling:\n    min: 1\n    max: 3\n    queue:\n      source: app/jobs\n      targetMessagesPerTask: 10\n',
      ),
      'services/app/jobs.yaml': doc('SQS', 'jobs', '  fifo: false\n'),
      'services/app/logs.yaml': doc('S3', 'logs', '  encryption:\n    enabled: true\n    algorithm: aws:kms\n'),
      'services/app/lb.yaml': doc('ALB', 'lb', '  accessLogs:\n    bucket: app/logs\n'),
    });
    const r = await deployer(['validate', '-C', dir, '-e', 'dev']);
    expect(r.code).toBe(2);
    const lines = r.stderr
      .split('\n')
      .filter((l) => l.endsWith('(target:aws)'))
      .map((l) => l.replace(/^.*?services\//, 'services/').replace(/ +/g, ' '));
    expect(lines).toEqual([
      expect.stringMatching(/^services\/app\/lb.yaml:\d+:\d+ ALB\/lb \/kind an ALB on aws is placed in subnets: add a Networking document/),
      expect.stringMatching(
        /^services\/app\/logs.yaml:\d+:\d+ S3\/logs \/spec\/encryption\/algorithm app\/lb writes access logs here, which Elastic Load Balancing does only to a bucket encrypted with S3-managed keys: use algorithm AES256/,
      ),
      expect.stringMatching(/^services\/app\/web.yaml:\d+:\d+ MicroService\/web \/kind a MicroService on aws is placed in subnets/),
      expect.stringMatching(
        /^services\/app\/web.yaml:\d+:\d+ MicroService\/web \/spec\/image the aws target runs MicroService from a container image: set spec.image/,
      ),
      expect.stringMatching(
        /^services\/app\/web.yaml:\d+:\d+ MicroService\/web \/spec\/launchType the stack's ECS cluster has Fargate capacity only/,
      ),
      expect.stringMatching(
        /^services\/app\/web.yaml:\d+:\d+ MicroService\/web \/spec\/env\/TOKEN\/secretRef\/provider on the aws target a secret is read from AWS Secrets Manager/,
      ),
      expect.stringMatching(/^services\/app\/work.yaml:\d+:\d+ Worker\/work \/kind a Worker on aws is placed in subnets/),
      expect.stringMatching(
        /^services\/app\/work.yaml:\d+:\d+ Worker\/work \/spec\/autoscaling\/queue scaling on a queue's backlog per task reads the running task count from Container Insights/,
      ),
    ]);
    // Nothing recorded: no state, no lock, no ledger (at most the parse cache).
    expect(readdirSync(path.join(dir, '.deployer')).filter((f) => f !== 'cache')).toEqual([]);
  });
});
