import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEntityFilter } from '../../api/odsl/filter.ts';
import { describeUsageStoreConformance } from '../usage-store-conformance.ts';
import { openDuckDb } from './database.ts';
import { createDuckDbUsageStore } from './usage-store.ts';

describeUsageStoreConformance('duckdb', async ({ retentionSeconds }) => {
  const db = await openDuckDb(':memory:');
  const store = await createDuckDbUsageStore(db, { retentionSeconds });
  return {
    store,
    async close() {
      await store.close();
      db.close();
    },
  };
});

describe('parseEntityFilter never throws', () => {
  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 4 })), (text) => {
        const r = parseEntityFilter(text);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });
});
