// A hook that fills the file system of the directory it is given (until ENOSPC), as a disk
// filling up in the middle of a run would: the machine-fault tests run it as a pre-hook.
// Usage: node fill-disk.mjs <dir>   (the filler is <dir>/.filler, which the test removes)
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

const fd = openSync(path.join(process.argv[2], '.filler'), 'a');
const chunk = Buffer.alloc(4096);
try {
  for (;;) writeSync(fd, chunk);
} catch (err) {
  if (err.code !== 'ENOSPC') throw err;
} finally {
  closeSync(fd);
}
