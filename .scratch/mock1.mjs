const t0 = performance.now();
const pulumi = await import('@pulumi/pulumi');
const t1 = performance.now();
const ecs = await import('@pulumi/aws/ecs/index.js');
const s3 = await import('@pulumi/aws/s3/index.js');
const t2 = performance.now();
const seen = [];
await pulumi.runtime.setMocks({
  newResource(args) { seen.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider }); return { id: args.name + '-id', state: { ...args.inputs, arn: `arn:aws:${args.type}:${args.name}` } }; },
  call(args) { return args.inputs; },
}, 'proj', 'stack', false);
const b = new s3.Bucket('assets', { bucket: 'x', tags: { a: '1' } });
const c = new ecs.Cluster('c', {});
const arn = await new Promise((r) => b.arn.apply(r));
console.log({ importPulumi: t1 - t0, importAws: t2 - t1, arn, seen });
const t3 = performance.now(); const aws = await import('@pulumi/aws'); console.log('all aws', performance.now() - t3);
