/**
 * String interning: the hot path carries small integer ids instead of strings. Ids are
 * process-local (never persisted: the WAL and the store carry the strings).
 */
export interface Interner {
  /** The id of `name`, assigning the next one on first sight. */
  id(name: string): number;
  /** The name of an id handed out by `id`. */
  name(id: number): string;
  readonly size: number;
}

export function createInterner(): Interner {
  const ids = new Map<string, number>();
  const names: string[] = [];
  return {
    id(name) {
      let id = ids.get(name);
      if (id === undefined) {
        id = names.length;
        names.push(name);
        ids.set(name, id);
      }
      return id;
    },
    name(id) {
      const name = names[id];
      if (name === undefined) throw new RangeError(`unknown interned id ${id}`);
      return name;
    },
    get size() {
      return names.length;
    },
  };
}

/** One interner per string dimension of the event. */
export interface Dictionaries {
  service: Interner;
  datacenter: Interner;
  domain: Interner;
  backend: Interner;
  method: Interner;
}

export function createDictionaries(): Dictionaries {
  return {
    service: createInterner(),
    datacenter: createInterner(),
    domain: createInterner(),
    backend: createInterner(),
    method: createInterner(),
  };
}
