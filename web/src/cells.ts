// In-place updates of table cells and definition lists for the live pages: text is written only
// when it changed, so a redraw ten times a second keeps the nodes (and a user's click, hover and
// text selection on them).
import { el } from './format';

// setCells writes texts[i] into cells[from + i] where it differs.
export function setCells(cells: HTMLElement[], from: number, texts: string[]) {
  texts.forEach((t, i) => {
    const c = cells[from + i];
    if (c.textContent !== t) c.textContent = t;
  });
}

// setFacts fills a <dl> with [term, value] pairs, keeping the elements of terms it already shows
// (dd[data-fact=term]) and rebuilding it only when the list of terms changes.
export function setFacts(dl: HTMLElement, facts: [string, string][]) {
  const dds = [...dl.querySelectorAll<HTMLElement>('dd[data-fact]')];
  const same = dds.length === facts.length && dds.every((dd, i) => dd.dataset.fact === facts[i][0]);
  if (!same) {
    dl.replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-fact': k }, v)]));
    return;
  }
  facts.forEach(([, v], i) => {
    if (dds[i].textContent !== v) dds[i].textContent = v;
  });
}

// keyedRows is a table whose rows are built once per key: update(list) shows the rows of list's
// keys in its order, reusing the row of a key already shown (so its state, such as an open
// <details>, survives) and building the others with make.
export function keyedRows<T>(box: HTMLElement, head: string[], make: (item: T) => HTMLTableRowElement) {
  let built = new Map<string, HTMLTableRowElement>();
  const tbody = el('tbody');
  const table = el('table', { class: 'grid' }, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))), tbody);
  box.replaceChildren(table);
  return {
    update(list: [string, T][]) {
      const next = new Map<string, HTMLTableRowElement>();
      for (const [key, item] of list) next.set(key, built.get(key) ?? make(item));
      built = next;
      const order = [...next.values()];
      const current = [...tbody.children];
      if (current.length !== order.length || current.some((tr, i) => tr !== order[i])) tbody.replaceChildren(...order);
    },
  };
}
