// Accrue operations console: plain JavaScript, no dependencies. Every number comes from the
// gateway's /v1/ops/console/... endpoints and the services' list APIs, called with the bearer
// token the user signed in with (sessionStorage: gone when the tab closes).
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// ---- session -------------------------------------------------------------------------------

const session = {
  get token() { return sessionStorage.getItem('accrue.token') || ''; },
  set token(t) { if (t) sessionStorage.setItem('accrue.token', t); else sessionStorage.removeItem('accrue.token'); },
};

async function api(path, opts = {}) {
  const headers = { Authorization: 'Bearer ' + session.token };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method: opts.method || 'GET', headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { detail: text }; }
  if (!res.ok) {
    const err = new Error((data && (data.detail || data.title)) || ('HTTP ' + res.status));
    err.status = res.status; err.reason = data && data.reason; err.problem = data;
    throw err;
  }
  return data;
}

// ---- formatting (decimal strings are formatted as text, never turned into floats) ---------------

function groupDigits(intPart) {
  const neg = intPart.startsWith('-');
  const digits = neg ? intPart.slice(1) : intPart;
  const out = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (neg ? '-' : '') + out;
}

function formatDecimal(value, minFraction) {
  let [i, f = ''] = String(value).split('.');
  if (minFraction !== undefined) f = (f + '00').slice(0, Math.max(minFraction, f.replace(/0+$/, '').length));
  return groupDigits(i || '0') + (f ? '.' + f : '');
}

function formatAmount(value, currency) { return currency + ' ' + formatDecimal(value, 2); }

function formatValue(p, unit) {
  return unit === 'amount' ? formatAmount(p.value, p.currency_code) : formatDecimal(p.value);
}

function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

