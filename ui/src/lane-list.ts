// The virtualised lane list: only the rows in view (plus a few) are in the
// DOM, so 20,000 objects scroll as smoothly as 20. Ticks that would overlap
// at the current zoom are merged into one per few pixels.

import { h } from './dom';
import type { Lane, Row, Tick } from './lanes-model';
import { isQuietTick } from './lanes-model';
import { formatFull } from './time';

export const ROW_HEIGHT = 26;
const OVERSCAN = 8;
const LABEL_WIDTH = 280;
const MIN_GAP_PX = 7;

export interface LaneListHandlers {
  selectTick(lane: Lane, tick: Tick): void;
  selectLane(lane: Lane): void;
}

interface View {
  rows: Row[];
  start: number;
  end: number;
  showQuiet: boolean;
  /** Lanes of several namespaces without a namespace header: name them with theirs. */
  showNamespace: boolean;
  selectedObject: string | null;
  selectedRev: string | null;
}

const RANK: Record<string, number> = { spec: 4, meta: 2, status: 1, none: 0 };

function rankOf(t: Tick): number {
  if (t.rec.verb !== 'update') return 5;
  return RANK[t.rec.changeClass ?? 'spec'] ?? 3;
}

/** At most one tick per MIN_GAP_PX pixels: the most telling one of each bucket. */
function mergeTicks(ticks: Tick[], start: number, span: number, width: number, keep: string | null): { tick: Tick; n: number }[] {
  if (ticks.length * MIN_GAP_PX < width) return ticks.map((tick) => ({ tick, n: 1 }));
  const out: { tick: Tick; n: number }[] = [];
  let bucket = -1;
  for (const tick of ticks) {
    const b = Math.floor((((tick.t - start) / span) * width) / MIN_GAP_PX);
    const last = out[out.length - 1];
    if (b === bucket && last) {
      last.n++;
      const better = rankOf(tick) > rankOf(last.tick) || tick.rec.id === keep;
      if (better && last.tick.rec.id !== keep) last.tick = tick;
    } else {
      out.push({ tick, n: 1 });
      bucket = b;
    }
  }
  return out;
}

export class LaneList {
  readonly root: HTMLElement;
  private spacer: HTMLElement;
  private view: View = { rows: [], start: 0, end: 1, showQuiet: false, showNamespace: false, selectedObject: null, selectedRev: null };
  private pending = false;
  private focusRow = -1;
  /** Rendered rows by index, kept while they stay in view: a scroll then
   * only builds (and the browser only paints) the rows that come in. */
  private rendered = new Map<number, HTMLElement>();
  private renderedWidth = 0;

