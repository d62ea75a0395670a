/**
 * The rules of events.md section 1 applied to a RawEvent: either the reason the line is
 * rejected (naming the field and what was wrong), or the event appended to the batch with
 * interned ids. Written for speed (the ingest hot path): string fields the fast reader saw
 * before are resolved from byte caches without making a string or matching a pattern again.
 *
 * Checks run in a fixed order (numbers, booleans and enums first, then the interned strings:
 * service, datacenter, domain, method, backend), so a line with several faults always gets
 * the same reason from either reader; nothing is interned
 * until every check passed, so a rejected line adds no names to the dictionaries.
 */
import { normalizePath } from '../model/top-values.ts';
import type { Dictionaries, Interner } from '../model/dictionary.ts';
import {
  CACHE_PASS,
  CACHE_VALUES,
  FLAG_COMPUTE,
  FLAG_IPV6,
  FLAG_SHIELD,
  HTTP_VALUES,
  ORIGIN_ABSENT,
  PRODUCT_VALUES,
  TLS_VALUES,
  WAF_VALUES,
  createTopValueNames,
  type EventBatch,
  type TopValueNames,
} from '../model/event.ts';
import { createByteCache, type ByteCache } from './byte-cache.ts';
import { NO_CLIENT, clientCell, clientCellOfBytes } from '../model/unique-clients.ts';
import { F, FIELD_COUNT, FIELD_NAMES, K_ABSENT, K_FALSE, K_NULL, K_NUMBER, K_STRING, K_TRUE, describeRaw, rawString, type RawEvent } from './raw-event.ts';
import { MAX_SECOND, secondOfNumber, secondOfRfc3339 } from './timestamp.ts';

const SERVICE_RE = /^[A-Za-z0-9_-]{1,64}$/;
const DATACENTER_RE = /^[A-Za-z0-9_-]{1,16}$/;
const METHOD_RE = /^[A-Z]{1,16}$/;
/** A backend name: 1..128 characters (code points), none a control character (Unicode Cc). */
const BACKEND_RE = /^[^\p{Cc}]{1,128}$/u;
/**
 * A Host: dot-separated labels of letters, digits, `-` and `_` (or a bracketed IPv6 literal),
 * optionally followed by `:port`, since a Host header carries the port when it is not the
 * default. Checked before lower-casing, so no non-ASCII character can lower-case into ASCII.
 */
