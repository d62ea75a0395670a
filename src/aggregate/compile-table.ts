/**
 * Turns a field table (rules of the form "when <facts> add <value> to <field>") into what the
 * hot path runs: per event, a handful of small programs, each a flat list of
 * (field index, value column) pairs to add.
 *
 * How: the rules are grouped by the axes their conditions test, and groups are merged while the
 * product of their axes' sizes stays small (MAX_GROUP_CODES). For one event, a group's code is
 * the mixed-radix number of its axes' codes; the program for a (group, code) is the list of that
 * group's rules whose conditions hold for the decoded values. Programs are compiled the first
 * time their code is seen (most combinations never occur), so the rules are evaluated once per
 * combination rather than once per event, and the table stays the one source of truth.
 */
import type { EventBatch } from '../model/event.ts';
import { EVENT_VALUES, type Axis, type AxisValue, type ValueName } from './axes.ts';
import { scratchF64, scratchI32 } from './scratch.ts';

/** A literal to compare with (===), or a predicate. */
export type Condition<V> = V | ((value: V) => boolean);
/** Conditions on some axes; all must hold. An empty `when` matches every event. */
export type When<A> = { readonly [K in keyof A]?: Condition<AxisValue<A[K]>> };

export interface FieldRule<A> {
  readonly field: string;
  readonly when: When<A>;
  readonly add: ValueName;
}

type AnyAxes = Readonly<Record<string, Axis<unknown>>>;

/** Distinguishes the scratch arrays of each compiled table. */
let tableCount = 0;

/** Largest product of axis sizes a group may have (its program index is an Int32Array of it). */
const MAX_GROUP_CODES = 65536;


/** The codes and values of a chunk of events [start, end); index j = i - start. Scratch: use before the next prepare. */
export interface PreparedBatch {
  /**
   * Row-major, groupCount per event: `codes[j * groupCount + g]` is the event's code in group g,
   * already offset into `programAt` (so it indexes it directly).
   */
  readonly codes: Int32Array;
  /**
   * The values the table adds, row-major: the event's value v (the odd entries of a program) is
   * `values[j * valueWidth + v]`. One typed array, each event's values side by side: the
   * accumulate loop reads one cache line per event instead of one per column.
   */
  readonly values: Float64Array;
  readonly valueWidth: number;
}

/** Axis code columns of one chunk, computed at most once per axis and shared between tables. */
export type AxisCodes = (axis: string) => Int32Array;

export function createAxisCodes(batch: EventBatch, start: number, end: number, axes: AnyAxes): AxisCodes {
  const memo = new Map<string, Int32Array>();
  return (name) => {
    let codes = memo.get(name);
    if (codes === undefined) {
      codes = scratchI32(`axis:${name}`, end - start);
      (axes[name] as Axis<unknown>).codes(batch, start, end, codes);
      memo.set(name, codes);
    }
    return codes;
  };
}

export interface CompiledTable {
  /** The vector layout the programs write into. */
  readonly fields: readonly string[];
  readonly groupCount: number;
  /** Prepared code -> offset of its program in `ops`, -1 until compiled. Hot path: read directly. */
  readonly programAt: Int32Array;
  /**
   * Every compiled program, back to back: at a program's offset, its pair count, then
   * [field, value] pairs. Replaced by a longer array as programs are compiled: re-read after
   * `compile`.
   */
  readonly ops: Int32Array;
  /** Compiles the program of a prepared code (see PreparedBatch.codes); returns its offset in `ops`. */
  compile(code: number): number;
  /** Computes the group codes and values of events [start, end) (column passes, no per-event calls). */
  prepare(batch: EventBatch, start: number, end: number, axisCodes: AxisCodes): PreparedBatch;
  /** The group axis names, for tests and diagnostics. */
  readonly groupAxes: readonly (readonly string[])[];
}

interface Group {
  axes: string[];
  rules: FieldRule<AnyAxes>[];
}

const axesOf = (rule: FieldRule<AnyAxes>): string[] =>
  Object.entries(rule.when)
    .filter(([, c]) => c !== undefined)
    .map(([k]) => k);

/**
 * Checks the table against the layout (every field exactly one rule, no unknown field or axis)
 * and compiles it. Throws at module load when the table is wrong, so a bad edit cannot ship.
 */
