/**
 * model/: the types every layer shares — documents as parsed, the desired stack after
 * discovery, the plan, and the stored state. No I/O lives here.
 */
export * from './documents.js';
export * from './desired.js';
export * from './plan.js';
export * from './state.js';
export * from './hash.js';
export * from './pointer.js';
