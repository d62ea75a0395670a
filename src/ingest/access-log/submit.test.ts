import { describe, expect, it } from 'vitest';
import { createDictionaries } from '../../model/dictionary.ts';
import { deltaFromRecordSet } from '../../model/delta.ts';
import { createLocalSubmitter, type LocalIngest } from './submit.ts';

describe('the in-process submitter while the store refuses events', () => {
  it('waits until the store takes events again (the ClickHouse spool over its budget), told once, then submits', async () => {
    const submitted: string[] = [];
    const ingest: LocalIngest = {
      dictionaries: createDictionaries(),
      ingest: async () => void submitted.push('batch'),
      ingestDelta: async () => void submitted.push('delta'),
      stats: () => ({ appliedLsn: 0, pendingRows: 0 }),
      flush: async () => undefined,
    };
    let checks = 0;
    const holds: string[] = [];
    const submitter = createLocalSubmitter({
      ingest,
      via: 'test',
      refusal: () => (++checks <= 3 ? 'the spool is over its budget' : undefined),
      onHold: (reason) => holds.push(reason),
      holdPollMs: 5,
    });
    const delta = deltaFromRecordSet({ edge: [], origin: [], dimension: [] });
    await expect(submitter.deltas?.submit(delta, 0)).resolves.toEqual({ accepted: 0, rejected: 0, errors: [] });
    expect(checks).toBe(4);
    expect(holds).toEqual(['the spool is over its budget']);
    expect(submitted).toEqual(['delta']);
    // Not refusing: straight through.
    await submitter.deltas?.submit(delta, 0);
    expect(checks).toBe(5);
    expect(submitted).toEqual(['delta', 'delta']);
  });
});
