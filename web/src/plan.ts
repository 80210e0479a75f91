// The streaming plan as a diagram: the EXPLAIN lines (two spaces of indentation per level,
// "Label  [operator: ...; emits: ...; state: ...; watermark: ...]") turned into a tree of boxes,
// each stateful one showing its state from the latest progress (stateOperators are named by
// the same label).
import type { StateOperator } from './api';
import { bytes, el, num } from './format';

export interface PlanNode {
  label: string;
  notes: Record<string, string>;
  children: PlanNode[];
}

export function parsePlan(text: string): { header: string; root: PlanNode | null } {
  const lines = text.split('\n');
  const header = lines.shift() ?? '';
  const stack: { depth: number; node: PlanNode }[] = [];
  let root: PlanNode | null = null;
  for (const line of lines) {
    if (!line.trim()) continue;
    const depth = line.length - line.trimStart().length;
    const body = line.trim();
    const open = body.lastIndexOf('  [');
    const label = open >= 0 ? body.slice(0, open) : body;
    const notes: Record<string, string> = {};
    if (open >= 0) {
      for (const part of body.slice(open + 3, body.endsWith(']') ? -1 : undefined).split('; ')) {
        const i = part.indexOf(': ');
        if (i > 0) notes[part.slice(0, i)] = part.slice(i + 2);
      }
    }
    const node: PlanNode = { label, notes, children: [] };
    while (stack.length && stack[stack.length - 1].depth >= depth) stack.pop();
    if (stack.length) stack[stack.length - 1].node.children.push(node);
    else root = node;
    stack.push({ depth, node });
  }
  return { header, root };
}

export function renderPlan(text: string, state: StateOperator[]): HTMLElement {
  const { header, root } = parsePlan(text);
  const used = new Set<number>();
  const box = (n: PlanNode): HTMLElement => {
    const i = state.findIndex((s, j) => !used.has(j) && s.operatorName === n.label);
    let st: HTMLElement | null = null;
    if (i >= 0) {
      used.add(i);
      const s = state[i];
      const side = s.numRowsBySide ? ` (left ${num(s.numRowsBySide[0])}, right ${num(s.numRowsBySide[1])})` : '';
      st = el('div', { class: 'state' }, `state: ${num(s.numRowsTotal)} rows${side}, ${bytes(s.memoryUsedBytes)}; +${num(s.numRowsUpdated)} / −${num(s.numRowsRemoved)} rows, ${num(s.numRowsDroppedByWatermarkTotal)} late`);
    }
    const notes = Object.entries(n.notes).map(([k, v]) => el('div', { class: 'note' }, el('b', {}, k + ': '), v));
    const kids = n.children.length ? el('ul', {}, ...n.children.map((c) => el('li', {}, box(c)))) : null;
    return el('div', { class: 'node-wrap' }, el('div', { class: 'node' + (st ? ' stateful' : '') }, el('div', { class: 'label' }, n.label), ...notes, st), kids);
  };
  return el('div', { class: 'plan' }, el('div', { class: 'plan-header' }, header), root ? el('ul', { class: 'tree' }, el('li', {}, box(root))) : el('p', {}, 'no plan'));
}
