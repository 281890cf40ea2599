/**
 * Environment overlays, as Kustomize's strategic merge does them: maps deep-merge, lists
 * replace, except lists whose items all carry a `name` (merged item by item); an item or a
 * key whose overlay value is `{$patch: delete}` is removed.
 */

type Json = unknown;

function isPlainObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isDeletePatch(v: Json): boolean {
  return isPlainObject(v) && v['$patch'] === 'delete';
}

function isNamedList(list: Json[]): list is Array<Record<string, Json> & { name: string }> {
  return list.every((item) => isPlainObject(item) && typeof item['name'] === 'string');
}

/** Returns `base` with `overlay` applied; neither argument is modified. */
export function mergeOverlay(base: Json, overlay: Json): Json {
  if (isPlainObject(base) && isPlainObject(overlay)) {
    const out: Record<string, Json> = { ...base };
    for (const [key, value] of Object.entries(overlay)) {
      if (isDeletePatch(value)) delete out[key];
      else out[key] = key in base ? mergeOverlay(base[key], value) : stripPatches(value);
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(overlay) && base.length > 0 && isNamedList(base) && isNamedList(overlay)) {
    const out = base.map((item) => ({ ...item })) as Array<Record<string, Json>>;
    for (const item of overlay) {
      const at = out.findIndex((b) => b['name'] === item.name);
      if (isDeletePatch(item)) {
        if (at >= 0) out.splice(at, 1);
      } else if (at >= 0) out[at] = mergeOverlay(out[at], item) as Record<string, Json>;
      else out.push(stripPatches(item) as Record<string, Json>);
    }
    return out;
  }
  return stripPatches(overlay);
}

/** `$patch` markers only mean something against a base; elsewhere they are dropped. */
function stripPatches(v: Json): Json {
  if (Array.isArray(v)) return v.filter((x) => !isDeletePatch(x)).map(stripPatches);
  if (isPlainObject(v)) {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) if (k !== '$patch' && !isDeletePatch(x)) out[k] = stripPatches(x);
    return out;
  }
  return v;
}