function formatAge(seconds) {
  const s = Number(seconds || 0);
  if (s <= 0) return '—';
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

// ---- views -----------------------------------------------------------------------------------

const views = ['signin', 'kpis', 'exceptions', 'streams', 'trace', 'reconciliation'];

function show(view) {
  if (!session.token) view = 'signin';
  for (const v of views) $('#view-' + v).hidden = v !== view;
  $('#nav').hidden = !session.token;
  for (const a of $$('#nav a')) a.classList.toggle('active', a.dataset.view === view);
  const loaders = { kpis: loadKpis, exceptions: () => loadExceptions(''), streams: loadStreams, reconciliation: loadReconciliation };
  if (loaders[view]) loaders[view]().catch(showFatal);
}

function route() {
  const h = location.hash.replace(/^#/, '');
  if (h.startsWith('token=')) { // the dev sign-in link; the fragment never reaches the server
    session.token = decodeURIComponent(h.slice(6));
    history.replaceState(null, '', location.pathname + '#kpis');
    return show('kpis');
  }
  if (h.startsWith('trace=')) {
    show('trace');
    $('#trace-key').value = decodeURIComponent(h.slice(6));
    return runTrace().catch(showFatal);
  }
  show(views.includes(h) && h !== 'signin' ? h : 'kpis');
}

function showFatal(err) {
  if (err && err.status === 401) { session.token = ''; $('#signin-error').textContent = 'Your token was refused (' + (err.reason || 'unauthorized') + '): sign in again.'; show('signin'); return; }
  const box = el('p', { class: 'error', role: 'alert', text: 'Something went wrong: ' + err.message });
  const v = views.map(v => $('#view-' + v)).find(s => !s.hidden);
  if (v) v.prepend(box);
}

// ---- KPIs --------------------------------------------------------------------------------------

function sparkline(points) {
  const w = 160, h = 36;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  if (points.length < 2) {
    svg.setAttribute('aria-label', 'not enough history yet');
    const t = document.createElementNS(svg.namespaceURI, 'text');
    t.setAttribute('x', 0); t.setAttribute('y', 22); t.setAttribute('class', 'spark-empty');
    t.textContent = 'trend: not enough history yet';
    svg.append(t);
    return svg;
  }
  // Plotting only: the chart's geometry may use floats, the figures shown never do.
  const ys = points.map(p => parseFloat(p.value));
  const t0 = Date.parse(points[0].time), t1 = Date.parse(points[points.length - 1].time);
  const lo = Math.min(...ys), hi = Math.max(...ys);
  const xy = points.map((p, i) => {
    const x = t1 === t0 ? (i / (points.length - 1)) * w : ((Date.parse(p.time) - t0) / (t1 - t0)) * w;
    const y = hi === lo ? h / 2 : h - 3 - ((ys[i] - lo) / (hi - lo)) * (h - 6);
    return x.toFixed(1) + ',' + y.toFixed(1);
  });
  const line = document.createElementNS(svg.namespaceURI, 'polyline');
  line.setAttribute('points', xy.join(' '));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', '#2563eb');
  line.setAttribute('stroke-width', '2');
  svg.setAttribute('aria-label', `trend of ${points.length} samples from ${formatTime(points[0].time)}`);
  svg.append(line);
  return svg;
}

async function loadKpis() {
  const data = await api('/v1/ops/console/kpis');
  const box = $('#kpi-cards');
  box.replaceChildren();
  for (const k of data.kpis) {
    const values = k.current.length ? k.current.map(p => formatValue(p, k.unit)) : [k.unit === 'amount' ? 'none' : '0'];
    const raw = k.current.map(p => (p.currency_code ? p.currency_code + ' ' : '') + p.value).join('; ');
    const currencies = [...new Set(k.history.map(p => p.currency_code || ''))];
    const series = k.history.filter(p => (p.currency_code || '') === (currencies[0] || ''));
    box.append(el('article', { class: 'card' + (k.seed ? ' seed' : ''), 'data-kpi': k.kpi, tabindex: 0, title: k.help,
      onclick: () => showRecords(k), onkeydown: e => { if (e.key === 'Enter') showRecords(k); } },
      el('h3', { text: k.label }),
      el('p', { class: 'value', 'data-raw': raw || (k.unit === 'amount' ? '' : '0') }, values.map(v => el('span', { text: v }))),
      sparkline(series),
      el('p', { class: 'meta', text: k.error ? k.error : `from ${k.service}` + (currencies.length > 1 ? ` · trend in ${currencies[0]}` : '') }),
    ));
  }
  $('#kpi-asof').textContent = 'as of ' + formatTime(new Date().toISOString());
}

async function showRecords(k) {
  const panel = $('#kpi-records');
  panel.hidden = false;
  $('#kpi-records-title').textContent = k.label + ' — records (' + k.records + ')';
  const body = $('#kpi-records-body');
  body.replaceChildren(el('p', { text: 'Loading…' }));
  try {
    const data = await api(k.records);
    const list = Object.values(data || {}).find(v => Array.isArray(v)) || [];
    if (!list.length) { body.replaceChildren(el('p', { text: 'No records.' })); return; }
    const cols = Object.keys(list[0]).filter(c => typeof list[0][c] !== 'object').slice(0, 8);
    body.replaceChildren(el('table', {}, el('thead', {}, el('tr', {}, cols.map(c => el('th', { text: c.replaceAll('_', ' ') })))),
      el('tbody', {}, list.slice(0, 50).map(r => el('tr', {}, cols.map(c => el('td', { text: r[c] })))))));
  } catch (err) {
    body.replaceChildren(el('p', { class: 'error', text: 'The records cannot be listed here: ' + err.message }));
  }
}

// ---- exceptions --------------------------------------------------------------------------------

let excPage = { token: '', next: '', rows: [] };

function excQuery(pageToken) {
  const p = new URLSearchParams();
  const set = (k, v) => { if (v) p.set(k, v); };
  set('service', $('#f-service').value);
  set('status', $('#f-status').value);
  set('reason', $('#f-reason').value.trim());
  set('kind', $('#f-kind').value.trim());
  set('legal_entity_id', $('#f-le').value.trim());
  set('older_than', $('#f-age').value);
  if ($('#f-group').checked) p.set('group_by', 'key');
  set('page_token', pageToken);
  p.set('page_size', '50');
  return '/v1/ops/console/exceptions?' + p;
}

async function loadExceptions(pageToken) {
  $('#exc-status').textContent = 'Loading…';
  const data = await api(excQuery(pageToken));
  excPage = { token: pageToken, next: data.next_page_token, rows: data.exceptions };
  const tbody = $('#exc-table tbody');
  tbody.replaceChildren();
  for (const row of data.exceptions) tbody.append(excRow(row.service, row.exception));
  if (!data.exceptions.length) tbody.append(el('tr', {}, el('td', { colspan: 9, class: 'empty', text: 'No exceptions match these filters.' })));
  const groups = $('#exc-groups');
  groups.replaceChildren();
  if (data.groups) {
    groups.append(el('table', { class: 'groups' }, el('thead', {}, el('tr', {}, ['Key (entity)', 'Exceptions', 'Services', 'Reasons'].map(t => el('th', { text: t })))),
      el('tbody', {}, data.groups.map(g => el('tr', {}, el('td', { text: g.key }), el('td', { text: g.count }),
        el('td', { text: g.services.join(', ') }), el('td', { text: g.reasons.join(', ') }))))));
  }
  $('#exc-next').disabled = !data.next_page_token;
  $('#exc-all').checked = false;
  updateBulk();
  const failed = data.errors ? Object.entries(data.errors).map(([s, m]) => s + ': ' + m).join('; ') : '';
  $('#exc-status').textContent = `${data.exceptions.length} shown` + (data.next_page_token ? ', more on the next page' : '') + (failed ? ` — not answering: ${failed}` : '');
}

function excRow(service, e) {
  const open = e.status === 'EXCEPTION_STATUS_OPEN';
  const tr = el('tr', { 'data-id': e.exception_id, 'data-service': service },
    el('td', {}, el('input', { type: 'checkbox', class: 'pick', 'aria-label': 'select', disabled: !open, onchange: updateBulk })),
    el('td', { text: formatTime(e.create_time) }),
    el('td', { text: service }),
    el('td', { class: 'reason', text: e.reason }),
    el('td', { text: e.kind }),
    el('td', { text: (e.entity_type ? e.entity_type + ' ' : '') + e.entity_id }),
    el('td', { class: 'attempts', text: e.attempts }),
    el('td', { class: 'status', text: open ? 'OPEN' : 'RESOLVED' }),
    el('td', { class: 'actions' },
      el('button', { type: 'button', class: 'retry', disabled: !open, onclick: () => retry(service, e.exception_id) }, 'Retry'),
      el('button', { type: 'button', class: 'resolve', disabled: !open, onclick: () => resolve(service, e.exception_id) }, 'Resolve'),
      el('button', { type: 'button', class: 'details', onclick: () => excDetail(service, e) }, 'Details')));
  return tr;
}

function replaceRow(service, e) {
  const old = $(`#exc-table tr[data-id="${e.exception_id}"]`);
  if (old) old.replaceWith(excRow(service, e));
  updateBulk();
}

async function retry(service, id) {
  $('#exc-status').textContent = 'Retrying…';
  try {
    const data = await api(`/v1/ops/${service}/exceptions/${id}:retry`, { method: 'POST', body: {} });
    replaceRow(service, data.exception);
    $('#exc-status').textContent = data.exception.status === 'EXCEPTION_STATUS_RESOLVED' ? 'Retried: resolved.' : 'Retried: still failing — ' + data.exception.message;
    return data.exception;
  } catch (err) {
    $('#exc-status').textContent = 'Retry refused: ' + err.message;
    return null;
  }
}

async function resolve(service, id) {
  const note = prompt('Why is this exception closed by hand? (required)');
  if (!note) return;
  try {
    const data = await api(`/v1/ops/${service}/exceptions/${id}:resolve`, { method: 'POST', body: { note } });
    replaceRow(service, data.exception);
    $('#exc-status').textContent = 'Resolved.';
  } catch (err) {
    $('#exc-status').textContent = 'Resolve refused: ' + err.message;
  }
}

function updateBulk() {
  const n = $$('#exc-table input.pick:checked').length;
  $('#exc-bulk-retry').disabled = n === 0;
  $('#exc-bulk-retry').textContent = n ? `Retry selected (${n})` : 'Retry selected';
}

async function bulkRetry() {
  const rows = $$('#exc-table input.pick:checked').map(c => c.closest('tr'));
  let ok = 0, failed = 0;
  for (const tr of rows) {
    const e = await retry(tr.dataset.service, tr.dataset.id);
    if (e && e.status === 'EXCEPTION_STATUS_RESOLVED') ok++; else failed++;
  }
  $('#exc-status').textContent = `Bulk retry: ${ok} resolved, ${failed} still open.`;
}

function excDetail(service, e) {
  const panel = $('#exc-detail');
  panel.hidden = false;
  const rows = [['Service', service], ['Exception id', e.exception_id], ['Reason', e.reason], ['Kind', e.kind], ['Message', e.message],
    ['Entity', e.entity_type + ' ' + e.entity_id], ['Legal entity', e.legal_entity_id], ['Attempts', e.attempts], ['Created', formatTime(e.create_time)],
    ['Updated', formatTime(e.update_time)], ['Resolved by', e.resolved_by], ['Resolution note', e.resolution_note]];
  panel.replaceChildren(el('h3', { text: 'Exception details' }),
    el('dl', {}, rows.filter(r => r[1] !== '' && r[1] !== undefined).flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])),
    el('p', {}, 'Correlation id: ', e.correlation_id ? el('a', { href: '#trace=' + encodeURIComponent(e.correlation_id), class: 'trace-link', text: e.correlation_id }) : '—'),
    el('h3', { text: 'Payload' }), el('pre', { id: 'exc-payload', text: 'Loading…' }));
  // The list carries no payloads: fetch this one (costs masked unless the token has costrates:read).
  api(`/v1/ops/${service}/exceptions/${e.exception_id}`).then(data => {
    $('#exc-payload').textContent = data.exception.payload_json || 'No payload.';
  }).catch(err => { $('#exc-payload').textContent = 'The payload cannot be read: ' + err.message; });
}

