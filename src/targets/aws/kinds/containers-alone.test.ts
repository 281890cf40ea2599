/**
 * What the aws target's containers (MicroService, Worker, CronJob: kinds/microservice.ts,
 * worker.ts, cronjob.ts, ecs.ts, ecs-service.ts) decide by themselves, and containers in stacks
 * the fixture test/fixtures/aws-containers does not show: its schedules read as EventBridge
 * Scheduler does, deployment strategies and rollbacks mapped onto ECS, Fargate's sizes and ECR
 * repositories; then a component translated alone under Pulumi's runtime mocks with the `_stack`
 * a test writes (an OpenTelemetry collector, no security group, an NLB), and what is refused
 * before anything is made.
 */
import { describe, expect, it, vi } from 'vitest';
import { NLB, envOf, ofType, one, statements, translateAlone } from '../../../../test/helpers/aws-containers.js';
import type { StackInfra } from '../../../model/stack-infra.js';
import type { AwsScope } from '../scope.js';
import { scheduleExpression, translateCronJob } from './cronjob.js';
import { capacityProviders, ecrRepositoryArn, fargateSize } from './ecs.js';
import { deploymentOf } from './ecs-service.js';
import { translateMicroService } from './microservice.js';
import { translateWorker } from './worker.js';

describe('what the containers’ translation decides by itself', () => {
  const warn = vi.fn();
  const scope = { id: 'svc/app', pulumi: { log: { warn } } } as unknown as AwsScope;

  it('reads a 5- or 6-field cron, a rate and the @ shortcuts as EventBridge Scheduler does', () => {
    const cases: Array<[string, string]> = [
      ['*/15 * * * *', 'cron(*/15 * * * ? *)'],
      ['0 3 1 * *', 'cron(0 3 1 * ? *)'],
      ['0 9 * * 0', 'cron(0 9 ? * 1 *)'],
      ['0 9 * * 7', 'cron(0 9 ? * 1 *)'],
      ['0 9 * * 5-7', 'cron(0 9 ? * 6-7,1 *)'],
      ['0 9 * * 0-6', 'cron(0 9 ? * 1-7 *)'],
      ['0 9 * * 1,3,5', 'cron(0 9 ? * 2,4,6 *)'],
      ['0 9 * * MON-FRI', 'cron(0 9 ? * MON-FRI *)'],
      ['0 9 * * 1#2', 'cron(0 9 ? * 2#2 *)'],
      ['0 9 * * 5L', 'cron(0 9 ? * 6L *)'],
      ['0 9 ? * 2-6 *', 'cron(0 9 ? * 2-6 *)'],
      ['rate(1 minutes)', 'rate(1 minute)'],
      ['rate(5 hour)', 'rate(5 hours)'],
      ['@hourly', 'cron(0 * * * ? *)'],
      ['@weekly', 'cron(0 0 ? * 1 *)'],
      ['@yearly', 'cron(0 0 1 1 ? *)'],
    ];
    for (const [written, expected] of cases) expect(scheduleExpression(scope, written), written).toBe(expected);
    expect(() => scheduleExpression(scope, '0 9 1 * 1')).toThrow(/both the day of the month and of the week/);
  });

  it('maps canary steps onto ECS: one step is CANARY, equal steps LINEAR, other steps a CANARY baking as long as all', () => {
    const config = (canary: Record<string, unknown>) =>
      deploymentOf(scope, { type: 'canary', canary }, 'auto', 4, true).args.deploymentConfiguration;
    expect(config({ percentage: 20, bakeTime: '5m' })).toEqual({
      strategy: 'CANARY',
      bakeTimeInMinutes: '0',
      canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: '5' },
    });
    expect(config({})).toMatchObject({ canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: '1' } });
    expect(config({ steps: [{ percentage: 25 }, { percentage: 50 }, { percentage: 75 }], bakeTime: '2m' })).toEqual({
      strategy: 'LINEAR',
      bakeTimeInMinutes: '0',
      linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: '2' },
    });
    warn.mockClear();
    expect(config({ steps: [{ percentage: 5, bakeTime: '1m' }, { percentage: 30, bakeTime: '4m' }, { percentage: 100 }] })).toMatchObject({
      strategy: 'CANARY',
      canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: '5' },
    });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('steps 5%, 30% run as a 5% canary baking 5 minutes'));
    expect(config({ steps: [{ percentage: 100 }] })).toEqual({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: '0' });
    // With no load balancer there is no traffic to split: blue-green, said.
    const unbalanced = deploymentOf(scope, { type: 'canary' }, 'auto', 1, false);
    expect(unbalanced).toMatchObject({ shiftsTraffic: false, args: { deploymentConfiguration: { strategy: 'BLUE_GREEN' } } });
    expect(
      deploymentOf(scope, { type: 'canary', timeout: '10m', canary: { percentage: 10, bakeTime: '7m' } }, 'auto', 2, true).timeoutMinutes,
    ).toBe(17);
  });

  it('rolls back the fastest safe way: everything at once beside what serves, no steps, no bake', () => {
    const back = { ...scope, context: { rollback: true } } as unknown as AwsScope;
    expect(deploymentOf(back, { type: 'canary', canary: { percentage: 10, bakeTime: '10m' } }, 'auto', 4, true)).toMatchObject({
      shiftsTraffic: true,
      args: { deploymentConfiguration: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: '0' } },
    });
    expect(deploymentOf(back, { type: 'big-bang' }, 'auto', 4, true).args).toMatchObject({
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
    });
    expect(
      deploymentOf(back, { type: 'blue-green', blueGreen: { terminationWait: '30m' } }, 'auto', 2, true).args.deploymentConfiguration,
    ).toEqual({
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: '0',
    });
  });

  it('turns rolling counts and percentages into ECS’s percents, always able to move', () => {
    const percents = (strategy: Record<string, unknown>, replicas: number) => {
      const a = deploymentOf(scope, strategy, 'off', replicas, false).args;
      return [a.deploymentMinimumHealthyPercent, a.deploymentMaximumPercent];
    };
    expect(percents({}, 4)).toEqual([100, 125]);
    expect(percents({ maxUnavailable: 1, maxSurge: 0 }, 3)).toEqual([66, 100]);
    expect(percents({ maxUnavailable: '25%', maxSurge: '50%' }, 4)).toEqual([75, 150]);
    expect(percents({ maxUnavailable: 0, maxSurge: 0 }, 2)).toEqual([100, 150]);
    expect(percents({ maxSurge: 3 }, 1)).toEqual([100, 200]);
    expect(deploymentOf(scope, {}, 'off', 1, false).args.deploymentCircuitBreaker).toEqual({ enable: true, rollback: false });
  });

  it('refuses what Fargate and the stack’s cluster cannot run, and finds an image’s ECR repository', () => {
    expect(fargateSize(scope, {})).toEqual({ cpu: 256, memory: 512 });
    expect(fargateSize(scope, { cpu: 4096, memory: 30720 })).toEqual({ cpu: 4096, memory: 30720 });
    expect(() => fargateSize(scope, { cpu: 300 })).toThrow(/not 300/);
    expect(() => fargateSize(scope, { cpu: 512, memory: 512 })).toThrow(/1024 to 4096 MiB in steps of 1024, not 512/);
    expect(() => capacityProviders(scope, 'ec2')).toThrow(/Fargate capacity only/);
    expect(ecrRepositoryArn('123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.2')).toBe(
      'arn:aws:ecr:eu-west-1:123456789012:repository/team/api',
    );
    expect(ecrRepositoryArn('123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:abc')).toBe(
      'arn:aws:ecr:eu-west-1:123456789012:repository/api',
    );
    expect(ecrRepositoryArn('ghcr.io/example/api:1')).toBeUndefined();
  });
});

