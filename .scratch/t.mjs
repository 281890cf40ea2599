import { discoverStack } from '../dist/discovery/index.js';
try { await discoverStack({ dir: process.argv[2], environment: 'dev', cacheDir: false }); } catch (e) { console.log(e.problems ?? e); }
