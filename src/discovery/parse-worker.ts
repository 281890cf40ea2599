/** Worker thread of load.ts: parses the files it is given and posts the results back, in order. */
import { parentPort, workerData } from 'node:worker_threads';
import { parseFast } from './parse-fast.js';

const files = workerData as Array<{ display: string; text: string }>;
parentPort!.postMessage(files.map((f) => parseFast(f.display, f.text)));
