// The engine page: every continuous query with its status and latest figures, live.
import { live } from './live';
import { bytes, el, lagOf, num, seconds, statusBadge } from './format';
import { setCells } from './cells';

// A row is kept per query and its cells are updated in place: the page redraws on every epoch
// (ten times a second for a busy query), and replacing the rows would swallow clicks whose
// mouse-down and mouse-up land on two generations of the same link, and reset text selections.
interface Row {
  tr: HTMLTableRowElement;
  cells: HTMLTableCellElement[];
}

// The columns and their cells' classes ('n': right-aligned figures).
const head = ['query', 'status', 'kind', 'mode', 'sink', 'trigger', 'epochs', 'in rows/s', 'out rows/s', 'watermark', 'lag', 'state rows', 'state bytes', 'late rows', 'bad records', 'last error'];
const cellClass = ['', '', '', '', '', 'trigger', 'n', 'n', 'n', '', 'n', 'n', 'n', 'n', 'n', 'error'];

export function renderOverview(root: HTMLElement): () => void {
  const tbody = el('tbody');
  const table = el('table', { class: 'grid', id: 'queries' }, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), tbody);
  const empty = el('p', { class: 'muted' }, 'No continuous query yet: CREATE SINK or CREATE MATERIALIZED VIEW (in the SQL box, psql or -f init.sql).');
  root.replaceChildren(el('h1', {}, 'Continuous queries'), el('div', { class: 'scroll' }, table), empty);
  const rows = new Map<string, Row>();

  const rowOf = (name: string): Row => {
    let r = rows.get(name);
    if (!r) {
      const cells = cellClass.map((c) => el('td', c ? { class: c } : {}));
      cells[0].append(el('a', { href: `#/query/${encodeURIComponent(name)}` }, name));
      r = { tr: el('tr', { 'data-query': name }, ...cells), cells };
      rows.set(name, r);
    }
    return r;
  };

  const draw = () => {
    const order: HTMLTableRowElement[] = [];
    const seen = new Set<string>();
    for (const q of live.queries) {
      const p = live.last.get(q.name);
      const samples = live.samples.get(q.name) ?? [];
      const s = samples[samples.length - 1];
      const fresh = s && Date.now() / 1000 - s.t < 5;
      const state = (p?.stateOperators ?? []).reduce((a, o) => ({ rows: a.rows + o.numRowsTotal, bytes: a.bytes + o.memoryUsedBytes }), { rows: 0, bytes: 0 });
      const wm = p?.eventTime?.watermark;
      const err = q.error ?? (q.sinkStatus ? 'sink ' + q.sinkStatus : '');
      const r = rowOf(q.name);
      const badge = r.cells[1].firstElementChild as HTMLElement | null;
      if (badge?.dataset.status !== q.status) r.cells[1].replaceChildren(statusBadge(q.status));
      setCells(r.cells, 2, [
        q.kind, q.mode, q.sink, q.trigger,
        p ? String(p.batchId + 1) : '0',
        num(fresh ? s.inputRowsPerSecond : p?.inputRowsPerSecond),
        num(fresh ? s.outputRows : 0),
        wm ? wm.replace('T', ' ').replace('Z', '') : '–',
        seconds(lagOf(wm)),
        p ? num(state.rows) : '–',
        p ? bytes(state.bytes) : '–',
        num(p?.numRowsDroppedByWatermarkTotal ?? 0),
        num(p?.numBadRecordsTotal ?? 0),
        err,
      ]);
      order.push(r.tr);
      seen.add(q.name);
    }
    for (const name of [...rows.keys()]) if (!seen.has(name)) rows.delete(name);
    // Re-attach only when the set or order of queries changed: moving a row is what resets it.
    const current = [...tbody.children];
    if (current.length !== order.length || current.some((tr, i) => tr !== order[i])) tbody.replaceChildren(...order);
    empty.hidden = live.queries.length > 0;
  };
  draw();
  return live.subscribe(draw);
}
