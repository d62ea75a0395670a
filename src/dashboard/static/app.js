// The dashboard's browser code: polls /rtm/v1/services/:service/live every second.
/* global uPlot, document, window, localStorage, fetch, URLSearchParams, setInterval */
(function () {
  const tokenInput = document.getElementById('token');
  const serviceSelect = document.getElementById('service');
  const statusEl = document.getElementById('status');
  const fromHash = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (fromHash) {
    localStorage.setItem('rtm-token', fromHash);
    window.history.replaceState(null, '', window.location.pathname);
  }
  tokenInput.value = localStorage.getItem('rtm-token') || '';

  const fmt = (n) => (n >= 1e9 ? (n / 1e9).toFixed(2) + ' G' : n >= 1e6 ? (n / 1e6).toFixed(2) + ' M' : n >= 1e3 ? (n / 1e3).toFixed(1) + ' k' : (Math.round(n * 100) / 100).toString());
  const fmtAxis = (n) => (n >= 1e9 ? +(n / 1e9).toFixed(1) + 'G' : n >= 1e6 ? +(n / 1e6).toFixed(1) + 'M' : n >= 1e3 ? +(n / 1e3).toFixed(1) + 'k' : String(+n.toFixed(2)));

  const charts = {};
  function chart(id, series) {
    const el = document.getElementById(id);
    const opts = {
      width: Math.max(480, el.clientWidth),
      height: 220,
      series: [{}].concat(series.map((label, i) => ({ label, stroke: ['#2f6fde', '#e0572b', '#2b9e5a'][i], width: 1.5 }))),
      // Short SI labels: raw byte rates ("215,680,000") do not fit the axis.
      axes: [{}, { size: 72, values: (u, vals) => vals.map((v) => fmtAxis(v)) }],
    };
    charts[id] = new uPlot(opts, [[]].concat(series.map(() => [])), el);
  }
  chart('chart-requests', ['requests']);
  chart('chart-bandwidth', ['bandwidth']);
  chart('chart-ratio', ['edge_hit_ratio']);
  chart('chart-errors', ['status_4xx', 'status_5xx']);

  async function api(path) {
    const res = await fetch(path, { headers: { Authorization: 'Bearer ' + tokenInput.value } });
    const body = await res.json();
    if (!res.ok) throw new Error((body.error && body.error.detail) || res.statusText);
    return body;
  }

  async function loadServices() {
    const { services } = await api('/rtm/v1/services');
    const current = serviceSelect.value;
    serviceSelect.innerHTML = services.map((s) => '<option>' + s.replace(/[<&]/g, '') + '</option>').join('');
    if (services.includes(current)) serviceSelect.value = current;
  }


  async function refresh() {
    if (!tokenInput.value) return;
    try {
      if (!serviceSelect.value) await loadServices();
      if (!serviceSelect.value) { statusEl.textContent = 'no services yet'; return; }
      const live = await api('/rtm/v1/services/' + encodeURIComponent(serviceSelect.value) + '/live?seconds=300');
      const t = live.data.map((d) => d.recorded);
      const col = (f) => live.data.map((d) => d.aggregated[f] || 0);
      charts['chart-requests'].setData([t, col('requests')]);
      charts['chart-bandwidth'].setData([t, col('bandwidth')]);
      charts['chart-ratio'].setData([t, col('edge_hit_ratio')]);
      charts['chart-errors'].setData([t, col('status_4xx'), col('status_5xx')]);
      const last = live.data[live.data.length - 1];
      const kpis = document.getElementById('kpis');
      const pops = document.getElementById('pops');
      if (last) {
        const a = last.aggregated;
        kpis.innerHTML = [['requests/s', a.requests], ['bandwidth B/s', a.bandwidth], ['hit ratio', a.edge_hit_ratio], ['5xx/s', a.status_5xx]]
          .map(([k, v]) => '<div class="kpi">' + k + '<b>' + fmt(v || 0) + '</b></div>').join('');
        pops.innerHTML = '<tr><th>POP</th><th>requests</th><th>bandwidth</th><th>hit ratio</th><th>5xx</th></tr>' +
          Object.entries(last.datacenter).sort().map(([dc, v]) =>
            '<tr><td>' + dc + '</td><td>' + fmt(v.requests || 0) + '</td><td>' + fmt(v.bandwidth || 0) + '</td><td>' + fmt(v.edge_hit_ratio || 0) + '</td><td>' + fmt(v.status_5xx || 0) + '</td></tr>').join('');
      }
      statusEl.textContent = 'live · ' + new Date().toLocaleTimeString();
    } catch (err) {
      statusEl.textContent = 'error: ' + err.message;
    }
  }

  tokenInput.addEventListener('change', () => { localStorage.setItem('rtm-token', tokenInput.value); serviceSelect.innerHTML = ''; refresh(); });
  serviceSelect.addEventListener('change', refresh);
  setInterval(refresh, 1000);
  setInterval(() => { if (tokenInput.value) loadServices().catch(() => {}); }, 10000);
  refresh();
})();
