// The dashboard's numbers: sums per time bucket from the query API, extended second by second
// from the stream, and the chart columns computed from them (rates per second, ratios of sums).
// Pure functions of their input, so a vitest test runs them without a browser.

/** What the page reads of each bucket and second (query metrics and stream fields alike). */
export const FIELDS = [
  'requests', 'bandwidth', 'edge_hit_requests', 'edge_miss_requests',
  'status_2xx', 'status_3xx', 'status_4xx', 'status_5xx',
  'edge_resp_header_bytes', 'edge_resp_body_bytes', 'origin_fetch_resp_header_bytes', 'origin_fetch_resp_body_bytes',
];

export const BUCKET_SECONDS = { '1s': 1, '1m': 60, '1h': 3600, '1d': 86400 };

/**
 * The latency percentiles charted. They do not add up: each bucket's value is the query API's
 * (ranked from all of the bucket's events) or, live, the stream second's own; never a sum.
 */
export const LATENCY = ['edge_time_p50', 'edge_time_p95', 'edge_time_p99', 'origin_time_p50', 'origin_time_p95', 'origin_time_p99'];

/** Percentile columns by bucket: the newest value of each bucket wins (a bucket is one row or one second). */
export function createLatency(keepSeconds) {
  const buckets = new Map();
  return {
    set(time, values) {
      buckets.set(time, Object.fromEntries(LATENCY.map((f) => [f, values && typeof values[f] === 'number' ? values[f] : null])));
      if (keepSeconds !== undefined) {
        const newest = Math.max(...buckets.keys());
        for (const t of buckets.keys()) if (t <= newest - keepSeconds) buckets.delete(t);
      }
    },
    columns() {
      const times = [...buckets.keys()].sort((a, b) => a - b);
      return { time: times, values: LATENCY.map((f) => times.map((t) => buckets.get(t)[f])) };
    },
  };
}

/**
 * A bucketed series. `keepSeconds` (live mode) drops buckets older than that many seconds
 * before the newest one.
 */
export function createSeries(bucketSeconds, keepSeconds) {
  const buckets = new Map();
  const add = (time, values) => {
    let b = buckets.get(time);
    if (b === undefined) buckets.set(time, (b = Object.fromEntries(FIELDS.map((f) => [f, 0]))));
    for (const f of FIELDS) b[f] += Number(values && values[f]) || 0;
  };
  return {
    bucketSeconds,
    /** A query row: `time` is its bucket start. */
    addRow(row) {
      add(row.time, row);
    },
    /** A stream second (its vector may be undefined: a second without traffic still moves time on). */
    addSecond(second, vector) {
      add(Math.floor(second / bucketSeconds) * bucketSeconds, vector);
      if (keepSeconds !== undefined) {
        const newest = Math.max(...buckets.keys());
        for (const t of buckets.keys()) if (t <= newest - keepSeconds) buckets.delete(t);
      }
    },
    /** Columns for the charts, time ascending. */
    columns() {
      const times = [...buckets.keys()].sort((a, b) => a - b);
      const rows = times.map((t) => buckets.get(t));
      const rate = (f) => rows.map((r) => r[f] / bucketSeconds);
      return {
        time: times,
        requests: rate('requests'),
        bandwidth: rate('bandwidth'),
        hitRatio: rows.map((r) => ratio(r.edge_hit_requests, r.edge_hit_requests + r.edge_miss_requests)),
        status: ['status_2xx', 'status_3xx', 'status_4xx', 'status_5xx'].map(rate),
        offload: rows.map((r) => offload(r)),
      };
    },
  };
}

export const ratio = (part, whole) => (whole > 0 ? part / whole : null);

export function offload(v) {
  const edge = (v.edge_resp_header_bytes || 0) + (v.edge_resp_body_bytes || 0);
  const origin = (v.origin_fetch_resp_header_bytes || 0) + (v.origin_fetch_resp_body_bytes || 0);
  return edge > 0 ? (edge - origin) / edge : null;
}

/** Sums per group (POP or domain) from query rows, extended by stream seconds. */
export function createTotals() {
  const groups = new Map();
  return {
    add(name, values) {
      let g = groups.get(name);
      if (g === undefined) groups.set(name, (g = Object.fromEntries(FIELDS.map((f) => [f, 0]))));
      for (const f of FIELDS) g[f] += Number(values && values[f]) || 0;
    },
    /** [name, sums] by requests, descending. */
    ranked: () => [...groups].sort((a, b) => b[1].requests - a[1].requests || (a[0] < b[0] ? -1 : 1)),
  };
}

/** Short SI numbers for axes and tables. */
export function si(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  const a = Math.abs(n);
  if (a >= 1e9) return +(n / 1e9).toFixed(2) + 'G';
  if (a >= 1e6) return +(n / 1e6).toFixed(2) + 'M';
  if (a >= 1e3) return +(n / 1e3).toFixed(1) + 'k';
  return String(+n.toFixed(2));
}
