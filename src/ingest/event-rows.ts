/**
 * An EventBatch row back as a plain object with events.md's field names and values: what tests
 * compare against and what a debugging session prints. Not for hot paths.
 */
import type { Dictionaries } from '../model/dictionary.ts';
import {
  CACHE_VALUES,
  FLAG_COMPUTE,
  FLAG_IPV6,
  FLAG_SHIELD,
  HTTP_VALUES,
  ORIGIN_ABSENT,
  PRODUCT_VALUES,
  TLS_VALUES,
  WAF_VALUES,
  type EventBatch,
} from '../model/event.ts';

export interface EventRow {
  second: number;
  service: string;
  datacenter: string;
  domain: string;
  status: number;
  method: string;
  cache: string;
  req_header_bytes: number;
  req_body_bytes: number;
  resp_header_bytes: number;
  resp_body_bytes: number;
  time_ms: number;
  /** Undefined when absent (not fetched from origin). */
  origin_status: number | undefined;
  origin_time_ms: number;
  bereq_header_bytes: number;
  bereq_body_bytes: number;
  beresp_header_bytes: number;
  beresp_body_bytes: number;
  backend: string;
  shield: boolean;
  compute: boolean;
  compute_time_ms: number;
  compute_cpu_ms: number;
  /** Undefined when absent (plain HTTP). */
  tls: string | undefined;
  http: string;
  ipv6: boolean;
  /** Undefined when absent. */
  waf: string | undefined;
  product: string;
}

export function eventRow(batch: EventBatch, dictionaries: Dictionaries, i: number): EventRow {
  const at = <T>(values: readonly T[], code: number | undefined): T => values[code ?? 0] as T;
  const flags = batch.flags[i] ?? 0;
  const originStatus = batch.originStatus[i] ?? ORIGIN_ABSENT;
  const tls = at(TLS_VALUES, batch.tls[i]);
  const waf = at(WAF_VALUES, batch.waf[i]);
  return {
    second: batch.second[i] ?? 0,
    service: dictionaries.service.name(batch.service[i] ?? -1),
    datacenter: dictionaries.datacenter.name(batch.datacenter[i] ?? -1),
    domain: dictionaries.domain.name(batch.domain[i] ?? -1),
    status: batch.status[i] ?? 0,
    method: dictionaries.method.name(batch.method[i] ?? -1),
    cache: at(CACHE_VALUES, batch.cache[i]),
    req_header_bytes: batch.reqHeaderBytes[i] ?? 0,
    req_body_bytes: batch.reqBodyBytes[i] ?? 0,
    resp_header_bytes: batch.respHeaderBytes[i] ?? 0,
    resp_body_bytes: batch.respBodyBytes[i] ?? 0,
    time_ms: batch.timeMs[i] ?? 0,
    origin_status: originStatus === ORIGIN_ABSENT ? undefined : originStatus,
    origin_time_ms: batch.originTimeMs[i] ?? 0,
    bereq_header_bytes: batch.bereqHeaderBytes[i] ?? 0,
    bereq_body_bytes: batch.bereqBodyBytes[i] ?? 0,
    beresp_header_bytes: batch.berespHeaderBytes[i] ?? 0,
    beresp_body_bytes: batch.berespBodyBytes[i] ?? 0,
    backend: dictionaries.backend.name(batch.backend[i] ?? -1),
    shield: (flags & FLAG_SHIELD) !== 0,
    compute: (flags & FLAG_COMPUTE) !== 0,
    compute_time_ms: batch.computeTimeMs[i] ?? 0,
    compute_cpu_ms: batch.computeCpuMs[i] ?? 0,
    tls: tls === '' ? undefined : tls,
    http: at(HTTP_VALUES, batch.http[i]),
    ipv6: (flags & FLAG_IPV6) !== 0,
    waf: waf === '' ? undefined : waf,
    product: at(PRODUCT_VALUES, batch.product[i]),
  };
}

/** Every row of the batch. */
export function eventRows(batch: EventBatch, dictionaries: Dictionaries): EventRow[] {
  return Array.from({ length: batch.length }, (_, i) => eventRow(batch, dictionaries, i));
}
