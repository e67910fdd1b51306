// The dashboard page: plain DOM, no framework. It listens to /api/events (server-sent events:
// a snapshot whenever the run store changes) and draws the run list, the selected run's
// timeline and its wait chart (uPlot). Writes carry the token from the address's fragment.
'use strict';

const state = { run: undefined, token: undefined, source: undefined, chart: undefined, chartKey: undefined, detail: undefined };

function readFragment() {
  const f = new URLSearchParams(location.hash.slice(1));
  state.token = f.get('token') || undefined;
  state.run = f.get('run') || undefined;
}

function select(run) {
  const f = new URLSearchParams(location.hash.slice(1));
  if (run) f.set('run', run);
  else f.delete('run');
  location.hash = f.toString();
}

function connect() {
  if (state.source) state.source.close();
  const url = '/api/events' + (state.run ? '?run=' + encodeURIComponent(state.run) : '');
  const source = new EventSource(url);
  state.source = source;
  const status = document.getElementById('connection');
  source.onopen = () => (status.textContent = 'live');
  source.onerror = () => (status.textContent = 'reconnecting…');
  source.addEventListener('snapshot', (e) => {
    const snap = JSON.parse(e.data);
    if (snap.error) {
      status.textContent = 'store unreachable: ' + snap.error;
      return;
    }
    status.textContent = 'live · ' + new Date().toLocaleTimeString();
    drawRuns(snap.runs);
    drawRun(snap.run, snap.missing);
  });
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children) if (c !== undefined && c !== null) node.append(c);
  return node;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

function duration(ms) {
  if (ms === undefined) return '';
  if (ms < 1000) return ms + 'ms';
  const s = Math.round(ms / 1000);
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  return m < 60 ? m + 'm' + String(s % 60).padStart(2, '0') + 's' : Math.floor(m / 60) + 'h' + String(m % 60).padStart(2, '0') + 'm';
}

function drawRuns(runs) {
  const body = document.querySelector('#runs tbody');
  body.replaceChildren(
    ...runs.map((r) => {
      const pct = r.progress.total ? Math.round((100 * r.progress.finished) / r.progress.total) : 0;
      const fill = el('span');
      fill.style.width = pct + '%'; // CSSOM, which the page's CSP allows (a style attribute it would not)
      const bar = el('span', { class: 'bar' }, fill);
      const link = el('a', { href: '#', onclick: (e) => (e.preventDefault(), select(r.name)) }, r.name);
      const status = r.status + (r.pausedAt ? ' at ' + r.pausedAt : '');
      const current = r.current ? el('span', {}, el('span', { class: 'step-id' }, r.current.id), ' ', el('span', { class: 'status status-' + r.current.status }, r.current.status), r.current.message ? el('div', { class: 'muted note' }, r.current.message) : null) : '';
      return el(
        'tr',
        { 'data-run': r.name, 'data-status': r.status, class: r.name === state.run ? 'selected' : '' },
        el('td', {}, link),
        el('td', {}, r.playbook),
        el('td', { class: 'status status-' + r.status }, status),
        el('td', {}, bar, r.progress.finished + '/' + r.progress.total),
        el('td', {}, current),
        el('td', { class: 'muted' }, when(r.updatedAt)),
      );
    }),
  );
  document.getElementById('no-runs').hidden = runs.length > 0;
}

function drawRun(run, missing) {
  const section = document.getElementById('run');
  state.detail = run;
  if (!run) {
    section.hidden = !missing;
    if (missing) document.getElementById('run-title').textContent = 'No run named ' + missing;
    return;
  }
  section.hidden = false;
  section.dataset.status = run.status;
  document.getElementById('run-title').textContent = run.name + ' — ' + run.status + (run.pausedAt ? ' at ' + run.pausedAt : '');
  const params = Object.entries(run.params).map(([k, v]) => k + '=' + v).join(', ');
  document.getElementById('run-meta').textContent = 'playbook ' + run.playbook.name + ' (' + run.playbook.file + ')' + (params ? ' · ' + params : '') + ' · started ' + when(run.createdAt) + ' · updated ' + when(run.updatedAt);

  const failure = document.getElementById('failure');
  failure.hidden = !run.failure;
  if (run.failure) failure.replaceChildren(el('strong', {}, 'Step ' + run.failure.step + ' failed'), el('ol', {}, ...run.failure.chain.map((m, i) => el('li', {}, (i ? 'caused by: ' : '') + m))));

  document.getElementById('timeline').replaceChildren(...run.steps.map(drawStep));
  drawChart(run);
}

