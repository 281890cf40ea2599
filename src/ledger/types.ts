/**
 * Deployment types a team registers beside the built-in strategies (issue 13: "registered
 * custom types"): what a name may be, and the refusals every store gives alike.
 */
import { InvalidInputError } from '../errors.js';
import { DEPLOYMENT_TYPES, DRIFT_TYPE, type DeploymentTypeInfo } from './store.js';

/** What each built-in type means (migration 5 writes them into the SQL stores). */
export const BUILTIN_DESCRIPTIONS: Record<(typeof DEPLOYMENT_TYPES)[number], string> = {
  'blue-green': 'a second copy beside the first, traffic switched at once',
  canary: 'a share of the traffic first, then all of it',
  rolling: 'replaced a batch at a time',
  'big-bang': 'replaced all at once',
};

/** Lower-case words of letters and digits joined by single hyphens: `shadow`, `feature-flag`, `dark-launch-2`. */
const TYPE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Refuses a name that is not a type name. */
export function refuseTypeName(name: string): void {
  if (!TYPE_NAME.test(name) || name.length > 64)
    throw new InvalidInputError(`${JSON.stringify(name)} is not a deployment type name`, [
      'A type name is lower-case words of letters and digits joined by hyphens (at most 64 characters), for example feature-flag.',
      'Nothing was registered.',
    ]);
  if ((DEPLOYMENT_TYPES as readonly string[]).includes(name) || name === DRIFT_TYPE) throw builtinType(name);
}

/**
 * The upsert of a registered type (PostgreSQL's parameters; SQLite's are `?`). A built-in name
 * never reaches it: refuseTypeName refuses those, so their rows are never changed.
 */
export const REGISTER_TYPE_SQL =
  'INSERT INTO deployment_types (name, description, builtin) VALUES ($1, $2, 0) ON CONFLICT (name) DO UPDATE SET description = excluded.description';

/** The refusal of registering a built-in type again. */
function builtinType(name: string): InvalidInputError {
  return new InvalidInputError(`${name} is a built-in deployment type: it cannot be registered or changed`, ['Nothing was registered.']);
}

/** The built-in types in their own order, then the registered ones by name. */
export function orderedTypes(types: readonly DeploymentTypeInfo[]): DeploymentTypeInfo[] {
  const rank = (t: DeploymentTypeInfo): number =>
    t.builtin ? (DEPLOYMENT_TYPES as readonly string[]).indexOf(t.name) : DEPLOYMENT_TYPES.length;
  return [...types].sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
