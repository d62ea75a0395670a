/**
 * The `Data` entries of one request as JSON fragments: from the fragment cache for the seconds
 * memory holds unchanged since they were rendered, rendered (render-json.ts) for the others.
 *
 * With a source that lists its versions (the window, through the reader): the seconds below
 * memory are read and rendered (not cached), the held ones are looked up by revision, and the
 * misses are read in runs (usually one: the newest seconds) and cached. The channel API renders
 * its held runs from seconds the source lends (visitChannel, render-bytes.ts) when it can: no
 * vectors copied out, no record objects. Without versions (the store alone, test fakes),
 * everything is read and rendered.
 *
 * Races are harmless: a second that changes between the listing and the read is read as it is
 * now and cached under the revision the read carries, so a later request compares against that.
 */
import type { ChannelSecond, DomainSecond, OriginSecond, RealtimeSource, SecondHints, SecondKind } from '../../aggregate/realtime-source.ts';
import { HISTORY_SECONDS } from './cursor.ts';
import type { ApiKind, FragmentCache } from './fragment-cache.ts';
import { deflatePiece, type DeflatedPiece } from './gzip-join.ts';
import { JsonBytes, writeChannelEntry } from './render-bytes.ts';
import { channelEntryJson, domainEntryJson, originEntryJson } from './render-json.ts';

/** One API: what it reads and how it writes an entry. */
export interface Api<S extends SecondHints> {
  kind: ApiKind;
  /** Which vectors it reads, for RealtimeSource.versions. */
  vectors: SecondKind;
  read(source: RealtimeSource, service: string, from: number, to: number): Promise<S[]>;
  json(second: S): string;
  /**
   * Optional fast path for the seconds memory holds: renders each second of [from, to) the source
   * lends (RealtimeSource.visitChannel) straight to bytes, the same bytes as json(); false when
   * the source lends none (then read() and json() are used).
   */
  renderHeld?(source: RealtimeSource, service: string, from: number, to: number, each: (second: number, revision: number, json: Buffer) => void): boolean;
}

/** The scratch renderHeld writes into, one entry at a time. */
const scratch = new JsonBytes();

export const channelApi: Api<ChannelSecond> = {
  kind: 'channel',
  vectors: 'edge',
  read: (source, service, from, to) => source.channel(service, from, to),
  json: channelEntryJson,
  renderHeld(source, service, from, to, each) {
    if (source.visitChannel === undefined) return false;
    source.visitChannel(service, from, to, (s) => {
      scratch.reset();
      writeChannelEntry(scratch, s);
      each(s.second, s.revision, scratch.copy(0));
    });
    return true;
  },
};

export const domainsApi: Api<DomainSecond> = {
  kind: 'domains',
  vectors: 'edge',
  read: (source, service, from, to) => source.domains(service, from, to),
  json: domainEntryJson,
};

export const originsApi: Api<OriginSecond> = {
  kind: 'origins',
  vectors: 'origin',
  read: (source, service, from, to) => source.origins(service, from, to),
  json: originEntryJson,
};

/** One second's entry, rendered: JSON text as UTF-8, and deflated when the answer is gzipped. */
export interface Rendered {
  second: number;
  json: Buffer;
  deflated?: DeflatedPiece;
}

const bytesOf = (json: string): Buffer => Buffer.from(json, 'utf8');

/**
 * The entries of `service` in [from, to) with data, ascending, rendered or from `cache`; each
 * with its deflated form too when `deflated` (a gzip answer), also cached.
 */
export async function readEntries<S extends SecondHints>(
  api: Api<S>,
  source: RealtimeSource,
  cache: FragmentCache | undefined,
  service: string,
  range: { from: number; to: number; deflated: boolean },
): Promise<Rendered[]> {
  const { from, to } = range;
  const withDeflated = (e: Rendered): Rendered => (range.deflated && e.deflated === undefined ? { ...e, deflated: deflatePiece(e.json) } : e);
  const held = cache !== undefined && source.versions !== undefined ? source.versions(api.vectors, service, from, to) : undefined;
  if (cache === undefined || held === undefined) {
    return (await api.read(source, service, from, to)).map((s) => withDeflated({ second: s.second, json: bytesOf(api.json(s)) }));
  }
  // Cached: seconds memory holds from here on, back to the start of `ts/h` (what clients re-read).
  const horizon = Math.max(held.heldFrom, source.latestPublished() + 1 - HISTORY_SECONDS);
  cache.dropBelow(horizon);
  const fragments = cache.service(api.kind, service);
  const out = new Map<number, Rendered>();
  const keep = (second: number, revision: number | undefined, e: Rendered, known: Rendered | undefined): void => {
    const done = withDeflated(e);
    out.set(second, done);
    if (done !== known && revision !== undefined && second >= horizon) {
      fragments.put(second, { revision, json: done.json, ...(done.deflated && { deflated: done.deflated }) });
    }
  };
  const runs: [number, number][] = [];
  if (from < held.heldFrom) runs.push([from, Math.min(to, held.heldFrom)]);
  let open = false;
  for (const { second, revision } of held.seconds) {
    const hit = fragments.get(second, revision);
    if (hit !== undefined) {
      const e: Rendered = { second, json: hit.json, ...(hit.deflated && { deflated: hit.deflated }) };
      keep(second, revision, e, e);
      open = false;
    } else if (open) {
      (runs[runs.length - 1] as [number, number])[1] = second + 1;
    } else {
      runs.push([second, second + 1]);
      open = true;
    }
  }
  // Held runs first, before any await: what memory lends now is what versions() listed.
  const rest = runs.filter(([a, b]) => {
    if (a < held.heldFrom || api.renderHeld === undefined) return true;
    return !api.renderHeld(source, service, a, b, (second, revision, json) => keep(second, revision, { second, json }, undefined));
  });
  for (const [a, b] of rest) {
    for (const s of await api.read(source, service, a, b)) keep(s.second, s.revision, { second: s.second, json: bytesOf(api.json(s)) }, undefined);
  }
  return [...out].sort(([a], [b]) => a - b).map(([, e]) => e);
}
