// The dashboard page: a service picker with search, a range picker reading history through
// POST /rtm/v1/query, uPlot charts, POP and domain tables with drill-down, alerts, and live
// updates pushed over /rtm/v1/stream (no polling), resuming after a network drop.
/* global uPlot, document, window, setTimeout, URLSearchParams */
import { api, openStream, token } from './api.js';
import { BUCKET_SECONDS, createLatency, createSeries, createTotals, FIELDS, LATENCY, offload, ratio, si } from './model.js';

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
const RANGES = { live: 300, '15m': 900, '1h': 3600, '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400 };
const MAX_OPTIONS = 300;

const state = { services: [], service: '', range: 'live', custom: undefined, drill: undefined, stream: undefined, generation: 0, events: 0 };
let series;
let latency;
let pops;
let domains;

// A token handed over in the URL (rtmetrics demo prints one) moves to the session, out of the URL.
const fromHash = new URLSearchParams(window.location.hash.slice(1)).get('token');
if (fromHash) {
  token.set(fromHash);
  window.history.replaceState(null, '', window.location.pathname);
}
$('token').value = token.get();

const status = (text) => {
  $('status').textContent = text;
};

// Charts ------------------------------------------------------------------------------------
const COLORS = ['#2f6fde', '#2b9e5a', '#e0a82b', '#e0572b', '#8e44ad', '#7f8c8d'];
const CHARTS = {
  requests: ['requests/s'],
  bandwidth: ['bytes/s'],
  hitRatio: ['hit ratio'],
  status: ['2xx', '3xx', '4xx', '5xx'],
  offload: ['offload'],
  latency: ['edge p50', 'edge p95', 'edge p99', 'origin p50', 'origin p95', 'origin p99'],
};
const charts = {};
for (const [name, labels] of Object.entries(CHARTS)) {
  const card = document.querySelector('[data-chart="' + name + '"]');
  const el = card.querySelector('.chart');
  charts[name] = new uPlot(
    {
      width: Math.max(460, el.clientWidth || 460),
      height: 210,
      series: [{}].concat(labels.map((label, i) => ({ label, stroke: COLORS[i], width: 1.5, spanGaps: false }))),
      axes: [{}, { size: 64, values: (u, vals) => vals.map(si) }],
    },
    [[]].concat(labels.map(() => [])),
    el,
  );
}

function drawCharts() {
  const c = series.columns();
  const l = latency.columns();
  const data = { requests: [c.requests], bandwidth: [c.bandwidth], hitRatio: [c.hitRatio], status: c.status, offload: [c.offload], latency: l.values };
  for (const [name, cols] of Object.entries(data)) {
    charts[name].setData([name === 'latency' ? l.time : c.time].concat(cols));
    // For tests and curious users: how much the chart shows.
    const card = document.querySelector('[data-chart="' + name + '"]');
    card.dataset.points = String(cols[0].filter((v) => v !== null && v !== 0).length);
    const time = name === 'latency' ? l.time : c.time;
    card.dataset.span = String(time.length > 1 ? time[time.length - 1] - time[0] : 0);
  }
}

// Tables --------------------------------------------------------------------------------------
function drawTable(el, totals, kind) {
  const ranked = totals.ranked().slice(0, kind === 'datacenter' ? 60 : 10);
  const max = Math.max(1, ...ranked.map(([, v]) => v.requests));
  el.innerHTML =
    '<tr><th>' + (kind === 'datacenter' ? 'POP' : 'domain') + '</th><th>requests</th><th></th><th>bandwidth</th><th>hit ratio</th><th>5xx</th></tr>' +
    ranked
      .map(([name, v]) =>
        '<tr class="row" data-' + kind + '="' + esc(name) + '"><td>' + esc(name) + '</td><td>' + si(v.requests) + '</td>' +
        '<td class="bar"><span style="width:' + ((100 * v.requests) / max).toFixed(1) + '%"></span></td>' +
        '<td>' + si(v.bandwidth) + '</td><td>' + si(ratio(v.edge_hit_requests, v.edge_hit_requests + v.edge_miss_requests)) + '</td><td>' + si(v.status_5xx) + '</td></tr>')
      .join('');
}

/** Top paths or clients: each with its requests and the bound on their error (requests ± requests_error). */
function drawTopValues(el, rows, field) {
  const max = Math.max(1, ...rows.map((r) => r.requests));
  el.innerHTML =
    '<tr><th>' + (field === 'path' ? 'path' : 'client') + '</th><th>requests</th><th></th><th>±</th></tr>' +
    (rows.length === 0
      ? '<tr><td class="muted" colspan="4">none counted in whole minutes of this range yet</td></tr>'
      : rows
          .map((r) =>
            '<tr class="row"><td>' + esc(r[field]) + '</td><td>' + si(r.requests) + '</td>' +
            '<td class="bar"><span style="width:' + ((100 * r.requests) / max).toFixed(1) + '%"></span></td>' +
            '<td>' + (r.requests_error === 0 ? 'exact' : si(r.requests_error)) + '</td></tr>')
          .join(''));
}

function drawKpis(v) {
  const items = [
    ['requests/s', v.requests],
    ['bandwidth B/s', v.bandwidth],
    ['hit ratio', ratio(v.edge_hit_requests, v.edge_hit_requests + v.edge_miss_requests)],
    ['origin offload', offload(v)],
    ['5xx/s', v.status_5xx],
  ];
  $('kpis').innerHTML = items.map(([k, x]) => '<div class="kpi">' + k + '<b>' + si(x) + '</b></div>').join('');
}

async function drawAlerts() {
  try {
    const { alerts } = await api('/rtm/v1/alerts');
    $('alerts').innerHTML = alerts.length === 0
      ? '<li class="muted">no alert rules (POST /rtm/v1/alerts)</li>'
      : alerts.map((a) => '<li class="' + (a.state === 'firing' ? 'firing' : '') + '">' + esc(a.name) + ': ' + esc(a.metric) + ' ' + esc(a.comparison) + ' ' + esc(a.threshold) +
          ' <span class="muted">(' + (a.state === 'firing' ? 'firing, value ' + si(a.value) : 'ok') + ')</span></li>').join('');
  } catch (err) {
    $('alerts').innerHTML = '<li class="muted">' + esc(err.message) + '</li>';
  }
}

// Services ------------------------------------------------------------------------------------
function drawServiceOptions() {
  const q = $('service-search').value.trim().toLowerCase();
  const matching = state.services.filter((s) => s.toLowerCase().includes(q));
  const shown = matching.slice(0, MAX_OPTIONS);
  if (state.service && !shown.includes(state.service) && state.services.includes(state.service)) shown.unshift(state.service);
  $('service').innerHTML = shown.map((s) => '<option>' + esc(s) + '</option>').join('');
  $('service').value = state.service;
  $('service-count').textContent = matching.length + ' of ' + state.services.length;
}

async function loadServices() {
  const { services } = await api('/rtm/v1/services');
  state.services = services;
  if (!state.service || !services.includes(state.service)) state.service = services[0] || '';
  drawServiceOptions();
}

// Loading a view: history from the query API, then the stream from the second after it ---------
function rangeQuery() {
  if (state.range === 'custom' && state.custom) return { from: state.custom.from, to: state.custom.to, granularity: 'auto' };
  const seconds = RANGES[state.range] || 300;
  return { from: -seconds, granularity: state.range === 'live' ? '1s' : 'auto' };
}

function filters() {
  const f = [{ field: 'service', op: 'eq', value: state.service }];
  if (state.drill) f.push({ field: state.drill.field, op: 'eq', value: state.drill.value });
  return f;
}

async function load() {
  const generation = ++state.generation;
  if (state.stream) state.stream.close();
  state.stream = undefined;
  if (!token.get() || !state.service) return;
  document.body.dataset.range = state.range;
  document.body.dataset.loaded = 'no';
  status('loading…');
  const range = rangeQuery();
  const base = { ...range, filters: filters() };
  try {
    // Top values are written once a minute is over: a range of the last seconds may have none yet.
    // They are kept per service (not per POP or domain): a drill-down shows the service's.
    const top = (field) =>
      api('/rtm/v1/query', { ...range, filters: [{ field: 'service', op: 'eq', value: state.service }], granularity: 'all', metrics: ['requests', 'requests_error'], groupBy: [field], limit: 10 }).catch(() => ({ rows: [] }));
    const [history, byPop, byDomain, percentiles, byPath, byClient] = await Promise.all([
      api('/rtm/v1/query', { ...base, metrics: FIELDS }),
      api('/rtm/v1/query', { ...base, granularity: 'all', metrics: FIELDS, groupBy: ['datacenter'], orderBy: [{ metric: 'requests' }] }),
      api('/rtm/v1/query', { ...base, granularity: 'all', metrics: FIELDS, groupBy: ['domain'], orderBy: [{ metric: 'requests' }], limit: 10 }),
      api('/rtm/v1/query', { ...base, metrics: LATENCY }),
      top('path'),
      top('client_ip'),
    ]);
    if (generation !== state.generation) return;
    series = createSeries(BUCKET_SECONDS[history.granularity], state.range === 'live' ? RANGES.live : undefined);
    for (const row of history.rows) series.addRow(row);
    latency = createLatency(state.range === 'live' ? RANGES.live : undefined);
    for (const row of percentiles.rows) latency.set(row.time, row);
    pops = createTotals();
    for (const row of byPop.rows) pops.add(row.datacenter, row);
    domains = createTotals();
    for (const row of byDomain.rows) domains.add(row.other ? '(other)' : row.domain, row);
    drawCharts();
    drawTable($('pops'), pops, 'datacenter');
    drawTable($('domains'), domains, 'domain');
    drawTopValues($('paths'), byPath.rows, 'path');
    drawTopValues($('clients'), byClient.rows, 'client_ip');
    const last = history.rows[history.rows.length - 1];
    drawKpis(last ? Object.fromEntries(FIELDS.map((f) => [f, last[f] / series.bucketSeconds])) : {});
    document.body.dataset.loaded = 'yes';
    status('history through ' + new Date(history.final_through * 1000).toLocaleTimeString());
    void drawAlerts();
    // A custom range that ended in the past gets nothing new.
    if (range.to === undefined) follow(history.final_through, generation);
  } catch (err) {
    if (generation === state.generation) status('error: ' + err.message);
  }
}

/** Live updates: every published second after `after`, added to the charts and tables. */
function follow(after, generation) {
  const drill = state.drill;
  const service = state.service;
  state.stream = openStream({
    services: [service],
    fields: FIELDS.concat(LATENCY),
    after,
    onState: (s) => status(s === 'live' ? 'live' : s),
    onEvent: (second, data) => {
      if (generation !== state.generation) return;
      const svc = data.services[service];
      // A domain's seconds are not in the stream (it carries POPs): its charts stay history.
      if (drill && drill.field === 'domain') return;
      const vector = svc && (drill ? svc.datacenter[drill.value] : svc.aggregated);
      series.addSecond(second, vector);
      // Live charts are per second, so a stream second's percentiles are its bucket's (coarser buckets stay history).
      if (series.bucketSeconds === 1) latency.set(second, vector);
      if (svc) {
        for (const [dc, v] of Object.entries(svc.datacenter)) if (!drill || dc === drill.value) pops.add(dc, v);
      }
      drawCharts();
      drawTable($('pops'), pops, 'datacenter');
      drawKpis(vector || {});
      state.events++;
      document.body.dataset.liveEvents = String(state.events);
      status('live · ' + new Date(second * 1000).toLocaleTimeString());
      if (state.events % 15 === 0) void drawAlerts();
    },
  });
}

function setDrill(drill) {
  state.drill = drill;
  $('drill').hidden = !drill;
  $('drill').innerHTML = drill ? 'showing ' + esc(drill.field === 'datacenter' ? 'POP' : 'domain') + ' <b>' + esc(drill.value) + '</b><button id="drill-clear">back to the service</button>' : '';
  void load();
}

// Wiring ----------------------------------------------------------------------------------------
$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  token.set($('token').value.trim());
  start();
});
$('service-search').addEventListener('input', drawServiceOptions);
$('service').addEventListener('change', () => {
  state.service = $('service').value;
  setDrill(undefined);
});
$('ranges').addEventListener('click', (e) => {
  const range = e.target.dataset && e.target.dataset.range;
  if (!range) return;
  for (const b of $('ranges').querySelectorAll('button')) b.classList.toggle('active', b === e.target);
  $('custom').hidden = range !== 'custom';
  if (range === 'custom') return;
  state.range = range;
  void load();
});
$('custom-apply').addEventListener('click', () => {
  const from = Math.floor(new Date($('custom-from').value).getTime() / 1000);
  const to = Math.floor(new Date($('custom-to').value).getTime() / 1000);
  if (!(from < to)) return status('custom: choose a start before the end');
  state.range = 'custom';
  state.custom = { from, to };
  void load();
});
for (const id of ['pops', 'domains']) {
  $(id).addEventListener('click', (e) => {
    const row = e.target.closest('tr.row');
    if (!row) return;
    if (row.dataset.datacenter) setDrill({ field: 'datacenter', value: row.dataset.datacenter });
    else if (row.dataset.domain && row.dataset.domain !== '(other)') setDrill({ field: 'domain', value: row.dataset.domain });
  });
}
$('drill').addEventListener('click', (e) => {
  if (e.target.id === 'drill-clear') setDrill(undefined);
});

async function start() {
  if (!token.get()) return status('paste a read token');
  try {
    await loadServices();
    if (!state.service) {
      status('no services yet');
      setTimeout(start, 3000);
      return;
    }
    await load();
  } catch (err) {
    status('error: ' + err.message);
  }
}
start();
