// Types of the two emulators, as far as the tests use them (neither package ships its own).
declare module 's3rver' {
  export default class S3rver {
    constructor(options: { port: number; address: string; directory: string; silent?: boolean });
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}

declare module 'dynalite' {
  import type { Server } from 'node:http';
  export default function dynalite(options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }): Server;
}
