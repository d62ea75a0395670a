import { describe, expect, it } from 'vitest';
import { aggregateToDelta } from '../aggregate/aggregate-batch.ts';
import { createDictionaries } from '../model/dictionary.ts';
import { createKeyCaps } from './key-cap.ts';
import { parseNdjson } from './ndjson-parser.ts';
import { noteDeltaKeys } from './note-delta-keys.ts';

const T0 = 1_767_225_600;
const deltaOf = (events: Record<string, unknown>[]) => {
  const dictionaries = createDictionaries();
  const body = Buffer.from(events.map((e) => JSON.stringify({ timestamp: T0, status: 200, ...e })).join('\n'));
  const r = parseNdjson(body, { dictionaries, maxLineBytes: 4096, maxEvents: 100 });
  expect(r.rejected).toBe(0);
  return aggregateToDelta([r.batch], dictionaries);
};

describe('noteDeltaKeys', () => {
  it("notes each service's domains and datacenters of its edge rows and the backends of its origin rows, beyond the caps too", () => {
    const caps = createKeyCaps({ domainsPerService: 1, datacentersPerService: 1, backendsPerService: 1 });
    noteDeltaKeys(
      deltaOf([
        { service: 's', datacenter: 'FRA', domain: 'a.example', backend: 'b1', origin_status: 200 },
        { service: 's', datacenter: 'LHR', domain: 'b.example', backend: 'b2', origin_status: 200 },
        { service: 's', datacenter: 'LHR', domain: 'a.example', backend: 'b3' }, // no fetch: no origin row
        { service: 't', datacenter: '__other__', domain: 'a.example' },
      ]),
      caps,
    );
    expect([caps.domain.count('s'), caps.datacenter.count('s'), caps.backend.count('s')]).toEqual([2, 2, 2]);
    expect([caps.domain.count('t'), caps.datacenter.count('t'), caps.backend.count('t')]).toEqual([1, 0, 0]);
    expect([caps.backend.admit('s', 'b2'), caps.backend.admit('s', 'b3'), caps.datacenter.admit('s', 'LHR')]).toEqual([true, false, true]);
  });

  it('holds nothing for a cap that is off', () => {
    const caps = createKeyCaps({ domainsPerService: 0, datacentersPerService: 5, backendsPerService: 0 });
    noteDeltaKeys(deltaOf([{ service: 's', datacenter: 'FRA', domain: 'a.example', backend: 'b1', origin_status: 200 }]), caps);
    expect([caps.domain.size(), caps.datacenter.size(), caps.backend.size()]).toEqual([0, 1, 0]);
  });
});