describe('containers in stacks the fixture does not show', () => {
  it('tells an OpenTelemetry collector’s endpoint and sampling to the code, with no daemon beside it', async () => {
    const r = await translateAlone(
      'Worker',
      {},
      {
        observability: {
          alarms: [],
          tracing: { enabled: true, provider: 'otel', sampleRate: 0.25, endpoint: 'http://collector.internal:4317' } as never,
        },
      },
    );
    const defs = JSON.parse(String(one(r, 'aws:ecs/taskDefinition:TaskDefinition').inputs['containerDefinitions'])) as Array<
      Record<string, unknown>
    >;
    expect(defs.map((c) => c['name'])).toEqual(['app']);
    expect(envOf(defs[0]!)).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.internal:4317',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=dev,service.namespace=alone',
      OTEL_SERVICE_NAME: 'svc/app',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    expect(ofType(r.resources, 'aws:xray/samplingRule:SamplingRule')).toEqual([]);
    // No secrets: the execution role reads none.
    expect(statements(one(r, 'aws:iam/rolePolicy:RolePolicy', 'execution-role'))).toHaveLength(1);
  });

  it('gives a MicroService that names no security group one of its own, outbound only, and says nothing can reach it', async () => {
    const r = await translateAlone('MicroService', { port: 8080 });
    expect(one(r, 'aws:ecs/service:Service').inputs['networkConfiguration']).toEqual({
      subnets: ['subnet-a', 'subnet-b'],
      securityGroups: ['tasks-id'],
      assignPublicIp: false,
    });
    expect(ofType(r.resources, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')).toEqual([]);
    expect(r.outputs['url']).toBe('http://tasks.app.svc.dev.alone.internal:8080');
  });

  it('registers a MicroService an NLB names in the target group its listener forwards to (the NLB’s), with no rule', async () => {
    const r = await translateAlone('MicroService', { port: 8080, network: { securityGroups: ['sg-0123'] } }, { attachments: [NLB] });
    expect(ofType(r.resources, 'aws:lb/targetGroup:TargetGroup')).toEqual([]);
    expect(ofType(r.resources, 'aws:lb/listenerRule:ListenerRule')).toEqual([]);
    // The listener's target group is read from AWS when the service deploys: the mocks know none.
    expect(one(r, 'aws:ecs/service:Service').inputs['loadBalancers']).toEqual([
      { containerName: 'app', containerPort: 8443, targetGroupArn: '' },
    ]);
    expect(r.outputs).toMatchObject({ url: 'https://nlb.example.com', targetGroupArn: '' });
    expect(ofType(r.resources, 'aws:servicediscovery/service:Service')).toEqual([]);
  });

  it('refuses, before it makes anything, a queue scaling without Container Insights, a canary behind an NLB, EC2 capacity', () => {
    // Nothing is made: a scope with no AWS module at all does.
    const bare = (kind: string, spec: Record<string, unknown>, infra: Partial<StackInfra> = {}): AwsScope =>
      ({
        id: 'svc/app',
        kind,
        spec: { image: 'ghcr.io/example/app:1', ...spec },
        infra: { platform: { clusterName: 'alone-dev' }, observability: { alarms: [] }, attachments: [], ...infra },
        physicalName: () => 'alone-dev-svc-app',
        platform: (o: string) => ({ clusterName: 'alone-dev' })[o],
        pulumi: { log: { warn: vi.fn() } },
      }) as unknown as AwsScope;
    expect(() =>
      translateWorker(bare('Worker', { autoscaling: { min: 0, max: 2, queue: { source: 'q', targetMessagesPerTask: 10 } } })),
    ).toThrow(/needs ECS Container Insights/);
    // A canary behind an NLB: ECS would shift the NLB's own listener.
    expect(() => translateMicroService(bare('MicroService', { port: 8080, strategy: { type: 'canary' } }, { attachments: [NLB] }))).toThrow(
      /an NLB has none/,
    );
    expect(() => translateWorker(bare('Worker', { launchType: 'ec2' }))).toThrow(/Fargate capacity only/);
    expect(() => translateCronJob(bare('CronJob', { schedule: '0 0 1 * 1', launchType: 'fargate' }))).toThrow(/both the day/);
  });
});
