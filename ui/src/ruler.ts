// The time ruler: a histogram of the window's changes and Warning Events
// (uPlot), drag to zoom into a part of it, the coverage gaps shaded and a
// line at now.

import uPlot from 'uplot';
import { h } from './dom';
import type { Lane } from './lanes-model';
import { isQuietTick } from './lanes-model';
import type { CoverageGap } from './types';
import { formatFull, formatTime, parseTime, toRfc3339 } from './time';

const BINS = 120;
export const RULER_Y_AXIS = 44;

export interface RulerData {
  start: number;
  end: number;
  lanes: Lane[];
  gaps: CoverageGap[];
  now: number;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** Counts per bin: every change, spec changes (and creates/deletes), Warnings. */
function histogram(d: RulerData): uPlot.AlignedData {
  const span = d.end - d.start;
  const width = span / BINS;
  const xs: number[] = [];
  const all = new Array<number>(BINS).fill(0);
  const spec = new Array<number>(BINS).fill(0);
  const warn = new Array<number>(BINS).fill(0);
  for (let i = 0; i < BINS; i++) xs.push((d.start + (i + 0.5) * width) / 1000);
  const bin = (t: number) => Math.min(BINS - 1, Math.max(0, Math.floor((t - d.start) / width)));
  for (const lane of d.lanes) {
    for (const tick of lane.ticks) {
      if (tick.t < d.start || tick.t > d.end) continue;
      const b = bin(tick.t);
      all[b]++;
      if (!isQuietTick(tick.rec)) spec[b]++;
    }
    for (const ev of lane.events) {
      if (ev.rec.type === 'Warning' && ev.t >= d.start && ev.t <= d.end) warn[bin(ev.t)]++;
    }
  }
  return [xs, all, spec, warn];
}

/** One shaded interval per reason where the per-type gaps overlap. */
function distinctGaps(gaps: CoverageGap[]): { start: number; end: number; reason: string; types: string[] }[] {
  const sorted = gaps
    .map((g) => ({ start: parseTime(g.start), end: g.end ? parseTime(g.end) : NaN, reason: g.reason, types: [g.resourceType] }))
    .sort((a, b) => a.reason.localeCompare(b.reason) || a.start - b.start);
  const out: typeof sorted = [];
  for (const g of sorted) {
    const last = out[out.length - 1];
    const lastEnd = last && (Number.isNaN(last.end) ? Infinity : last.end);
    if (last && last.reason === g.reason && g.start <= lastEnd) {
      if (Number.isNaN(g.end) || g.end > lastEnd) last.end = g.end;
      if (!last.types.includes(g.types[0])) last.types.push(g.types[0]);
    } else {
      out.push(g);
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

export class Ruler {
  readonly root: HTMLElement;
  private host: HTMLElement;
  private plot: uPlot | null = null;
  private data: RulerData | null = null;
  private width = 800;
  private gapNote: HTMLElement;

  constructor(private onZoom: (start: number, end: number) => void) {
    this.host = h('div', { class: 'ruler-plot' });
    // The shading lets drags through to the brush, so it has no tooltip:
    // the gaps are spelled out here instead.
    this.gapNote = h('div', { class: 'gap-note small' });
    this.root = h('div', { class: 'ruler', testid: 'ruler', 'aria-label': 'Time ruler: drag to zoom' },
      h('div', { class: 'ruler-legend' },
        h('span', { class: 'sw sw-all' }), ' changes ',
        h('span', { class: 'sw sw-spec' }), ' spec ',
        h('span', { class: 'sw sw-warn' }), ' Warnings',
        h('div', { class: 'muted small', text: 'drag on the histogram to zoom' }),
        this.gapNote),
      this.host);
  }

  setWidth(px: number): void {
    this.width = Math.max(200, px);
    this.plot?.setSize({ width: this.width, height: 110 });
    this.drawOverlays();
  }

  setData(d: RulerData): void {
    this.data = d;
    this.root.dataset.start = toRfc3339(d.start);
    this.root.dataset.end = toRfc3339(d.end);
    this.plot?.destroy();
    const s0 = d.start / 1000;
    const s1 = d.end / 1000;
    const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.9, 40] }) : undefined;
    const thin = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.45, 20] }) : undefined;
    const axisColor = cssVar('--fg-muted', '#888');
    const grid = { stroke: cssVar('--grid', 'rgba(128,128,128,0.15)'), width: 1 };
    const opts: uPlot.Options = {
      width: this.width,
      height: 110,
      legend: { show: false },
      // No side padding: the plot's x range must line up with the lane tracks.
      padding: [8, 0, 0, 0],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      scales: { x: { time: true, range: () => [s0, s1] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        { stroke: axisColor, grid, ticks: grid },
        {
          stroke: axisColor, grid, ticks: grid, size: RULER_Y_AXIS,
          values: (_u, vals) => vals.map((v) => (v >= 1000 ? `${+(v / 1000).toFixed(1)}k` : String(v))),
        },
      ],
      series: [
        {},
        { label: 'changes', fill: cssVar('--hist-all', '#9db7d5'), stroke: 'transparent', paths: bars },
        { label: 'spec', fill: cssVar('--hist-spec', '#2f6fb3'), stroke: 'transparent', paths: bars },
        { label: 'Warnings', fill: cssVar('--warn', '#d33'), stroke: 'transparent', paths: thin },
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const a = u.posToVal(u.select.left, 'x') * 1000;
            const b = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            if (b - a >= 1000) this.onZoom(Math.round(a), Math.round(b));
          },
        ],
      },
    };
    this.plot = new uPlot(opts, histogram(d), this.host);
    this.drawOverlays();
  }

  private drawOverlays(): void {
    const d = this.data;
    const over = this.plot?.over;
    if (!d || !over) return;
    over.querySelectorAll('.gap-shade, .now-line').forEach((el) => el.remove());
    const span = d.end - d.start;
    const pct = (t: number) => `${(((t - d.start) / span) * 100).toFixed(3)}%`;
    const all = distinctGaps(d.gaps);
    this.gapNote.textContent = all.slice(0, 2).map((g) =>
      `not watched (${g.reason}) ${formatTime(g.start, span)}–${Number.isNaN(g.end) ? 'now' : formatTime(g.end, span)}`,
    ).join('; ') + (all.length > 2 ? `; +${all.length - 2} more` : '');
    for (const g of all) {
      const end = Number.isNaN(g.end) ? d.end : g.end;
      const a = Math.max(d.start, g.start);
      const b = Math.min(d.end, end);
      if (b < a) continue;
      const el = h('div', {
        class: 'gap-shade',
        testid: 'coverage-gap',
        'data-reason': g.reason,
        'data-start': toRfc3339(g.start),
        'data-end': Number.isNaN(g.end) ? '' : toRfc3339(g.end),
        'data-resource-type': g.types.join(','),
        title: `not watched (${g.reason}): ${formatFull(g.start)} – ${Number.isNaN(g.end) ? 'now' : formatFull(g.end)}; ${g.types.join(', ')}`,
      });
      el.style.left = pct(a);
      el.style.width = `max(2px, ${(((b - a) / span) * 100).toFixed(3)}%)`;
      over.append(el);
    }
    if (d.now >= d.start && d.now <= d.end) {
      const el = h('div', { class: 'now-line', testid: 'now-line', title: `now ${formatFull(d.now)}` });
      el.style.left = pct(d.now);
      over.append(el);
    }
  }
}