const DOMAIN_RE = /^(?:[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*|\[[0-9A-Fa-f:.]{2,45}\])(?::([0-9]{1,5}))?$/;
const MAX_DOMAIN_LENGTH = 253;

const quoted = (values: readonly string[]): string => values.filter((v) => v !== '').map((v) => `"${v}"`).join(', ');

/** What each field must be, as the reasons say it. */
const EXPECTED: Readonly<Record<string, string>> = {
  timestamp: `must be Unix seconds (0..${MAX_SECOND}, fraction allowed) or an RFC 3339 date-time such as "2024-11-20T10:00:00Z"`,
  service: 'must be a string matching [A-Za-z0-9_-]{1,64}',
  datacenter: 'must be a string matching [A-Za-z0-9_-]{1,16}',
  domain: `must be a host name (labels of letters, digits, "-" and "_" separated by dots, optional :port) of at most ${MAX_DOMAIN_LENGTH} characters`,
  status: 'must be an integer 100..599',
  method: 'must be a string matching [A-Z]{1,16}',
  cache: `must be one of ${quoted(CACHE_VALUES)}`,
  origin_status: 'must be 0 or an integer 100..599',
  backend: 'must be a string of 1..128 characters, none a control character',
  tls: `must be one of ${quoted(TLS_VALUES)} (a string)`,
  http: `must be one of ${quoted(HTTP_VALUES)} (a string)`,
  waf: `must be one of ${quoted(WAF_VALUES)}`,
  product: `must be one of ${quoted(PRODUCT_VALUES)}`,
  path: 'must be a string',
  client_ip: 'must be a string',
};
/**
 * The most bytes one event may count in one field: 1 TiB. Sums must stay exact below 2^53 (the
 * counters are doubles): with this cap a key's second, minute, hour or day can sum 8,192 events
 * of the largest size before it could round, and a service moving 1 PB a day stays 9x below it.
 */
export const MAX_EVENT_BYTES = 2 ** 40;
const INTEGER_EXPECTED = `must be an integer >= 0 (at most ${MAX_EVENT_BYTES}, 1 TiB per event)`;
const NUMBER_EXPECTED = 'must be a finite number >= 0';
const BOOLEAN_EXPECTED = 'must be true or false';

function expectedOf(f: number): string {
  const name = FIELD_NAMES[f] as string;
  const known = EXPECTED[name];
  if (known !== undefined) return known;
  if (name.endsWith('_bytes')) return INTEGER_EXPECTED;
  if (name.endsWith('_ms')) return NUMBER_EXPECTED;
  return BOOLEAN_EXPECTED;
}

function invalid(raw: RawEvent, f: number): string {
  const name = FIELD_NAMES[f] as string;
  if (raw.kind[f] === K_ABSENT) return `${name}: required`;
  return `${name}: ${expectedOf(f)}, got ${describeRaw(raw, f)}`;
}

/** A byte count (0 when absent or null), or -1 when not an integer in [0, MAX_EVENT_BYTES]. */
function byteCount(raw: RawEvent, f: number): number {
  const kind = raw.kind[f];
  const v = raw.num[f] as number;
  if (kind === K_ABSENT || kind === K_NULL) return 0;
  return kind === K_NUMBER && Number.isInteger(v) && v >= 0 && v <= MAX_EVENT_BYTES ? v + 0 : -1; // + 0: -0 -> 0
}

/** A duration (0 when absent or null), or -1 when not a finite number >= 0. */
function duration(raw: RawEvent, f: number): number {
  const kind = raw.kind[f];
  const v = raw.num[f] as number;
  if (kind === K_ABSENT || kind === K_NULL) return 0;
  return kind === K_NUMBER && v >= 0 && v < Infinity ? v + 0 : -1;
}

export interface EventValidatorOptions {
  dictionaries: Dictionaries;
  /** Undefined when the service may be written, else the reason its lines are rejected. */
  acceptService?: ((service: string) => string | undefined) | undefined;
  /** Latest accepted second (Unix seconds): later events are rejected as clock skew. Default: none. */
  maxSecond?: number | undefined;
  /** Keep a path's query string (top values). Default false. */
  keepPathQuery?: boolean | undefined;
  /** Intern no path or address (top values off). Default false. */
  skipTopValues?: boolean | undefined;
  /** Where paths and addresses are interned; default new ones (a batch filled by several validators shares one). */
  topNames?: TopValueNames | undefined;
}

export interface EventValidator {
  /** The paths and client addresses of the appended events (EventBatch.path, .clientIp). */
  readonly topNames: TopValueNames;
  /**
   * Checks `raw` and appends it to `batch` (which must have room for one more event).
   * Returns undefined when appended, else the reason the line is rejected.
   */
  append(raw: RawEvent, batch: EventBatch): string | undefined;
}

/** A validator with its own byte caches: make one per body (or per stream of bodies). */
export function createEventValidator(options: EventValidatorOptions): EventValidator {
  return new Validator(options);
}

// A class, not closures: the hot methods stay the same functions for every body, so V8 keeps
// them inlined (per-body closures made it deoptimise after the first body).
class Validator implements EventValidator {
  private readonly dictionaries: Dictionaries;
  private readonly acceptService: ((service: string) => string | undefined) | undefined;
  private readonly maxSecond: number;
  private readonly caches: ByteCache[] = Array.from({ length: FIELD_COUNT }, () => createByteCache());
  /** The strings of fields the caches did not know, between the checks and the interning. */
  private readonly pending: string[] = new Array<string>(FIELD_COUNT).fill('');
  private defaultMethod = -1;
  private defaultBackend = -1;
  readonly topNames: TopValueNames;

  private readonly keepPathQuery: boolean;
  private readonly topValues: boolean;

  constructor({ dictionaries, acceptService, maxSecond, keepPathQuery, skipTopValues, topNames }: EventValidatorOptions) {
    this.dictionaries = dictionaries;
    this.topNames = topNames ?? createTopValueNames();
    this.keepPathQuery = keepPathQuery === true;
    this.topValues = skipTopValues !== true;
    this.acceptService = acceptService;
    this.maxSecond = maxSecond ?? Number.POSITIVE_INFINITY;
  }

  /** The cached value for field f's bytes (>= 0), or -1 with the string in `pending[f]`. */
  private lookup(raw: RawEvent, f: number): number {
    const src = raw.src;
    if (src !== undefined && (raw.start[f] as number) >= 0) {
      const v = (this.caches[f] as ByteCache).get(src, raw.start[f] as number, raw.end[f] as number, raw.hash[f] as number);
      if (v >= 0) return v;
    }
    this.pending[f] = rawString(raw, f);
    return -1;
  }

  private remember(raw: RawEvent, f: number, value: number): void {
    const src = raw.src;
    if (src !== undefined && (raw.start[f] as number) >= 0) (this.caches[f] as ByteCache).set(src, raw.start[f] as number, raw.end[f] as number, raw.hash[f] as number, value);
  }

  /**
   * The id of a top-value string field (path normalized, client_ip as sent) in `names`, -1 for
   * "": the byte cache maps repeated bytes to the id without making the string again.
   */
  private topValueId(raw: RawEvent, f: number, names: Interner): number {
    const cached = this.lookup(raw, f);
    if (cached >= 0) return cached - 1;
    const text = this.pending[f] as string;
    const id = text.length === 0 ? -1 : names.id(f === F.path ? normalizePath(text, this.keepPathQuery) : text);
    this.remember(raw, f, id + 1);
    return id;
  }

  /** An enum field's code, -1 when invalid; absent or null gives `absent`. */
  private enumCode(raw: RawEvent, f: number, values: readonly string[], absent: number): number {
    const kind = raw.kind[f];
    if (kind === K_ABSENT || kind === K_NULL) return absent;
    if (kind !== K_STRING) return -1;
    let code = this.lookup(raw, f);
    if (code < 0) {
      const s = this.pending[f] as string;
      code = s === '' ? -1 : values.indexOf(s);
      if (code >= 0) this.remember(raw, f, code);
    }
    return code;
  }

  /** An interned field: its id (>= 0), -1 when valid but not yet interned, -2 when invalid. */
  private internedField(raw: RawEvent, f: number, pattern: RegExp): number {
    if (raw.kind[f] !== K_STRING) return -2;
    const id = this.lookup(raw, f);
    if (id >= 0) return id;
    return pattern.test(this.pending[f] as string) ? -1 : -2;
  }

  private intern(raw: RawEvent, f: number, id: number, interner: Interner): number {
    if (id >= 0) return id;
    const assigned = interner.id(this.pending[f] as string);
    this.remember(raw, f, assigned);
    return assigned;
  }

  private flag(raw: RawEvent, f: number, bit: number): number {
    const kind = raw.kind[f];
    if (kind === K_TRUE) return bit;
    if (kind === K_FALSE || kind === K_ABSENT || kind === K_NULL) return 0;
    return -1;
  }

  private timestampSecond(raw: RawEvent): number {
    const kind = raw.kind[F.timestamp];
    if (kind === K_NUMBER) return secondOfNumber(raw.num[F.timestamp] as number);
    if (kind !== K_STRING) return -1;
    let second = this.lookup(raw, F.timestamp);
    if (second < 0) {
      second = secondOfRfc3339(this.pending[F.timestamp] as string);
      if (second >= 0) this.remember(raw, F.timestamp, second);
    }
    return second;
  }

  append(raw: RawEvent, batch: EventBatch): string | undefined {
    const kind = raw.kind;
    const num = raw.num;

    const second = this.timestampSecond(raw);
    if (second < 0) return invalid(raw, F.timestamp);
    // A second far in the future would sit in memory until the clock reaches it: refuse it.
    if (second > this.maxSecond) return `timestamp: ${second} is more than the allowed clock skew ahead of the server's clock (latest accepted second ${this.maxSecond})`;

    const status = num[F.status] as number;
    if (kind[F.status] !== K_NUMBER || !Number.isInteger(status) || status < 100 || status > 599) return invalid(raw, F.status);

    const cache = this.enumCode(raw, F.cache, CACHE_VALUES, CACHE_PASS);
    if (cache < 0) return invalid(raw, F.cache);

    // Numbers go straight into row n (unrolled: no keyed column access); a later failure leaves
    // them to be overwritten, since batch.length only moves once the whole line passed.
    const n = batch.length;
    let v: number;
    if ((v = byteCount(raw, F.req_header_bytes)) < 0) return invalid(raw, F.req_header_bytes);
    batch.reqHeaderBytes[n] = v;
    if ((v = byteCount(raw, F.req_body_bytes)) < 0) return invalid(raw, F.req_body_bytes);
    batch.reqBodyBytes[n] = v;
    if ((v = byteCount(raw, F.resp_header_bytes)) < 0) return invalid(raw, F.resp_header_bytes);
    batch.respHeaderBytes[n] = v;
    if ((v = byteCount(raw, F.resp_body_bytes)) < 0) return invalid(raw, F.resp_body_bytes);
    batch.respBodyBytes[n] = v;
    if ((v = byteCount(raw, F.bereq_header_bytes)) < 0) return invalid(raw, F.bereq_header_bytes);
    batch.bereqHeaderBytes[n] = v;
    if ((v = byteCount(raw, F.bereq_body_bytes)) < 0) return invalid(raw, F.bereq_body_bytes);
    batch.bereqBodyBytes[n] = v;
    if ((v = byteCount(raw, F.beresp_header_bytes)) < 0) return invalid(raw, F.beresp_header_bytes);
    batch.berespHeaderBytes[n] = v;
    if ((v = byteCount(raw, F.beresp_body_bytes)) < 0) return invalid(raw, F.beresp_body_bytes);
    batch.berespBodyBytes[n] = v;
    if ((v = duration(raw, F.time_ms)) < 0) return invalid(raw, F.time_ms);
    batch.timeMs[n] = v;
    if ((v = duration(raw, F.origin_time_ms)) < 0) return invalid(raw, F.origin_time_ms);
    batch.originTimeMs[n] = v;
    if ((v = duration(raw, F.compute_time_ms)) < 0) return invalid(raw, F.compute_time_ms);
    batch.computeTimeMs[n] = v;
    if ((v = duration(raw, F.compute_cpu_ms)) < 0) return invalid(raw, F.compute_cpu_ms);
    batch.computeCpuMs[n] = v;

    let originStatus = ORIGIN_ABSENT;
    const originKind = kind[F.origin_status];
    if (originKind !== K_ABSENT && originKind !== K_NULL) {
      originStatus = num[F.origin_status] as number;
      if (originKind !== K_NUMBER || !Number.isInteger(originStatus) || (originStatus !== 0 && (originStatus < 100 || originStatus > 599))) {
        return invalid(raw, F.origin_status);
      }
      originStatus += 0;
    }

    const shield = this.flag(raw, F.shield, FLAG_SHIELD);
    if (shield < 0) return invalid(raw, F.shield);
    const compute = this.flag(raw, F.compute, FLAG_COMPUTE);
    if (compute < 0) return invalid(raw, F.compute);
    const ipv6 = this.flag(raw, F.ipv6, FLAG_IPV6);
    if (ipv6 < 0) return invalid(raw, F.ipv6);

    const tls = this.enumCode(raw, F.tls, TLS_VALUES, 0);
    if (tls < 0) return invalid(raw, F.tls);
    const http = this.enumCode(raw, F.http, HTTP_VALUES, 1);
    if (http < 0) return invalid(raw, F.http);
    const waf = this.enumCode(raw, F.waf, WAF_VALUES, 0);
    if (waf < 0) return invalid(raw, F.waf);
    const product = this.enumCode(raw, F.product, PRODUCT_VALUES, 0);
    if (product < 0) return invalid(raw, F.product);

    const pathKind = kind[F.path];
    if (pathKind !== K_ABSENT && pathKind !== K_NULL && pathKind !== K_STRING) return invalid(raw, F.path);
    const clientIpKind = kind[F.client_ip];
    if (clientIpKind !== K_ABSENT && clientIpKind !== K_NULL && clientIpKind !== K_STRING) return invalid(raw, F.client_ip);

    // Strings last: they may need a string made and a pattern matched.
    let service = this.internedField(raw, F.service, SERVICE_RE);
    if (service === -2) return invalid(raw, F.service);
    if (service === -1 && this.acceptService !== undefined) {
      const refused = this.acceptService(this.pending[F.service] as string);
      if (refused !== undefined) return refused;
    }
    let datacenter = this.internedField(raw, F.datacenter, DATACENTER_RE);
    if (datacenter === -2) return invalid(raw, F.datacenter);
    let domain = this.internedField(raw, F.domain, DOMAIN_RE);
    if (domain === -1) {
      const host = this.pending[F.domain] as string;
      const port = DOMAIN_RE.exec(host)?.[1];
      if (host.length > MAX_DOMAIN_LENGTH || (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535))) domain = -2;
      else this.pending[F.domain] = host.toLowerCase();
    }
    if (domain === -2) return invalid(raw, F.domain);
    let method = -1;
    const methodKind = kind[F.method];
    if (methodKind !== K_ABSENT && methodKind !== K_NULL) {
      method = this.internedField(raw, F.method, METHOD_RE);
      if (method === -2) return invalid(raw, F.method);
    }
    let backend = -1;
    const backendKind = kind[F.backend];
    if (backendKind !== K_ABSENT && backendKind !== K_NULL) {
      backend = this.internedField(raw, F.backend, BACKEND_RE);
      if (backend === -2) return invalid(raw, F.backend);
    }

    // Every check passed: intern, in a fixed order, and append.
    service = this.intern(raw, F.service, service, this.dictionaries.service);
    datacenter = this.intern(raw, F.datacenter, datacenter, this.dictionaries.datacenter);
    domain = this.intern(raw, F.domain, domain, this.dictionaries.domain);
    if (methodKind === K_ABSENT || methodKind === K_NULL) {
      if (this.defaultMethod < 0) this.defaultMethod = this.dictionaries.method.id('GET');
      method = this.defaultMethod;
    } else method = this.intern(raw, F.method, method, this.dictionaries.method);
    if (backendKind === K_ABSENT || backendKind === K_NULL) {
      if (this.defaultBackend < 0) this.defaultBackend = this.dictionaries.backend.id('default');
      backend = this.defaultBackend;
    } else backend = this.intern(raw, F.backend, backend, this.dictionaries.backend);

    batch.second[n] = second;
    batch.service[n] = service;
    batch.datacenter[n] = datacenter;
    batch.domain[n] = domain;
    batch.backend[n] = backend;
    batch.method[n] = method;
    batch.status[n] = status;
    batch.cache[n] = cache;
    batch.tls[n] = tls;
    batch.http[n] = http;
    batch.waf[n] = waf;
    batch.product[n] = product;
    batch.flags[n] = shield | compute | ipv6;
    batch.clientCell[n] = clientIpKind === K_STRING ? clientCellOf(raw) : NO_CLIENT;
    batch.path[n] = pathKind === K_STRING && this.topValues ? this.topValueId(raw, F.path, this.topNames.path) : -1;
    batch.clientIp[n] = clientIpKind === K_STRING && this.topValues ? this.topValueId(raw, F.client_ip, this.topNames.clientIp) : -1;
    batch.originStatus[n] = originStatus;
    batch.length = n + 1;
    return undefined;
  }
}

/** The unique-client cell of the line's `client_ip` string: from its bytes (fast reader) or its string; "" has none. */
function clientCellOf(raw: RawEvent): number {
  const f = F.client_ip;
  const start = raw.start[f] as number;
  return raw.src === undefined || start < 0 ? clientCell(raw.str[f] ?? '') : clientCellOfBytes(raw.src, start, raw.end[f] as number);
}