// ---- streams -------------------------------------------------------------------------------------

async function loadStreams() {
  const data = await api('/v1/ops/console/streams');
  const groups = $('#stream-groups tbody'), outbox = $('#stream-outbox tbody');
  groups.replaceChildren(); outbox.replaceChildren();
  for (const s of data.services) {
    for (const g of s.consumer_groups) {
      groups.append(el('tr', { class: (Number(g.lag) > 0 || Number(g.dead_letters) > 0) ? 'warn' : '' },
        el('td', { text: g.group }), el('td', { text: g.stream }), el('td', { class: 'num', text: formatDecimal(g.length) }),
        el('td', { class: 'num', text: formatDecimal(g.lag) }), el('td', { class: 'num', text: formatDecimal(g.pending) }),
        el('td', { text: formatAge(g.oldest_pending_seconds) }), el('td', { class: 'num', text: formatDecimal(g.dead_letters) })));
    }
    outbox.append(el('tr', { class: Number(s.outbox.unpublished) > 0 ? 'warn' : '' }, el('td', { text: s.service }),
      el('td', { class: 'num', text: formatDecimal(s.outbox.unpublished) }), el('td', { text: formatAge(s.outbox.oldest_unpublished_seconds) }),
      el('td', { text: s.produced.map(p => `${p.stream} (${formatDecimal(p.length)})`).join(', ') || '—' })));
  }
  $('#stream-errors').textContent = data.errors ? 'Not answering: ' + Object.entries(data.errors).map(([s, m]) => s + ' (' + m + ')').join(', ') : '';
}

