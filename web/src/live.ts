// The live store: what the server-sent events of /api/events say, kept for the pages.
import { api, type Progress, type QueryInfo, type Sample } from './api';

// maxSamples is an hour of per-second samples, as the server keeps.
const maxSamples = 3600;
// maxProgress bounds the progress records kept per query for the table.
const maxProgress = 100;

type Listener = () => void;

class LiveStore {
  queries: QueryInfo[] = [];
  last = new Map<string, Progress>();
  progress = new Map<string, Progress[]>();
  samples = new Map<string, Sample[]>();
  connected = false;
  private listeners = new Set<Listener>();
  private source?: EventSource;
  private pending = false;

  start() {
    this.source = new EventSource('api/events');
    this.source.onopen = () => { this.connected = true; this.changed(); };
    this.source.onerror = () => { this.connected = false; this.changed(); };
    this.source.addEventListener('queries', (e) => {
      this.queries = JSON.parse((e as MessageEvent).data) as QueryInfo[];
      const names = new Set(this.queries.map((q) => q.name));
      for (const m of [this.last, this.progress, this.samples]) {
        for (const k of [...m.keys()]) if (!names.has(k)) m.delete(k);
      }
      this.changed();
    });
    this.source.addEventListener('progress', (e) => {
      const { query, progress } = JSON.parse((e as MessageEvent).data) as { query: string; progress: Progress };
      this.last.set(query, progress);
      const list = this.progress.get(query) ?? [];
      list.push(progress);
      if (list.length > maxProgress) list.splice(0, list.length - maxProgress);
      this.progress.set(query, list);
      this.changed();
    });
    this.source.addEventListener('sample', (e) => {
      const { query, sample } = JSON.parse((e as MessageEvent).data) as { query: string; sample: Sample };
      const list = this.samples.get(query) ?? [];
      if (list.length === 0 || list[list.length - 1].t < sample.t) list.push(sample);
      if (list.length > maxSamples) list.splice(0, list.length - maxSamples);
      this.samples.set(query, list);
      this.changed();
    });
    // The first paint need not wait for the stream: the latest progress of every query.
    api.queries().then((qs) => {
      for (const q of qs) if (q.lastProgress && !this.last.has(q.name)) this.last.set(q.name, q.lastProgress);
      if (this.queries.length === 0) this.queries = qs;
      this.changed();
    }).catch(() => {});
  }

  // load fills one query's history (progress records and samples) from the API.
  async load(name: string) {
    const [info, series] = await Promise.all([api.query(name), api.series(name)]);
    const have = this.samples.get(name) ?? [];
    const newer = have.filter((s) => series.length === 0 || s.t > series[series.length - 1].t);
    this.samples.set(name, [...series, ...newer]);
    const recent = info.recentProgress ?? [];
    const seen = this.progress.get(name) ?? [];
    const after = seen.filter((p) => recent.length === 0 || p.batchId > recent[recent.length - 1].batchId || p.runId !== recent[recent.length - 1].runId);
    this.progress.set(name, [...recent, ...after].slice(-maxProgress));
    if (info.lastProgress && !this.last.has(name)) this.last.set(name, info.lastProgress);
    this.changed();
    return info;
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // changed coalesces the events of one frame into one render.
  private changed() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      for (const fn of this.listeners) fn();
    });
  }
}

export const live = new LiveStore();
