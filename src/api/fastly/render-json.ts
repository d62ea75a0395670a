/**
 * One second's `Data` entry of each real-time API as JSON text:
 * `{"recorded":S,"aggregated":...,"datacenter":{...}}`. The routes cache these fragments per
 * service and second (fragment-cache.ts) and paste them into the answer, so an entry is
 * serialized once, not on every read.
 *
 * The records are render.ts's, given the second's `fields` hint: each visits the ~20 fields that
 * may be non-zero instead of all 265 (a `ts/h` answer at 60 POPs has ~7,300 records). They are
 * serialized by JSON.stringify, which beats building the text in JavaScript; render-json.test.ts
 * checks the bytes equal the unhinted rendering's.
 */
import type { ChannelSecond, DomainSecond, GroupedValues, OriginSecond } from '../../aggregate/realtime-source.ts';
import { objectOf, renderChannel, renderDomain, renderOrigin } from './render.ts';

export function channelEntryJson(s: ChannelSecond): string {
  const pct = s.percentiles;
  return JSON.stringify({
    recorded: s.second,
    aggregated: renderChannel(s.aggregated, s.fields, pct?.aggregated),
    datacenter: objectOf(s.byDatacenter, (v: Float64Array, dc: string) => renderChannel(v, s.fields, pct?.byDatacenter.get(dc))),
  });
}

export function domainEntryJson(s: DomainSecond): string {
  const pct = s.percentiles;
  return JSON.stringify({
    recorded: s.second,
    aggregated: objectOf(s.byDomain, (v: Float64Array, domain: string) => renderDomain(v, s.fields, pct?.byDomain.get(domain))),
    datacenter: objectOf(s.byDatacenter, (domains: GroupedValues, dc: string) => objectOf(domains, (v: Float64Array, domain: string) => renderDomain(v, s.fields, pct?.byDatacenter.get(dc)?.get(domain)))),
  });
}

export function originEntryJson(s: OriginSecond): string {
  const pct = s.percentiles;
  return JSON.stringify({
    recorded: s.second,
    aggregated: objectOf(s.byBackend, (v: Float64Array, backend: string) => renderOrigin(v, s.fields, pct?.byBackend.get(backend))),
    datacenter: objectOf(s.byDatacenter, (backends: GroupedValues, dc: string) => objectOf(backends, (v: Float64Array, backend: string) => renderOrigin(v, s.fields, pct?.byDatacenter.get(dc)?.get(backend)))),
  });
}
