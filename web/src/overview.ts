// The engine page: every continuous query with its status and latest figures, live.
import { live } from './live';
import { bytes, el, lagOf, num, seconds, statusBadge } from './format';

export function renderOverview(root: HTMLElement): () => void {
  const table = el('table', { class: 'grid', id: 'queries' });
  const empty = el('p', { class: 'muted' }, 'No continuous query yet: CREATE SINK or CREATE MATERIALIZED VIEW (in the SQL box, psql or -f init.sql).');
  root.replaceChildren(el('h1', {}, 'Continuous queries'), el('div', { class: 'scroll' }, table), empty);
  const head = ['query', 'status', 'kind', 'mode', 'sink', 'trigger', 'epochs', 'in rows/s', 'out rows/s', 'watermark', 'lag', 'state rows', 'state bytes', 'late rows', 'bad records', 'last error'];
  const draw = () => {
    const rows = live.queries.map((q) => {
      const p = live.last.get(q.name);
      const samples = live.samples.get(q.name) ?? [];
      const s = samples[samples.length - 1];
      const fresh = s && Date.now() / 1000 - s.t < 5;
      const state = (p?.stateOperators ?? []).reduce((a, o) => ({ rows: a.rows + o.numRowsTotal, bytes: a.bytes + o.memoryUsedBytes }), { rows: 0, bytes: 0 });
      const wm = p?.eventTime?.watermark;
      const err = q.error ?? (q.sinkStatus ? 'sink ' + q.sinkStatus : '');
      return el('tr', { 'data-query': q.name },
        el('td', {}, el('a', { href: `#/query/${encodeURIComponent(q.name)}` }, q.name)),
        el('td', {}, statusBadge(q.status)),
        el('td', {}, q.kind), el('td', {}, q.mode), el('td', {}, q.sink), el('td', { class: 'trigger' }, q.trigger),
        el('td', { class: 'n' }, p ? String(p.batchId + 1) : '0'),
        el('td', { class: 'n' }, num(fresh ? s.inputRowsPerSecond : p?.inputRowsPerSecond)),
        el('td', { class: 'n' }, num(fresh ? s.outputRows : 0)),
        el('td', {}, wm ? wm.replace('T', ' ').replace('Z', '') : '–'),
        el('td', { class: 'n' }, seconds(lagOf(wm))),
        el('td', { class: 'n' }, p ? num(state.rows) : '–'),
        el('td', { class: 'n' }, p ? bytes(state.bytes) : '–'),
        el('td', { class: 'n' }, num(p?.numRowsDroppedByWatermarkTotal ?? 0)),
        el('td', { class: 'n' }, num(p?.numBadRecordsTotal ?? 0)),
        el('td', { class: 'error' }, err));
    });
    table.replaceChildren(el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), el('tbody', {}, ...rows));
    empty.hidden = live.queries.length > 0;
  };
  draw();
  return live.subscribe(draw);
}
