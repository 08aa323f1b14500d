/** Comparing JSON values: run configs and strategy descriptions are equal when their canonical JSON is. */
import type { Json } from './space-like.js';

/** JSON with object keys sorted recursively: equal configs give equal strings. */
export function canonicalJson(v: Json): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: { [k: string]: Json } = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]!);
    return out;
  }
  return v;
}

/** Paths (a.b[2].c) where two JSON values differ. */
export function jsonDifferences(a: Json, b: Json, path = ''): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  const isObj = (x: Json): x is { [k: string]: Json } => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => (k in a && k in b ? jsonDifferences(a[k]!, b[k]!, path ? `${path}.${k}` : k) : [path ? `${path}.${k}` : k]));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.flatMap((x, i) => jsonDifferences(x, b[i]!, `${path}[${i}]`));
  return [path || '(root)'];
}
