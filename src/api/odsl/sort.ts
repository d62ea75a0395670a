/**
 * `_sort` of the OpenDataDSL dialect: JSON (`{"timestamp": -1, "duration": 1}`) or a list
 * (`timestamp,-duration`, `+service`). Fields are the filterable ones; untrusted input is bounded.
 */
import { USAGE_FILTER_FIELDS } from '../../model/usage.ts';
import type { SortSpec } from '../../store/usage-store.ts';

export type SortResult = { ok: true; sort: SortSpec } | { ok: false; error: string };

export { DEFAULT_SORT } from '../../store/usage-store.ts';

const MAX_SORT_KEYS = 8;
const MAX_SORT_LENGTH = 512;

export function parseSort(text: string, fields: readonly string[] = USAGE_FILTER_FIELDS): SortResult {
  const trimmed = text.trim();
  if (trimmed.length > MAX_SORT_LENGTH) return { ok: false, error: `_sort longer than ${MAX_SORT_LENGTH} characters` };
  if (trimmed === '') return { ok: false, error: 'empty _sort' };
  const keys: { field: string; dir: 1 | -1 }[] = [];
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (err) {
      return { ok: false, error: `invalid JSON _sort: ${(err as Error).message}` };
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, error: '_sort must be a JSON object' };
    for (const [field, dir] of Object.entries(json)) {
      if (dir !== 1 && dir !== -1) return { ok: false, error: `_sort direction of ${field} must be 1 or -1` };
      keys.push({ field, dir });
    }
  } else {
    for (const part of trimmed.split(',')) {
      const key = part.trim();
      const dir = key.startsWith('-') ? -1 : 1;
      const field = /^[+-]/.test(key) ? key.slice(1).trim() : key;
      if (field === '') return { ok: false, error: `empty field in _sort "${trimmed}"` };
      keys.push({ field, dir });
    }
  }
  if (keys.length === 0) return { ok: false, error: 'empty _sort' };
  if (keys.length > MAX_SORT_KEYS) return { ok: false, error: `at most ${MAX_SORT_KEYS} _sort keys` };
  const seen = new Set<string>();
  for (const { field } of keys) {
    if (!fields.includes(field)) return { ok: false, error: `cannot sort by unknown field "${field}" (known: ${fields.join(', ')})` };
    if (seen.has(field)) return { ok: false, error: `_sort names ${field} twice` };
    seen.add(field);
  }
  return { ok: true, sort: keys };
}
