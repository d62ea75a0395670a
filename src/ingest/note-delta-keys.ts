/**
 * The key caps told of every delta made durable (WAL replay included): each (service, value) of
 * a capped key in its edge and origin rows is noted, so a value that came in some other way (a
 * replayed entry, a body admitted before a restart) holds its room. Hot path (every applied
 * delta): pairs are found by their string ids, names read off the delta's string
 * table (decoded once per delta, and cached for the catalog's sightings of the same delta).
 */
import { deltaStrings, RECORD_KEYS, type Delta, type DeltaPart } from '../model/delta.ts';
import { CAPPED_KEYS } from '../model/other-key.ts';
import type { KeyCap, KeyCaps } from './key-cap.ts';

export function noteDeltaKeys(delta: Delta, caps: KeyCaps): void {
  for (const kind of ['edge', 'origin'] as const) {
    const columns: readonly string[] = RECORD_KEYS[kind].key;
    const serviceAt = columns.indexOf('service');
    for (const key of CAPPED_KEYS) {
      const at = columns.indexOf(key);
      const cap = caps[key];
      if (at >= 0 && cap.on) notePart(delta, delta[kind], columns.length, serviceAt, at, cap);
    }
  }
}

function notePart(delta: Delta, part: DeltaPart, arity: number, serviceAt: number, valueAt: number, cap: KeyCap): void {
  const names = deltaStrings(delta);
  const strings = names.length;
  const seen = new Set<number>();
  for (let i = 0; i < part.rows; i++) {
    const service = part.keys[i * arity + serviceAt] as number;
    const value = part.keys[i * arity + valueAt] as number;
    const pair = service * strings + value;
    if (seen.has(pair)) continue;
    seen.add(pair);
    cap.note(names[service] as string, names[value] as string);
  }
}
