// The SQL box: ad-hoc statements through POST /api/sql, results as tables, a chart when a result
// has a time column and numbers, and errors with a caret under the offending token.
import { api, type SQLAnswer, type SQLResult } from './api';
import { TimeChart } from './chart';
import { el } from './format';

const colors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea'];

export function renderResult(r: SQLResult): HTMLElement {
  const out = el('div', { class: 'result' });
  if (!r.columns) {
    out.append(el('div', { class: 'tag' }, r.tag));
    return out;
  }
  const cols = r.columns;
  const rows = r.rows ?? [];
  const table = el('table', { class: 'grid result-table' },
    el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', { title: c.type }, c.name)))),
    el('tbody', {}, ...rows.map((row) => el('tr', {}, ...row.map((v) => el('td', { class: typeof v === 'number' ? 'n' : '' }, v === null ? 'NULL' : String(v)))))));
  out.append(el('div', { class: 'tag' }, r.tag + (r.truncated ? ` (first ${rows.length} rows shown)` : '')), table);
  for (const n of r.notices ?? []) out.append(el('div', { class: 'notice' }, 'NOTICE: ' + n));
  // A chart when one column is a time and others are numbers: the rows in time order.
  const tcol = cols.findIndex((c) => c.type.startsWith('timestamp') || c.type === 'date');
  const ncols = cols.map((c, i) => ({ c, i })).filter(({ c, i }) => i !== tcol && /^(bigint|integer|smallint|double precision|real|numeric)/.test(c.type)).slice(0, 4);
  if (tcol >= 0 && ncols.length > 0 && rows.length > 1) {
    const pts = rows.map((row) => ({ t: Date.parse(String(row[tcol])) / 1000, row })).filter((p) => !Number.isNaN(p.t)).sort((a, b) => a.t - b.t);
    const chart = new TimeChart(`${ncols.map((x) => x.c.name).join(', ')} by ${cols[tcol].name}`, ncols.map((x, k) => ({ label: x.c.name, color: colors[k] })), { id: 'sql-chart' });
    out.append(chart.root);
    requestAnimationFrame(() => chart.set(pts.map((p) => p.t), ncols.map((x) => pts.map((p) => {
      const v = p.row[x.i];
      return typeof v === 'number' ? v : v === null ? null : Number(v);
    }))));
  }
  return out;
}

export function renderAnswer(ans: SQLAnswer, target: HTMLElement) {
  target.replaceChildren(...ans.results.map(renderResult));
  if (ans.error) {
    const e = ans.error;
    const where = e.line ? el('pre', { class: 'caret' }, `line ${e.line}, column ${e.column}:\n${e.text}\n${e.caret}`) : null;
    target.append(el('div', { class: 'sql-error', role: 'alert' }, el('div', {}, `ERROR: ${e.message}`, e.code ? ` (SQLSTATE ${e.code})` : ''), where));
  }
}

export function renderSQLBox(root: HTMLElement, initial = 'SHOW QUERIES'): () => void {
  const input = el('textarea', { id: 'sql-input', spellcheck: 'false', rows: '6', 'aria-label': 'SQL' }) as HTMLTextAreaElement;
  input.value = sessionStorage.getItem('streamsql.sql') ?? initial;
  const run = el('button', { id: 'sql-run', type: 'button' }, 'Run (Ctrl+Enter)');
  const output = el('div', { id: 'sql-output' });
  const exec = async () => {
    sessionStorage.setItem('streamsql.sql', input.value);
    run.setAttribute('disabled', '');
    output.replaceChildren(el('p', { class: 'muted' }, 'running…'));
    try {
      const { body } = await api.sql(input.value);
      renderAnswer(body, output);
      if (body.error && body.error.position >= 0) {
        input.focus();
        input.setSelectionRange(body.error.position, body.error.position + 1);
      }
    } catch (e) {
      output.replaceChildren(el('div', { class: 'sql-error', role: 'alert' }, String(e)));
    } finally {
      run.removeAttribute('disabled');
    }
  };
  run.addEventListener('click', exec);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); void exec(); }
  });
  root.replaceChildren(el('h1', {}, 'SQL'),
    el('p', { class: 'muted' }, 'Statements run on the engine as in psql: SELECT from tables, views and the dead-letter tables (<query>_errors), SHOW QUERIES, DESCRIBE QUERY, EXPLAIN…'),
    input, el('div', {}, run), output);
  return () => {};
}
