/**
 * What table-driven tests do to the values their YAML rows give: sizes no one writes out, and
 * fields set by dotted path on a base object.
 */

/**
 * Expands `$chars:N` (N characters) inside strings, and a whole `$list:N` (N short strings) or
 * `$keys:N` (an object of N keys, each an empty list), in keys and values at any depth.
 */
export function expandSizes(v: unknown): unknown {
  if (typeof v === 'string') {
    const m = /^\$(list|keys):(\d+)$/.exec(v);
    if (!m) return v.replace(/\$chars:(\d+)/g, (_, n: string) => 'x'.repeat(Number(n)));
    const n = Number(m[2]);
    if (m[1] === 'list') return Array.from({ length: n }, (_, i) => `g${i}`);
    return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, []]));
  }
  if (Array.isArray(v)) return v.map(expandSizes);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [expandSizes(k) as string, expandSizes(x)]));
  return v;
}

/** `expandSizes` for a string that stays a string. */
export const expandChars = (s: string): string => expandSizes(s) as string;

/** Sets `a.b.c` on an object, making the objects on the way; `null` removes the field when `nullRemoves`. */
export function setPath(o: Record<string, any>, path: string, v: unknown, nullRemoves = false): void {
  const keys = path.split('.');
  let cur = o;
  for (const k of keys.slice(0, -1)) cur = cur[k] ??= {};
  if (v === null && nullRemoves) delete cur[keys.at(-1)!];
  else cur[keys.at(-1)!] = v;
}
