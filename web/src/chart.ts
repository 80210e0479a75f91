// Time-series charts on uPlot: one chart per figure, x = Unix seconds.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { countQuantity, lastValue, tickLabels, type Quantity } from './ticks';

export interface SeriesSpec {
  label: string;
  color: string;
  format?: (v: number | null) => string;
  // quantity labels the series' y axis (seconds, bytes, counts); counts when unset.
  quantity?: Quantity;
  // right: on a second y axis at the right (a figure of another unit or magnitude).
  right?: boolean;
}

const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea'];

// The legend's time, as uPlot prints it by default.
const legendTime = uPlot.fmtDate('{M}/{D}/{YY} {h}:{mm}:{ss} {aa}');

export class TimeChart {
  readonly root: HTMLElement;
  private plot: uPlot;
  private observer: ResizeObserver;

  private log: boolean;

  // opts.log draws the y axis in log10 (rates that differ by orders of magnitude); values <= 0
  // are left out there.
  constructor(title: string, series: SeriesSpec[], opts: { id?: string; log?: boolean } = {}) {
    this.root = document.createElement('div');
    this.root.className = 'chart';
    if (opts.id) this.root.id = opts.id;
    const right = series.find((s) => s.right);
    this.log = !!opts.log;
    const axis = (q: Quantity = countQuantity, log: boolean): uPlot.Axis => ({
      size: 70,
      // uPlot passes the increment it chose between ticks: the labels' precision follows it.
      values: (_u: uPlot, splits: number[], _axisIdx: number, _space: number, incr: number) => tickLabels(q, splits, incr, log),
      ...(q.incrs && !log ? { incrs: q.incrs } : {}),
    });
    const axes: uPlot.Axis[] = [{}, axis(series.find((s) => !s.right)?.quantity, this.log)];
    if (right) axes.push({ ...axis(right.quantity, false), scale: 'y2', side: 1, grid: { show: false } });
    this.plot = new uPlot({
      title,
      width: 460,
      height: 200,
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true }, y: this.log ? { distr: 3 } : {}, y2: {} },
      axes,
      // Off the chart (idx null) the legend shows the latest point instead of dashes.
      series: [{
        value: (u: uPlot, v: number | null, _s: number, idx: number | null) => {
          const t = idx === null ? lastValue(u.data[0]) : v;
          return t === null ? '–' : legendTime(new Date(t * 1000));
        },
      }, ...series.map((s, i) => ({
        label: s.label,
        scale: s.right ? 'y2' : 'y',
        stroke: s.color || palette[i % palette.length],
        width: 1.5,
        spanGaps: false,
        value: (u: uPlot, v: number | null, sidx: number, idx: number | null) => {
          const x = idx === null ? lastValue(u.data[sidx]) : v;
          return x === null ? '–' : s.format ? s.format(x) : String(x);
        },
      }))],
    }, [[], ...series.map(() => [])], this.root);
    this.observer = new ResizeObserver(() => {
      const w = Math.max(280, this.root.clientWidth);
      if (Math.abs(w - this.plot.width) > 4) this.plot.setSize({ width: w, height: 200 });
    });
    this.observer.observe(this.root);
  }

  // set replaces the data; the chart's data attributes name its latest point (the browser test
  // and anyone scripting the page read them).
  set(xs: number[], ys: (number | null)[][]) {
    const data = this.log ? ys.map((col) => col.map((v) => (v !== null && v > 0 ? v : null))) : ys;
    this.plot.setData([xs, ...data] as uPlot.AlignedData);
    const n = xs.length;
    this.root.dataset.points = String(n);
    this.root.dataset.lastT = n ? String(xs[n - 1]) : '';
    this.root.dataset.lastValue = n ? String(ys[0][n - 1]) : '';
  }

  destroy() {
    this.observer.disconnect();
    this.plot.destroy();
  }
}
