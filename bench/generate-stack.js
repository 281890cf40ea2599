#!/usr/bin/env node
// Generates a synthetic stack: N services x 10 components (MicroServices and S3 buckets), with
// valueFrom references inside each service, dependsOn between services, a staging overlay for
// every tenth service, and InfraDefaults. Usage: node bench/generate-stack.js <dir> <services>
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function generateStack(dir, services, { padding = 0 } = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'stack.yaml'),
    `apiVersion: core.deployer.io/v1\nkind: Stack\nmetadata:\n  name: synthetic\nspec:\n  environments: [dev, staging]\n  target: local\n  variables:\n    team: platform\n`,
  );
  let bytes = 0;
  const note = padding > 0 ? `    NOTES: "${'x'.repeat(padding)}"\n` : '';
  for (let s = 0; s < services; s++) {
    const svc = `svc${s}`;
    const sdir = path.join(dir, 'services', svc);
    mkdirSync(sdir, { recursive: true });
    const deps = s > 0 ? `  dependsOn: [svc${Math.floor(s / 2)}]\n` : '';
    writeFileSync(
      path.join(sdir, 'service.yaml'),
      `apiVersion: core.deployer.io/v1\nkind: Service\nmetadata:\n  name: ${svc}\nspec:\n  owner: team-${s % 7}\n${deps}`,
    );
    for (let c = 0; c < 10; c++) {
      let body;
      if (c < 2) {
        body = `apiVersion: components.deployer.io/v1\nkind: S3\nmetadata:\n  name: bucket${c}\n  labels:\n    tier: storage\nspec:\n  versioning: ${c === 0}\n  tags:\n    team: t${s % 7}\n    service: ${svc}\n`;
      } else {
        body =
          `apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: app${c}\n  labels:\n    tier: web\nspec:\n` +
          `  image: registry.example.com/${svc}/app${c}:1.${s}.${c}\n  command: [node, server.mjs]\n  port: ${10000 + ((s * 10 + c) % 50000)}\n  cpu: 256\n  memory: 512\n  replicas: ${1 + (c % 3)}\n` +
          `  env:\n    LOG_LEVEL: info\n    SERVICE: ${svc}\n    BUCKET:\n      valueFrom: {component: ${svc}/bucket${c % 2}, output: path}\n${note}` +
          `  healthCheck:\n    path: /healthz\n    interval: 10\n    timeout: 2\n  tags:\n    team: t${s % 7}\n` +
          (c > 2 ? `  dependsOn: [${svc}/app${c - 1}]\n` : '');
      }
      bytes += body.length;
      writeFileSync(path.join(sdir, `${c < 2 ? `bucket${c}` : `app${c}`}.yaml`), body);
    }
    if (s % 10 === 0) {
      const odir = path.join(dir, 'environments', 'staging', 'services', svc);
      mkdirSync(odir, { recursive: true });
      writeFileSync(
        path.join(odir, 'app2.yaml'),
        `apiVersion: components.deployer.io/v1\nkind: MicroService\nmetadata:\n  name: app2\nspec:\n  replicas: 3\n  env:\n    LOG_LEVEL: warn\n`,
      );
    }
  }
  return { services, components: services * 10, bytes };
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const [dir, n] = process.argv.slice(2);
  console.log(JSON.stringify(generateStack(dir, Number(n ?? 100))));
}
