// The quick start's build: copies the server into dist/, the artifact deployer caches and runs
// (a real project would compile or bundle here). It runs in this directory.
import { cpSync, mkdirSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
cpSync('src', 'dist', { recursive: true });
console.log('built dist/ from src/');