// ---- trace ---------------------------------------------------------------------------------------

const kindLabels = { REQUEST: 'Request', EVENT_PUBLISHED: 'Event published', EVENT_CONSUMED: 'Event consumed', EXCEPTION: 'Exception',
  PROJECT: 'Project', TIME_ENTRY: 'Time entry', POSTING: 'Posting', INVOICE: 'Invoice', PAYMENT: 'Payment', DELIVERY: 'Outbound delivery' };

async function runTrace() {
  const key = $('#trace-key').value.trim();
  if (!key) return;
  $('#trace-summary').textContent = 'Tracing…';
  const data = await api('/v1/ops/console/trace?key=' + encodeURIComponent(key));
  const tbody = $('#trace-table tbody');
  tbody.replaceChildren();
  for (const it of data.items) {
    tbody.append(el('tr', { class: 'k-' + it.kind.toLowerCase(), 'data-kind': it.kind, 'data-entity': it.entity_id },
      el('td', { text: formatTime(it.time) }), el('td', { text: it.service }), el('td', { text: kindLabels[it.kind] || it.kind }),
      el('td', { text: it.title, title: it.detail }), el('td', { text: it.status }),
      el('td', { text: (it.entity_type ? it.entity_type + ' ' : '') + (it.entity_id || it.event_id) }),
      el('td', {}, it.correlation_id ? el('a', { href: '#trace=' + encodeURIComponent(it.correlation_id), text: it.correlation_id.slice(0, 18) }) : '')));
  }
  const services = [...new Set(data.items.map(i => i.service))];
  $('#trace-summary').textContent = data.items.length
    ? `${data.items.length} items in ${services.length} services under ${data.correlation_ids.length} correlation ids` + (data.truncated ? ' (truncated)' : '')
    : 'Nothing found for ' + key + '.';
}

