/**
 * A component stack's checkpoint and its companions in Pulumi's DIY backend, read and removed
 * directly (backend-objects.ts) where asking the CLI would cost a process and a key derivation:
 * the operations a killed run left pending, and removing a destroyed stack (what `pulumi stack
 * rm` does on a DIY backend: the checkpoint, its `.bak`, its history and its backups).
 */
import { backendObjects, type BackendObjects } from './backend-objects.js';
import type { CheckpointFile } from './batch-checkpoint.js';

/** Where the DIY backend (its project-scoped layout) keeps a stack's objects, relative to its root. */
export function stackPaths(project: string, stack: string) {
  return {
    /** The directory of every checkpoint of the project. */
    stacks: `.pulumi/stacks/${project}`,
    checkpoint: `.pulumi/stacks/${project}/${stack}.json`,
    history: `.pulumi/history/${project}/${stack}`,
    backups: `.pulumi/backups/${project}/${stack}`,
    locks: `.pulumi/locks/organization/${project}/${stack}`,
  };
}

/** The stack's checkpoint as the backend holds it (undefined when there is none). */
export async function readCheckpoint(objects: BackendObjects, project: string, stack: string): Promise<CheckpointFile | undefined> {
  const text = await objects.read(stackPaths(project, stack).checkpoint);
  return text === undefined ? undefined : (JSON.parse(text) as CheckpointFile);
}

/** How many operations the stack's checkpoint records as pending (0 when it has none, or no checkpoint). */
export async function pendingOperations(backendUrl: string, project: string, stack: string): Promise<number> {
  const objects = backendObjects(backendUrl);
  const file = objects ? await readCheckpoint(objects, project, stack) : undefined;
  return file?.checkpoint.latest?.pending_operations?.length ?? 0;
}

/** Removes a stack from the backend, as `pulumi stack rm` does; nothing when it is not there. */
export async function removeStackObjects(backendUrl: string, project: string, stack: string): Promise<void> {
  const objects = backendObjects(backendUrl);
  if (!objects) return;
  const paths = stackPaths(project, stack);
  await objects.remove(paths.checkpoint);
  await objects.remove(`${paths.checkpoint}.bak`);
  await objects.removeAll(paths.history);
  await objects.removeAll(paths.backups);
}