function drawStep(st) {
  const notes = [];
  if (st.summary && !st.approval) notes.push(el('div', { class: 'note' }, st.summary)); // an approval's summary repeats its line below
  if (st.approval) notes.push(el('div', { class: 'note approval' }, 'approved by ' + st.approval.by + ' via ' + st.approval.via + ' at ' + when(st.approval.at)));
  if (st.skip) notes.push(el('div', { class: 'note skip' }, 'skipped by ' + st.skip.by + ' at ' + when(st.skip.at) + ': ' + st.skip.reason));
  if (st.retries.length) notes.push(el('div', { class: 'note muted' }, st.retries.length + ' retr' + (st.retries.length === 1 ? 'y' : 'ies') + ', last: ' + st.retries[st.retries.length - 1].error));
  if (st.error) notes.push(el('div', { class: 'note status-failed' }, st.error.message));
  const facts = [st.uses, st.attempts ? st.attempts + ' attempt' + (st.attempts === 1 ? '' : 's') : '', st.startedAt ? 'started ' + when(st.startedAt) : '', st.durationMs !== undefined ? 'took ' + duration(st.durationMs) : '']
    .filter(Boolean)
    .join(' · ');
  return el(
    'li',
    { class: 'status-' + st.status, 'data-step': st.id, 'data-status': st.status },
    el('div', { class: 'step-head' }, el('span', { class: 'step-id' }, st.id), el('span', { class: 'status status-' + st.status }, st.status), el('span', { class: 'muted note' }, facts)),
    ...notes,
    actions(st),
  );
}

function actions(st) {
  if (!st.approvable && !st.skippable) return null;
  const box = el('div', { class: 'actions' });
  const disabled = state.token ? null : 'disabled';
  if (st.approvable) box.append(el('button', { class: 'approve', 'data-action': 'approve', disabled, onclick: () => decide('approve', { step: st.id }) }, 'Approve'));
  if (st.skippable) {
    const reason = el('input', { type: 'text', placeholder: 'why it is safe to skip', 'data-reason': st.id, disabled });
    box.append(reason, el('button', { 'data-action': 'skip', disabled, onclick: () => decide('skip', { step: st.id, reason: reason.value }) }, 'Skip'));
  }
  if (!state.token) box.append(el('span', { class: 'muted note' }, 'open the address the dashboard printed (it holds the token) to approve or skip'));
  return box;
}

async function decide(kind, body) {
  const out = document.getElementById('action-result');
  out.textContent = kind === 'approve' ? 'approving…' : 'skipping…';
  try {
    const res = await fetch('/api/runs/' + encodeURIComponent(state.run) + '/' + kind, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + state.token },
      body: JSON.stringify(body),
    });
    const answer = await res.json();
    out.textContent = res.ok ? (kind === 'approve' ? 'approved ' : 'skipped ') + body.step : 'refused (' + res.status + '): ' + answer.error + (answer.hint ? ' — ' + answer.hint : '');
  } catch (err) {
    out.textContent = 'failed: ' + err;
  }
}

/** The wait to chart: the step waiting now, else the latest step that has samples. */
function chartedStep(run) {
  const withSamples = run.steps.filter((s) => s.samples.length);
  return withSamples.find((s) => s.status === 'running') || withSamples[withSamples.length - 1];
}

function drawChart(run) {
  const box = document.getElementById('chart-box');
  const target = document.getElementById('chart');
  const step = chartedStep(run);
  box.hidden = !step;
  if (!step) return;
  const data = [step.samples.map((p) => p.t / 1000), step.samples.map((p) => p.lag), step.samples.map((p) => p.rate)];
  // What the chart shows, readable from the page (and by tests) without reaching into uPlot.
  target.dataset.step = step.id;
  target.dataset.points = String(step.samples.length);
  target.dataset.lag = JSON.stringify(data[1]);
  document.getElementById('chart-title').textContent = 'Step ' + step.id + ': lag and event rate';
  const key = run.name + '/' + step.id;
  if (state.chart && state.chartKey === key) {
    state.chart.setData(data);
    return;
  }
  if (state.chart) state.chart.destroy();
  state.chartKey = key;
  state.chart = new uPlot(
    {
      width: Math.max(320, target.clientWidth || 800),
      height: 240,
      series: [{}, { label: 'lag (records)', stroke: '#0969da', width: 2, scale: 'lag', spanGaps: true }, { label: 'events/s', stroke: '#1a7f37', width: 2, scale: 'rate', spanGaps: true }],
      axes: [{}, { scale: 'lag', label: 'lag' }, { scale: 'rate', side: 1, label: 'events/s', grid: { show: false } }],
      // Both from zero: a lag of 40 that falls to 8 should look like it.
      scales: { lag: { range: (_u, _min, max) => [0, Math.max(1, max)] }, rate: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    },
    data,
    target,
  );
}

window.addEventListener('hashchange', () => {
  const before = state.run;
  readFragment();
  if (state.run !== before) connect();
});
readFragment();
connect();