// ---- reconciliation ------------------------------------------------------------------------------

async function loadReconciliation() {
  const body = $('#recon-body');
  try {
    const data = await api('/v1/ops/console/reconciliation');
    const runs = (data && data.runs) || [];
    if (!runs.length) { body.replaceChildren(el('p', { class: 'empty', text: 'No reconciliation data yet: no run has been recorded.' })); return; }
    body.replaceChildren(el('table', {}, el('thead', {}, el('tr', {}, ['Run', 'Legal entity', 'Period', 'Finished', 'Result', 'Drifts'].map(t => el('th', { text: t })))),
      el('tbody', {}, runs.map(r => el('tr', { class: r.drift_count > 0 ? 'warn' : '' }, el('td', { text: r.run_id }), el('td', { text: r.legal_entity_id }),
        el('td', { text: r.period }), el('td', { text: formatTime(r.finish_time) }), el('td', { text: r.status }),
        el('td', { text: (r.drifts || []).map(d => d.check + ': ' + (d.ids || []).join(', ')).join('; ') || '0' }))))));
  } catch (err) {
    if (err.status === 404) { body.replaceChildren(el('p', { class: 'empty', text: 'No reconciliation data: this installation does not run reconciliation yet.' })); return; }
    throw err;
  }
}

// ---- wiring --------------------------------------------------------------------------------------

$('#signin-form').addEventListener('submit', async e => {
  e.preventDefault();
  session.token = $('#token').value.trim();
  $('#token').value = '';
  try { await api('/v1/ops/console/streams'); $('#signin-error').textContent = ''; location.hash = '#kpis'; route(); }
  catch (err) { session.token = ''; $('#signin-error').textContent = 'Sign-in failed: ' + err.message; }
});
$('#signout').addEventListener('click', () => { session.token = ''; location.hash = ''; show('signin'); });
$('#exc-filters').addEventListener('submit', e => { e.preventDefault(); loadExceptions('').catch(showFatal); });
$('#exc-next').addEventListener('click', () => loadExceptions(excPage.next).catch(showFatal));
$('#exc-first').addEventListener('click', () => loadExceptions('').catch(showFatal));
$('#exc-bulk-retry').addEventListener('click', () => bulkRetry().catch(showFatal));
$('#exc-all').addEventListener('change', e => { for (const c of $$('#exc-table input.pick:not(:disabled)')) c.checked = e.target.checked; updateBulk(); });
$('#trace-form').addEventListener('submit', e => { e.preventDefault(); runTrace().catch(showFatal); });
window.addEventListener('hashchange', route);
route();
