// Axis tick labels for the charts. Pure functions (no DOM, no uPlot) so that
// web/test/ticks.test.mjs can run them under node.
//
// The unit is chosen from the largest tick on the axis (so the base reads "0 ms", not "0 µs"
// under "4 ms"), and the number of decimals from the increment between ticks, so adjacent
// labels always differ: 2.70 s, 2.71 s, 2.72 s instead of three times "2.7 s".

export interface Unit {
  scale: number; // the unit's size in the quantity's base unit (seconds, bytes, rows)
  suffix: string; // printed after the number, including its leading space if any
}

export interface Quantity {
  unit(maxAbs: number): Unit;
  // incrs are the tick increments uPlot may choose from, in the base unit; undefined keeps
  // uPlot's decimal 1-2-5 steps.
  incrs?: number[];
}

export const secondsQuantity: Quantity = {
  unit(m) {
    if (m === 0) return { scale: 1, suffix: ' s' };
    if (m < 1e-3) return { scale: 1e-6, suffix: ' µs' };
    if (m < 1) return { scale: 1e-3, suffix: ' ms' };
    if (m < 120) return { scale: 1, suffix: ' s' };
    if (m < 7200) return { scale: 60, suffix: ' min' };
    if (m < 172800) return { scale: 3600, suffix: ' h' };
    return { scale: 86400, suffix: ' d' };
  },
  // Below a second decimal steps; above it steps that are whole in seconds, minutes or hours.
  incrs: [
    ...[-9, -8, -7, -6, -5, -4, -3, -2, -1].flatMap((e) => [1, 2, 5].map((m) => m * 10 ** e)),
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 172800, 432000, 864000, 1728000, 4320000, 8640000,
  ],
};

export const bytesQuantity: Quantity = {
  unit(m) {
    const suffixes = [' B', ' KiB', ' MiB', ' GiB', ' TiB', ' PiB'];
    let i = 0;
    while (m >= 1024 ** (i + 1) && i < suffixes.length - 1) i++;
    return { scale: 1024 ** i, suffix: suffixes[i] };
  },
  // Powers of two, so that ticks fall on whole KiB, MiB, ...
  incrs: Array.from({ length: 51 }, (_, i) => 2 ** i),
};

export const countQuantity: Quantity = {
  unit(m) {
    if (m >= 1e9) return { scale: 1e9, suffix: 'G' };
    if (m >= 1e6) return { scale: 1e6, suffix: 'M' };
    if (m >= 1e4) return { scale: 1e3, suffix: 'k' };
    return { scale: 1, suffix: '' };
  },
};

// decimalsFor is how many decimals print a step of `step` (in the unit): at least enough that
// one step moves the last digit (so adjacent ticks differ), plus up to two more when the step
// is not whole there (2.5, 0.25).
export function decimalsFor(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  let d = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  for (let extra = 0; extra < 2; extra++) {
    const s = step * 10 ** d;
    if (Math.abs(s - Math.round(s)) <= 1e-6 * s) break;
    d++;
  }
  return d;
}

// tickLabels labels the ticks `splits` (null: a tick uPlot leaves unlabelled) that are `incr`
// apart. On a log axis (log = true) the ticks are not evenly spaced, so each is labelled on its
// own in the unit of its own size.
export function tickLabels(q: Quantity, splits: (number | null)[], incr: number, log = false): string[] {
  if (log) {
    return splits.map((v) => {
      if (v === null || !Number.isFinite(v)) return '';
      const u = q.unit(Math.abs(v));
      const x = v / u.scale;
      return trimZeros(x.toFixed(decimalsFor(Math.abs(x) || 1))) + u.suffix;
    });
  }
  let maxAbs = 0;
  for (const v of splits) if (v !== null && Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  const u = q.unit(maxAbs);
  const d = decimalsFor(incr / u.scale);
  return splits.map((v) => {
    if (v === null || !Number.isFinite(v)) return '';
    const s = (v / u.scale).toFixed(d);
    return (Number(s) === 0 ? (0).toFixed(d) : s) + u.suffix; // no "-0.00"
  });
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

// lastValue is the latest non-null value of a series, which the legend shows while the cursor
// is not on the chart.
export function lastValue(col: ArrayLike<number | null | undefined> | undefined): number | null {
  if (!col) return null;
  for (let i = col.length - 1; i >= 0; i--) {
    const v = col[i];
    if (v !== null && v !== undefined && !Number.isNaN(v)) return v;
  }
  return null;
}
