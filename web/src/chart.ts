// Time-series charts on uPlot: one chart per figure, x = Unix seconds.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  color: string;
  format?: (v: number | null) => string;
  // right: on a second y axis at the right (a figure of another unit or magnitude).
  right?: boolean;
}

const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea'];

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
    const fmt = series[0]?.format;
    const right = series.find((s) => s.right);
    this.log = !!opts.log;
    const axisValues = (f?: (v: number | null) => string) => (_u: uPlot, vals: number[]) => vals.map((v) => (f ? f(v) : String(v)));
    const axes: uPlot.Axis[] = [{}, { size: 70, values: axisValues(fmt) }];
    if (right) axes.push({ scale: 'y2', side: 1, size: 70, grid: { show: false }, values: axisValues(right.format) });
    this.plot = new uPlot({
      title,
      width: 460,
      height: 200,
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true }, y: this.log ? { distr: 3 } : {}, y2: {} },
      axes,
      series: [{}, ...series.map((s, i) => ({
        label: s.label,
        scale: s.right ? 'y2' : 'y',
        stroke: s.color || palette[i % palette.length],
        width: 1.5,
        spanGaps: false,
        value: (_u: uPlot, v: number | null) => (v === null ? '–' : s.format ? s.format(v) : String(v)),
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
