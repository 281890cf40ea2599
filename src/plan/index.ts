/**
 * plan/: the difference between the configuration and the stored state (a pure function),
 * reference resolution, and renderings of a plan.
 */
export { computePlan, computeDestroyPlan, changedPaths, restrictPlan } from './diff.js';
export { resolveSpec, inputsHash, type OutputsOf } from './resolve.js';
export { renderPlanTable, summaryLine } from './render.js';
export { savePlan, readSavedPlan, readSavedPlanFile, stalePlanReasons, configHashOf } from './saved.js';
