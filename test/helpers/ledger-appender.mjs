// One writer in a race of processes appending to one ledger (test/helpers/ledger-race.mjs).
// Usage: node ledger-appender.mjs <ledger location> <id prefix> <count>
// Prints "ready" once the ledger is open, waits for a line on stdin, then records `count`
// deployments one write at a time (ids <prefix>-0 ...), as fast as it can, and exits 0.
const { openLedger } = await import(new URL('../../dist/ledger/index.js', import.meta.url).href);

const [location, prefix, countArg] = process.argv.slice(2);
const count = Number(countArg);
const ledger = openLedger(location);
await ledger.listDeployments({ limit: 1 }); // connected, migrated
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const base = Date.parse('2026-01-01T00:00:00.000Z');
for (let i = 0; i < count; i++) {
  const started = new Date(base + i * 1000).toISOString();
  await ledger.recordDeployment({
    id: `${prefix}-${i}`,
    stack: 'race',
    service: prefix,
    version: `v${i}`,
    environment: 'prod',
    type: 'rolling',
    started,
    completed: started,
    status: 'success',
    initiator: `writer-${process.pid}`,
    metadata: {},
    parentId: null,
  });
}
await ledger.close();
process.exit(0);
