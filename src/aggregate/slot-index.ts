/**
 * Integer key -> dense slot number (0, 1, 2... in order of first sight), for the aggregation hot
 * path: open addressing over typed arrays, so a lookup allocates nothing (a Map with keys above
 * 2^31 boxes every key it hashes). Keys are non-negative integers below 2^53.
 */
export interface SlotIndex {
  /** The slot of `key`, assigning the next one on first sight. */
  slotOf(key: number): number;
  /** Slots assigned so far. */
  readonly size: number;
}

const TWO_32 = 4294967296;

export function createSlotIndex(initialCapacity = 1024): SlotIndex {
  let capacity = 16;
  while (capacity < initialCapacity * 2) capacity *= 2;
  let keys = new Float64Array(capacity);
  let slots = new Int32Array(capacity).fill(-1);
  let mask = capacity - 1;
  let size = 0;

  const hash = (key: number): number => {
    const lo = key >>> 0;
    const hi = (key / TWO_32) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) & mask;
  };

  function grow(): void {
    const oldKeys = keys;
    const oldSlots = slots;
    capacity *= 2;
    mask = capacity - 1;
    keys = new Float64Array(capacity);
    slots = new Int32Array(capacity).fill(-1);
    for (let j = 0; j < oldSlots.length; j++) {
      const slot = oldSlots[j] as number;
      if (slot < 0) continue;
      const key = oldKeys[j] as number;
      let p = hash(key);
      while ((slots[p] as number) >= 0) p = (p + 1) & mask;
      keys[p] = key;
      slots[p] = slot;
    }
  }

  return {
    slotOf(key) {
      let p = hash(key);
      for (;;) {
        const slot = slots[p] as number;
        if (slot < 0) break;
        if (keys[p] === key) return slot;
        p = (p + 1) & mask;
      }
      keys[p] = key;
      slots[p] = size;
      size++;
      // Load factor <= 1/2 keeps probe runs short.
      if (size * 2 > capacity) grow();
      return size - 1;
    },
    get size() {
      return size;
    },
  };
}
