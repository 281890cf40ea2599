// The quick start's API: answers on $PORT, reports its greeting, the bucket it was given and the
// artifact it runs (deployer sets DEPLOYER_ARTIFACT to the digest of what `build` produced).
import http from 'node:http';
import { readdirSync } from 'node:fs';

const port = Number(process.env.PORT ?? 8080);
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  let objects = [];
  try {
    objects = readdirSync(process.env.ASSETS_DIR ?? '.');
  } catch {
    objects = [];
  }
  const body = { greeting: process.env.GREETING ?? 'hello', assets: process.env.ASSETS_DIR ?? null, objects: objects.length, artifact: process.env.DEPLOYER_ARTIFACT ?? null, pid: process.pid };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
