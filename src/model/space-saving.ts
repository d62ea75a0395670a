/**
 * A weighted Space-Saving summary (Metwally, Agrawal, El Abbadi, "Efficient computation of
 * frequent and top-k elements in data streams", 2005): at most `capacity` values, each with a
 * count and an error, such that for every value x of the stream
 *   - followed:     count(x) - error(x) <= true(x) <= count(x)
 *   - not followed: true(x) <= min, the smallest followed count (0 while the summary is not full)
 * and the counts sum to the total weight added. While fewer than `capacity` distinct values were
 * added, every count is exact (error 0). Adding a weight costs O(log capacity) once the summary
 * is full (the followed values then sit in a min-heap by count, built when it fills); before,
 * one map lookup.
 */
export interface SummaryEntry {
  value: string;
  count: number;
  error: number;
}

export class SpaceSaving {
  private readonly values: string[] = [];
  private readonly counts: number[] = [];
  private readonly errors: number[] = [];
  /** Heap position -> entry index, and the heap position of each entry: built once full. */
  private heap: number[] = [];
  private position: number[] = [];
  private readonly index = new Map<string, number>();
  /** Sum of every weight added. */
  total = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('a summary follows at least one value');
  }

  get size(): number {
    return this.values.length;
  }

  /** True once it follows `capacity` values: a new value then replaces the smallest. */
  get full(): boolean {
    return this.values.length >= this.capacity;
  }

  /** The smallest followed count when full (what an unfollowed value may have had), else 0. */
  get min(): number {
    return this.full ? (this.counts[this.heap[0] as number] as number) : 0;
  }

  add(value: string, weight = 1): void {
    if (!(weight > 0)) return;
    this.total += weight;
    const at = this.index.get(value);
    if (at !== undefined) {
      this.counts[at] = (this.counts[at] as number) + weight;
      if (this.heap.length > 0) this.down(this.position[at] as number);
      return;
    }
    if (!this.full) {
      this.index.set(value, this.values.length);
      this.values.push(value);
      this.counts.push(weight);
      this.errors.push(0);
      if (this.full) this.heapify();
      return;
    }
    // The smallest gives its place: the new value may have had up to its count before.
    const e = this.heap[0] as number;
    const floor = this.counts[e] as number;
    this.index.delete(this.values[e] as string);
    this.values[e] = value;
    this.index.set(value, e);
    this.errors[e] = floor;
    this.counts[e] = floor + weight;
    this.down(0);
  }

  /** Every followed value, the largest count first (ties by value, for a stable order). */
  entries(): SummaryEntry[] {
    return this.values
      .map((value, e) => ({ value, count: this.counts[e] as number, error: this.errors[e] as number }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  }

  /** Builds the min-heap over every entry (once, when the summary fills). */
  private heapify(): void {
    const n = this.values.length;
    this.heap = Array.from({ length: n }, (_, e) => e);
    this.position = Array.from({ length: n }, (_, e) => e);
    for (let i = (n >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private less(i: number, j: number): boolean {
    return (this.counts[this.heap[i] as number] as number) < (this.counts[this.heap[j] as number] as number);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i] as number;
    const b = this.heap[j] as number;
    this.heap[i] = b;
    this.heap[j] = a;
    this.position[b] = i;
    this.position[a] = j;
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < n && this.less(l, smallest)) smallest = l;
      if (r < n && this.less(r, smallest)) smallest = r;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
