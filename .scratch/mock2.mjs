const pulumi = await import('@pulumi/pulumi');
const aws = await import('@pulumi/aws');
async function run(program) {
  const seen = [];
  await pulumi.runtime.setMocks({
    newResource(a) { return { id: a.name + '-id', state: { ...a.inputs, arn: 'arn:' + a.name } }; },
    call(a) { return { ...a.inputs, accountId: '123' }; },
  }, 'p', 's', false);
  const monitor = pulumi.runtime.getMonitor();
  const orig = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const obj = req.getObject().toJavaScript();
    seen.push({ type: req.getType(), name: req.getName(), parent: req.getParent(), deps: req.getDependenciesList(), obj: JSON.stringify(obj).slice(0, 300) });
    return orig(req, cb);
  };
  const outs = await pulumi.runtime.runInPulumiStack(program);
  await pulumi.runtime.waitForRPCs?.() ;
  const resolved = await new Promise((r) => pulumi.output(outs).apply(r));
  return { seen, resolved, hasWait: typeof pulumi.runtime.waitForRPCs };
}
const r1 = await run(async () => {
  const p = new aws.Provider('aws', { region: 'eu-west-1' });
  const q = new aws.sqs.Queue('q', { name: 'x', tags: { a: pulumi.secret('s3cr3t') } }, { provider: p });
  const q2 = new aws.sqs.Queue('q2', { name: 'y', redrivePolicy: q.arn.apply(a => JSON.stringify({ a })) }, { provider: p, dependsOn: [q] });
  const id = await aws.getCallerIdentity({}, { provider: p });
  return { arn: q2.arn, acct: id.accountId };
});
console.log(JSON.stringify(r1, null, 1));
const r2 = await run(async () => { const b = new aws.s3.BucketV2('b', {}); return { arn: b.arn }; });
console.log(JSON.stringify(r2.seen.map(s => s.type)), r2.resolved);
