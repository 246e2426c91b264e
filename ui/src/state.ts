// The whole view lives in the URL, so that a pasted link opens the same view
// and back/forward walk through earlier views.

import { parseDuration, parseTime, toRfc3339 } from './time';

export type Grouping = 'owner' | 'namespace' | 'app';
export type DiffMode = 'side' | 'unified';

export interface ViewState {
  /** At a hub, the cluster the view is about; null at a server. */
  cluster: string | null;
  namespace: string;
  kinds: string[];
  name: string;
  window: string;
  start: number | null;
  end: number | null;
  group: Grouping;
  status: boolean;
  object: string | null;
  rev: string | null;
  from: string | null;
  diff: DiffMode;
  asof: number | null;
  asofobj: string | null;
  /** Bounds of "what changed between T1 and T2"; null: the window's. */
  t1: number | null;
  t2: number | null;
}

export const DEFAULT_WINDOW = '1h';

function timeParam(p: URLSearchParams, key: string): number | null {
  const v = p.get(key);
  if (!v) return null;
  const ms = parseTime(v);
  return Number.isNaN(ms) ? null : ms;
}

export function parseState(search: string): ViewState {
  const p = new URLSearchParams(search);
  const group = p.get('group');
  const win = p.get('window') ?? DEFAULT_WINDOW;
  return {
    cluster: p.get('cluster') || null,
    namespace: p.get('namespace') ?? '',
    kinds: (p.get('kinds') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    name: p.get('name') ?? '',
    window: parseDuration(win) === null ? DEFAULT_WINDOW : win,
    start: timeParam(p, 'start'),
    end: timeParam(p, 'end'),
    group: group === 'namespace' || group === 'app' ? group : 'owner',
    status: p.get('status') === '1',
    object: p.get('object'),
    rev: p.get('rev'),
    from: p.get('from'),
    diff: p.get('diff') === 'unified' ? 'unified' : 'side',
    asof: timeParam(p, 'asof'),
    asofobj: p.get('asofobj'),
    t1: timeParam(p, 't1'),
    t2: timeParam(p, 't2'),
  };
}

export function serializeState(s: ViewState): string {
  const p = new URLSearchParams();
  if (s.cluster) p.set('cluster', s.cluster);
  if (s.namespace) p.set('namespace', s.namespace);
  if (s.kinds.length) p.set('kinds', s.kinds.join(','));
  if (s.name) p.set('name', s.name);
  if (s.window !== DEFAULT_WINDOW) p.set('window', s.window);
  if (s.start !== null) p.set('start', toRfc3339(s.start));
  if (s.end !== null) p.set('end', toRfc3339(s.end));
  if (s.group !== 'owner') p.set('group', s.group);
  if (s.status) p.set('status', '1');
  if (s.object) p.set('object', s.object);
  if (s.rev) p.set('rev', s.rev);
  if (s.from) p.set('from', s.from);
  if (s.diff !== 'side') p.set('diff', s.diff);
  if (s.asof !== null) p.set('asof', toRfc3339(s.asof));
  if (s.asofobj) p.set('asofobj', s.asofobj);
  if (s.t1 !== null) p.set('t1', toRfc3339(s.t1));
  if (s.t2 !== null) p.set('t2', toRfc3339(s.t2));
  const q = p.toString();
  return q ? `?${q}` : '';
}

/** The window [start, end] in ms the state asks for, at `now`. */
export function resolveWindow(s: ViewState, now: number): { start: number; end: number } {
  const end = s.end ?? now;
  if (s.start !== null && s.start < end) return { start: s.start, end };
  const span = parseDuration(s.window) ?? 3_600_000;
  return { start: end - span, end };
}

type Listener = (next: ViewState, prev: ViewState) => void;

/** Holds the current state and keeps it in step with the address bar. */
export class StateStore {
  private current: ViewState;
  private listeners: Listener[] = [];

  constructor() {
    this.current = parseState(location.search);
    window.addEventListener('popstate', () => {
      const prev = this.current;
      this.current = parseState(location.search);
      this.emit(prev);
    });
  }

  get(): ViewState {
    return this.current;
  }

  subscribe(fn: Listener): void {
    this.listeners.push(fn);
  }

  /** Applies a change; `replace` keeps the history entry (e.g. typing). */
  update(patch: Partial<ViewState>, replace = false): void {
    const prev = this.current;
    const next = { ...prev, ...patch };
    const url = `${location.pathname}${serializeState(next)}`;
    if (url === `${location.pathname}${location.search}`) {
      this.current = next;
      return;
    }
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    this.current = next;
    this.emit(prev);
  }

  private emit(prev: ViewState): void {
    for (const fn of this.listeners) fn(this.current, prev);
  }
}

/** The object key used by lanes and the URL: namespace/resourceType/name. */
export function objectKey(namespace: string | undefined, resourceType: string, name: string): string {
  return `${namespace || '_cluster'}/${resourceType}/${name}`;
}

export function splitObjectKey(key: string): { namespace: string; resourceType: string; name: string } | null {
  const parts = key.split('/');
  if (parts.length < 3) return null;
  return { namespace: parts[0], resourceType: parts[1], name: parts.slice(2).join('/') };
}
