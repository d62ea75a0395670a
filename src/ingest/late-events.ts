/**
 * Events that arrive for seconds already published: a `ts/{t}` cursor that has moved past their
 * second does not see them (the store, the rollups and later reads of the second do). Counted
 * so an operator sees how often publication ran ahead of the uploads (docs/decisions.md,
 * "Publication waits for the requests in flight").
 */
import { visitRow, widthOf, type Delta } from '../model/delta.ts';
import { edgeFieldIndex } from '../model/fields.ts';

const REQUESTS = edgeFieldIndex.get('requests') ?? -1;
const EDGE_WIDTH = widthOf('edge');

/** Events (edge requests) of `delta` for seconds <= `published`; only those rows are decoded. */
export function eventsAtOrBefore(delta: Delta, published: number): number {
  const part = delta.edge;
  let events = 0;
  for (let i = 0; i < part.rows; i++) {
    if ((part.second[i] as number) > published) continue;
    visitRow(part, i, EDGE_WIDTH, (field, value) => {
      if (field === REQUESTS) events += value;
    });
  }
  return events;
}
