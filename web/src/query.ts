// The page of one query: live charts of the last hour, the plan with its state, the progress
// records, the dead-letter rows, STOP and DROP.
import { api, quoteIdent, type Progress, type QueryInfo, type Sample } from './api';
import { keyedRows, setFacts } from './cells';
import { TimeChart } from './chart';
import { bytesQuantity, secondsQuantity } from './ticks';
import { bytes, el, lagOf, num, seconds, statusBadge } from './format';
import { live } from './live';
import { renderPlan } from './plan';
import { renderAnswer } from './sqlbox';

export function renderQuery(root: HTMLElement, name: string): () => void {
  const title = el('h1', {}, 'Query ', el('span', { class: 'qname' }, name), ' ');
  const status = el('span', { id: 'query-status' });
  const stop = el('button', { id: 'stop', type: 'button' }, 'STOP');
  const drop = el('button', { id: 'drop', type: 'button', class: 'danger' }, 'DROP');
  const actionMsg = el('span', { id: 'action-msg', class: 'muted' });
  const facts = el('dl', { class: 'facts', id: 'facts' });
  const errorBox = el('div', { id: 'query-error', class: 'sql-error', role: 'alert', hidden: '' });
  const charts = {
    rate: new TimeChart('rows/s: input vs processing', [{ label: 'input', color: '#2563eb', format: (v) => num(v) }, { label: 'processing', color: '#16a34a', format: (v) => num(v) }], { id: 'chart-rate', log: true }),
    duration: new TimeChart('epoch duration', [{ label: 'p50', color: '#2563eb', format: seconds, quantity: secondsQuantity }, { label: 'p99', color: '#dc2626', format: seconds, quantity: secondsQuantity }], { id: 'chart-duration' }),
    lag: new TimeChart('watermark lag', [{ label: 'lag', color: '#9333ea', format: seconds, quantity: secondsQuantity }], { id: 'chart-lag' }),
    state: new TimeChart('state', [{ label: 'rows', color: '#2563eb', format: (v) => num(v) }, { label: 'bytes', color: '#16a34a', format: bytes, quantity: bytesQuantity, right: true }], { id: 'chart-state' }),
    bad: new TimeChart('late and bad rows per second', [{ label: 'late', color: '#dc2626', format: (v) => num(v) }, { label: 'bad', color: '#ea580c', format: (v) => num(v) }], { id: 'chart-bad' }),
  };
  const planBox = el('div', { id: 'plan' });
  const progressBox = el('div', { id: 'progress' });
  const deadBox = el('div', { id: 'dead-letters' });
  const sqlText = el('pre', { class: 'sql' });
  root.replaceChildren(
    el('p', {}, el('a', { href: '#/' }, '← all queries')),
    el('div', { class: 'title-row' }, title, status, stop, drop, actionMsg),
    errorBox, facts, sqlText,
    el('h2', {}, 'Last hour'), el('div', { class: 'charts' }, ...Object.values(charts).map((c) => c.root)),
    el('h2', {}, 'Streaming plan'), planBox,
    el('h2', {}, 'Progress records'), progressBox,
    el('h2', {}, 'Dead-letter rows'), deadBox);

  let info: QueryInfo | undefined;
  const act = async (what: 'stop' | 'drop') => {
    if (what === 'drop' && !confirm(`DROP ${name}? Its checkpoint and results go with it.`)) return;
    actionMsg.textContent = what === 'stop' ? 'stopping…' : 'dropping…';
    try {
      const { status: code, body } = await (what === 'stop' ? api.stop(name) : api.drop(name));
      const err = body.error;
      actionMsg.textContent = code === 200 ? body.tag ?? '' : 'refused: ' + (typeof err === 'string' ? err : err?.message ?? code);
      if (code === 200 && what === 'drop') location.hash = '#/';
    } catch (e) {
      actionMsg.textContent = String(e);
    }
  };
  stop.addEventListener('click', () => void act('stop'));
  drop.addEventListener('click', () => void act('drop'));

  const loadDeadLetters = async () => {
    if (!info?.deadLetterTable) {
      deadBox.replaceChildren(el('p', { class: 'muted' }, 'This query has no dead-letter table (its name was taken).'));
      return;
    }
    const { body } = await api.sql(`SELECT * FROM ${quoteIdent(info.deadLetterTable)} LIMIT 100`);
    renderAnswer(body, deadBox);
    deadBox.prepend(el('p', { class: 'muted' }, `The latest rows of ${info.deadLetterTable} (sources with on_error = 'dead_letter').`));
  };

  const drawCharts = (ss: Sample[]) => {
    const xs = ss.map((s) => s.t);
    charts.rate.set(xs, [ss.map((s) => s.inputRowsPerSecond), ss.map((s) => s.processedRowsPerSecond)]);
    charts.duration.set(xs, [ss.map((s) => s.epochP50Seconds), ss.map((s) => s.epochP99Seconds)]);
    charts.lag.set(xs, [ss.map((s) => s.watermarkLagSeconds)]);
    charts.state.set(xs, [ss.map((s) => s.stateRows), ss.map((s) => s.stateBytes)]);
    charts.bad.set(xs, [ss.map((s) => s.lateRows), ss.map((s) => s.badRecords)]);
  };

  // The progress table keeps a row per epoch: a new epoch adds one and drops the oldest, so an
  // open JSON view stays open while the query runs.
  const progressRows = keyedRows<Progress>(progressBox, ['epoch', 'timestamp', 'input rows', 'output rows', 'duration', 'watermark', 'late', 'bad', ''], (r) => el('tr', {},
    el('td', { class: 'n' }, String(r.batchId)), el('td', {}, r.timestamp), el('td', { class: 'n' }, num(r.numInputRows)),
    el('td', { class: 'n' }, num(r.numOutputRows)), el('td', { class: 'n' }, seconds(r.durationSeconds?.triggerExecution)),
    el('td', {}, r.eventTime?.watermark ?? '–'), el('td', { class: 'n' }, String(r.numRowsDroppedByWatermark)),
    el('td', { class: 'n' }, String(r.numBadRecords)),
    el('td', {}, el('details', {}, el('summary', {}, 'JSON'), el('pre', {}, JSON.stringify(r, null, 2))))));

  let lastSamples: Sample[] | undefined;
  let lastBatch = '';
  const draw = () => {
    const q = live.queries.find((x) => x.name === name);
    if (!q) {
      if ((status.firstElementChild as HTMLElement | null)?.dataset.status !== 'dropped') status.replaceChildren(statusBadge('dropped'));
      return;
    }
    if ((status.firstElementChild as HTMLElement | null)?.dataset.status !== q.status) status.replaceChildren(statusBadge(q.status));
    const running = q.status === 'running';
    stop.toggleAttribute('disabled', !running);
    errorBox.hidden = !q.error;
    errorBox.textContent = q.error ? `ERROR: ${q.error}` : '';
    const p = live.last.get(name);
    const wm = p?.eventTime?.watermark;
    const state = (p?.stateOperators ?? []).reduce((a, o) => ({ rows: a.rows + o.numRowsTotal, bytes: a.bytes + o.memoryUsedBytes }), { rows: 0, bytes: 0 });
    setFacts(facts, [
      ['kind', q.kind], ['mode', q.mode], ['sink', q.sink], ['trigger', q.trigger],
      ['epochs', p ? String(p.batchId + 1) : '0'],
      ['input rows/s', num(p?.inputRowsPerSecond)], ['processed rows/s', num(p?.processedRowsPerSecond)],
      ['last epoch', seconds(p?.durationSeconds?.triggerExecution)],
      ['watermark', wm ?? '–'], ['lag', seconds(lagOf(wm))],
      ['state', p ? `${num(state.rows)} rows, ${bytes(state.bytes)}` : '–'],
      ['late rows', num(p?.numRowsDroppedByWatermarkTotal ?? 0)], ['bad records', num(p?.numBadRecordsTotal ?? 0)],
      ['id', p?.id ?? '–'], ['run id', p?.runId ?? '–'],
      ...(q.sinkStatus ? [['sink status', q.sinkStatus] as [string, string]] : []),
    ]);
    const ss = live.samples.get(name) ?? [];
    if (ss !== lastSamples || ss.length !== Number(charts.rate.root.dataset.points ?? -1)) {
      lastSamples = ss;
      drawCharts(ss);
    }
    const batch = p ? `${p.runId}/${p.batchId}` : '';
    if (batch !== lastBatch) {
      lastBatch = batch;
      if (info?.plan) planBox.replaceChildren(renderPlan(info.plan, p?.stateOperators ?? []));
      const list = (live.progress.get(name) ?? []).slice(-20).reverse();
      progressRows.update(list.map((r) => [`${r.runId}/${r.batchId}`, r]));
    }
  };

  const unsubscribe = live.subscribe(draw);
  live.load(name).then((i) => {
    info = i;
    sqlText.textContent = i.sql;
    planBox.replaceChildren(renderPlan(i.plan ?? '', i.lastProgress?.stateOperators ?? []));
    lastBatch = '';
    draw();
    void loadDeadLetters();
  }).catch((e) => {
    root.replaceChildren(el('p', {}, el('a', { href: '#/' }, '← all queries')), el('div', { class: 'sql-error', role: 'alert' }, String(e)));
  });
  draw();
  return () => {
    unsubscribe();
    for (const c of Object.values(charts)) c.destroy();
  };
}