export function compileTable<A extends AnyAxes>(
  rules: readonly FieldRule<A>[],
  fields: readonly string[],
  axes: A,
): CompiledTable {
  const anyRules = rules as readonly FieldRule<AnyAxes>[];
  const fieldIndex = new Map(fields.map((f, i) => [f, i]));
  const seen = new Set<string>();
  for (const rule of anyRules) {
    if (!fieldIndex.has(rule.field)) throw new Error(`field table: unknown field ${rule.field}`);
    if (seen.has(rule.field)) throw new Error(`field table: field ${rule.field} has two rules`);
    seen.add(rule.field);
    for (const axis of axesOf(rule)) if (!(axis in axes)) throw new Error(`field table: unknown axis ${axis}`);
  }
  const missing = fields.filter((f) => !seen.has(f));
  if (missing.length > 0) throw new Error(`field table: no rule for ${missing.join(', ')}`);

  const axisOrder = Object.keys(axes);
  const sizeOf = (names: readonly string[]): number => names.reduce((p, a) => p * (axes[a] as Axis<unknown>).size, 1);
  const union = (a: readonly string[], b: readonly string[]): string[] =>
    axisOrder.filter((x) => a.includes(x) || b.includes(x));

  // Greedy merge, biggest axis sets first: fewer groups = fewer programs to run per event.
  const groups: Group[] = [];
  const bySize = [...anyRules].sort((a, b) => sizeOf(axesOf(b)) - sizeOf(axesOf(a)));
  for (const rule of bySize) {
    const own = axesOf(rule);
    let best: Group | undefined;
    let bestSize = Number.POSITIVE_INFINITY;
    for (const g of groups) {
      const size = sizeOf(union(g.axes, own));
      if (size <= MAX_GROUP_CODES && size < bestSize) [best, bestSize] = [g, size];
    }
    if (best === undefined) {
      if (sizeOf(own) > MAX_GROUP_CODES) throw new Error(`field table: rule ${rule.field} tests too many combinations`);
      groups.push({ axes: axisOrder.filter((x) => own.includes(x)), rules: [rule] });
    } else {
      best.axes = union(best.axes, own);
      best.rules.push(rule);
    }
  }
  // Rules in layout order, so a program writes its vector front to back.
  for (const g of groups) g.rules.sort((a, b) => (fieldIndex.get(a.field) ?? 0) - (fieldIndex.get(b.field) ?? 0));

  const groupSizes = groups.map((g) => sizeOf(g.axes));
  const groupOffsets = groupSizes.map((_, g) => groupSizes.slice(0, g).reduce((a, b) => a + b, 0));
  const programAt = new Int32Array(groupSizes.reduce((a, b) => a + b, 0)).fill(-1);
  const valueNames = [...new Set(anyRules.map((r) => r.add))];
  let ops = new Int32Array(1024);
  let opsEnd = 0;

  function compile(prepared: number): number {
    let group = groups.length - 1;
    while ((groupOffsets[group] as number) > prepared) group--;
    const g = groups[group] as Group;
    const values = new Map<string, unknown>();
    let rest = prepared - (groupOffsets[group] as number);
    for (let k = g.axes.length - 1; k >= 0; k--) {
      const axis = axes[g.axes[k] as string] as Axis<unknown>;
      values.set(g.axes[k] as string, axis.decode(rest % axis.size));
      rest = Math.floor(rest / axis.size);
    }
    const pairs: number[] = [];
    for (const rule of g.rules) {
      const holds = Object.entries(rule.when).every(([axis, cond]) => {
        if (cond === undefined) return true;
        const v = values.get(axis);
        return typeof cond === 'function' ? (cond as (x: unknown) => boolean)(v) : cond === v;
      });
      if (holds) pairs.push(fieldIndex.get(rule.field) as number, valueNames.indexOf(rule.add));
    }
    if (opsEnd + 1 + pairs.length > ops.length) {
      const longer = new Int32Array(Math.max(ops.length * 2, opsEnd + 1 + pairs.length));
      longer.set(ops);
      ops = longer;
    }
    const at = opsEnd;
    ops[at] = pairs.length / 2;
    ops.set(pairs, at + 1);
    opsEnd += 1 + pairs.length;
    programAt[prepared] = at;
    return at;
  }

  const id = tableCount++;

  function prepare(batch: EventBatch, start: number, end: number, axisCodes: AxisCodes): PreparedBatch {
    const n = end - start;
    const stride = groups.length;
    const codes = scratchI32(`codes:${id}`, n * stride);
    groups.forEach((g, k) => {
      // Mixed radix straight into the strided column; the group's offset is added with the last digit.
      const offset = groupOffsets[k] as number;
      if (g.axes.length === 0) for (let j = 0, c = k; j < n; j++, c += stride) codes[c] = offset;
      g.axes.forEach((name, a) => {
        const size = (axes[name] as Axis<unknown>).size;
        const col = axisCodes(name);
        const add = a === g.axes.length - 1 ? offset : 0;
        if (a === 0) for (let j = 0, c = k; j < n; j++, c += stride) codes[c] = (col[j] as number) + add;
        else for (let j = 0, c = k; j < n; j++, c += stride) codes[c] = (codes[c] as number) * size + (col[j] as number) + add;
      });
    });
    const width = valueNames.length;
    const values = scratchF64(`values:${id}`, n * width);
    valueNames.forEach((name, v) => EVENT_VALUES[name](batch, start, end, values, width, v));
    return { codes, values, valueWidth: width };
  }

  return {
    fields,
    groupCount: groups.length,
    programAt,
    get ops() {
      return ops;
    },
    compile,
    prepare,
    groupAxes: groups.map((g) => g.axes),
  };
}
