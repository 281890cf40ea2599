/**
 * A component stack's checkpoint and its companions in Pulumi's DIY backend, read and removed
 * directly (backend-objects.ts) where asking the CLI would cost a process and a key derivation:
 * the operations a killed run left pending, and removing a destroyed stack (what `pulumi stack
 * rm` does on a DIY backend: the checkpoint, its `.bak`, its history and its backups).
 */
import { backendObjects } from './backend-objects.js';

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

/** How many operations the stack's checkpoint records as pending (0 when it has none, or no checkpoint). */
export async function pendingOperations(backendUrl: string, project: string, stack: string): Promise<number> {
  const text = await backendObjects(backendUrl)?.read(stackPaths(project, stack).checkpoint);
  if (text === undefined) return 0;
  const parsed = JSON.parse(text) as { checkpoint?: { latest?: { pending_operations?: unknown[] } } };
  return parsed.checkpoint?.latest?.pending_operations?.length ?? 0;
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
