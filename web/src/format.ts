// Small formatting and DOM helpers shared by the pages.

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

export function num(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (Math.abs(v) >= 1e9) return (v / 1e9).toFixed(digits) + 'G';
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(digits) + 'M';
  if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(digits) + 'k';
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

export function bytes(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(1)) + ' ' + units[i];
}

export function seconds(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (v < 1e-3) return (v * 1e6).toFixed(0) + ' µs';
  if (v < 1) return (v * 1e3).toFixed(1) + ' ms';
  if (v < 10) return v.toFixed(2) + ' s';
  if (v < 120) return v.toFixed(1) + ' s';
  if (v < 7200) return (v / 60).toFixed(1) + ' min';
  if (v < 172800) return (v / 3600).toFixed(1) + ' h';
  return (v / 86400).toFixed(1) + ' d';
}

// lagOf is the clock minus the watermark, from the ISO 8601 eventTime.watermark.
export function lagOf(watermark: string | undefined): number | null {
  if (!watermark) return null;
  const t = Date.parse(watermark);
  return Number.isNaN(t) ? null : (Date.now() - t) / 1000;
}

export function statusBadge(status: string): HTMLElement {
  return el('span', { class: `badge status-${status}`, 'data-status': status }, status);
}
