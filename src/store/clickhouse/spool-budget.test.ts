import { describe, expect, it } from 'vitest';
import { spoolBudgetRefusal } from './spool-budget.ts';

describe('spool budget', () => {
  it.each([
    [0, 1024, undefined],
    [1024, 1024, undefined],
    [0, Number.POSITIVE_INFINITY, undefined],
    [1025, 1024, /holds 1025 bytes .* over its budget of 1024 bytes \(RTM_CLICKHOUSE_SPOOL_MAX_BYTES\)/],
    [3 * 1024 ** 2, 2 * 1024 ** 2, /holds 3\.0 MiB .* budget of 2\.0 MiB/],
  ])('%d bytes held, budget %d', (held, budget, expected) => {
    const why = spoolBudgetRefusal(held, budget);
    if (expected === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(expected);
  });
});