  constructor(private handlers: LaneListHandlers) {
    this.spacer = h('div', { class: 'lanes-spacer' });
    this.root = h('div', { class: 'lanes', tabindex: 0, role: 'list', 'aria-label': 'Objects' }, this.spacer);
    this.root.addEventListener('scroll', () => this.schedule());
    this.root.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.schedule()).observe(this.root);
  }

  setView(view: View): void {
    this.view = view;
    this.rendered.clear();
    const idx = view.rows.findIndex((r) => r.type === 'lane' && r.lane.key === view.selectedObject);
    if (idx >= 0) this.focusRow = idx;
    this.render();
  }

  /** Scrolls so that the selected object's lane is visible. */
  reveal(key: string): void {
    const idx = this.view.rows.findIndex((r) => r.type === 'lane' && r.lane.key === key);
    if (idx < 0) return;
    this.focusRow = idx;
    this.scrollToRow(idx);
  }

  private scrollToRow(idx: number): void {
    const top = idx * ROW_HEIGHT;
    const el = this.root;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
    this.render();
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render(): void {
    const { rows } = this.view;
    // Geometry is read before anything is written: no forced layout.
    const first = Math.max(0, Math.floor(this.root.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil((this.root.clientHeight || 600) / ROW_HEIGHT) + 2 * OVERSCAN;
    const last = Math.min(rows.length, first + visible);
    const trackWidth = Math.max(100, (this.root.clientWidth || 1000) - LABEL_WIDTH);
    if (trackWidth !== this.renderedWidth) {
      this.rendered.clear();
      this.renderedWidth = trackWidth;
    }
    this.spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    for (const [i, el] of this.rendered) {
      if (i < first || i >= last) {
        el.remove();
        this.rendered.delete(i);
      }
    }
    // Kept rows stay untouched in the DOM (the browser need not paint them
    // again); new ones go before or after them, so DOM order is row order.
    const kept = this.rendered.size;
    const before: HTMLElement[] = [];
    const after: HTMLElement[] = [];
    let pastKept = false;
    for (let i = first; i < last; i++) {
      let el = this.rendered.get(i);
      if (el) pastKept = true;
      else {
        const row = rows[i];
        el = row.type === 'group' ? this.groupRow(row.label, row.count) : this.laneRow(row.lane, row.depth, trackWidth);
        el.style.top = `${i * ROW_HEIGHT}px`;
        this.rendered.set(i, el);
        (pastKept ? after : before).push(el);
      }
      el.classList.toggle('focused', i === this.focusRow);
    }
    if (!kept) this.spacer.replaceChildren(...before, ...after);
    else {
      if (before.length) this.spacer.prepend(...before);
      if (after.length) this.spacer.append(...after);
    }
  }

  private groupRow(label: string, count: number): HTMLElement {
    return h('div', { class: 'lane-group', testid: 'lane-group', role: 'listitem' },
      h('span', { class: 'group-label', text: label }),
      h('span', { class: 'muted', text: ` ${count} objects` }));
  }

  private pos(t: number): string {
    const { start, end } = this.view;
    const x = ((t - start) / (end - start)) * 100;
    return `${Math.min(100, Math.max(0, x)).toFixed(3)}%`;
  }

  private laneRow(lane: Lane, depth: number, width: number): HTMLElement {
    const { start, end, showQuiet, showNamespace, selectedObject, selectedRev } = this.view;
    const span = end - start;
    const track = h('div', { class: 'lane-track' });
    for (const seg of lane.segments) {
      const bar = h('div', {
        class: `lifecycle-bar${seg.created ? ' created' : ''}${seg.deleted ? ' deleted' : ''}`,
        testid: 'lifecycle-bar',
        'data-unknown-end': seg.unknownEnd ? 'true' : null,
      });
      bar.style.left = this.pos(seg.start);
      bar.style.right = `calc(100% - ${this.pos(seg.end)})`;
      const len = Math.max(1, seg.end - seg.start);
      for (const u of seg.unknown) {
        const part = h('div', { class: 'unknown-part', title: 'state unknown: the server was not watching' });
        part.style.left = `${(((u.from - seg.start) / len) * 100).toFixed(2)}%`;
        part.style.width = `${(((u.to - u.from) / len) * 100).toFixed(2)}%`;
        bar.append(part);
      }
      track.append(bar);
    }
    for (const { tick, n } of mergeTicks(lane.events, start, span, width, null)) {
      const type = tick.rec.type === 'Warning' ? 'Warning' : 'Normal';
      const m = h('span', {
        class: `event-marker ev-${type.toLowerCase()}`,
        testid: 'event-marker',
        'data-record': tick.rec.id,
        'data-event-type': type,
        title: `${type} ${tick.rec.reason ?? ''}: ${tick.rec.message ?? ''} (${formatFull(tick.t)})${n > 1 ? ` +${n - 1} more` : ''}`,
      });
      m.style.left = this.pos(tick.t);
      track.append(m);
    }
    // Ticks after the markers, so that a tick is always the thing clicked;
    // ticks closer than MIN_GAP_PX are nudged apart so each stays clickable.
    const shown = showQuiet ? lane.ticks : lane.ticks.filter((t) => !isQuietTick(t.rec));
    const placed = mergeTicks(shown, start, span, width, selectedRev);
    const xs = placed.map(({ tick }) => ((tick.t - start) / span) * width);
    for (let i = 1; i < xs.length; i++) xs[i] = Math.max(xs[i], xs[i - 1] + MIN_GAP_PX);
    // Pushed past the end: pull the tail back, so the last tick stays inside.
    if (xs.length) xs[xs.length - 1] = Math.min(xs[xs.length - 1], width - 3);
    for (let i = xs.length - 2; i >= 0; i--) xs[i] = Math.min(xs[i], xs[i + 1] - MIN_GAP_PX);
    placed.forEach(({ tick, n }, i) => {
      const el = this.tickEl(lane, tick, n, tick.rec.id === selectedRev);
      el.style.left = `${Math.max(0, xs[i]).toFixed(1)}px`;
      track.append(el);
    });
    const label = h('div', { class: 'lane-label', title: lane.key },
      h('span', { class: 'indent' }),
      h('span', { class: `kind kind-${lane.resourceType}`, text: lane.kind }),
      h('span', { class: 'lane-name' },
        showNamespace && lane.namespace !== '_cluster' ? h('span', { class: 'lane-ns', text: `${lane.namespace}/` }) : null,
        lane.name),
      lane.warningCount ? h('span', { class: 'warn-badge', text: `⚠ ${lane.warningCount}`, title: 'Warning Events' }) : null);
    (label.firstChild as HTMLElement).style.width = `${depth * 14}px`;
    label.addEventListener('click', () => this.handlers.selectLane(lane));
    return h('div', {
      class: `lane${lane.key === selectedObject ? ' selected' : ''}`,
      testid: 'lane',
      role: 'listitem',
      'data-object': lane.key,
      'data-depth': depth,
    }, label, track);
  }

  private tickEl(lane: Lane, tick: Tick, n: number, selected: boolean): HTMLElement {
    const r = tick.rec;
    const cls = r.changeClass ?? 'spec';
    const el = h('button', {
      type: 'button',
      class: `tick cls-${cls} verb-${r.verb}${selected ? ' selected' : ''}`,
      testid: 'tick',
      'data-record': r.id,
      'data-verb': r.verb,
      'data-change-class': cls,
      'data-merged': n > 1 ? n : null,
      title: `${formatFull(tick.t)} ${r.verb} by ${r.user ?? '?'}: ${r.message ?? ''}${n > 1 ? ` (+${n - 1} more here)` : ''}`,
      'aria-label': `${r.verb} ${lane.name} at ${formatFull(tick.t)}`,
    });
    el.addEventListener('click', (e) => {
      e.stopPropagation();
      this.handlers.selectTick(lane, tick);
    });
    return el;
  }

  private onKey(e: KeyboardEvent): void {
    const rows = this.view.rows;
    if (!rows.length) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp' || e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? -1 : 0;
      let i = e.key === 'Home' ? 0 : e.key === 'End' ? rows.length - 1 : this.focusRow + step;
      i = Math.min(rows.length - 1, Math.max(0, i));
      this.focusRow = i;
      this.scrollToRow(i);
      this.root.focus();
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const row = rows[this.focusRow];
      if (!row || row.type !== 'lane') return;
      e.preventDefault();
      const ticks = this.view.showQuiet ? row.lane.ticks : row.lane.ticks.filter((t) => !isQuietTick(t.rec));
      if (!ticks.length) return;
      const cur = ticks.findIndex((t) => t.rec.id === this.view.selectedRev);
      const next = cur < 0 ? (e.key === 'ArrowRight' ? 0 : ticks.length - 1)
        : Math.min(ticks.length - 1, Math.max(0, cur + (e.key === 'ArrowRight' ? 1 : -1)));
      this.handlers.selectTick(row.lane, ticks[next]);
    } else if (e.key === 'Enter' && e.target === this.root) {
      // Enter on a tick is that button's click; here only the list's own.
      const row = rows[this.focusRow];
      if (row?.type === 'lane') this.handlers.selectLane(row.lane);
    }
  }
}
