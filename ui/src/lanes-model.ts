// Turns the window's records into lanes: one per object, with its ticks,
// the Kubernetes Events about it, its lifecycle and where it sits in the
// grouping. Pure data: rendering is lane-list.ts.

import type { CoverageGap, EventRecord, OwnerRef } from './types';
import type { Grouping } from './state';
import { objectKey } from './state';
import { parseTime } from './time';

export interface Tick {
  rec: EventRecord;
  t: number;
}

export interface Segment {
  start: number;
  end: number;
  created: boolean;
  deleted: boolean;
  /** Watch gaps after the last record: the state is not known there. */
  unknown: { from: number; to: number }[];
  /** A gap reaches the end of the bar: the final state is unknown. */
  unknownEnd: boolean;
}

export interface Lane {
  key: string;
  namespace: string;
  resourceType: string;
  name: string;
  kind: string;
  uids: Set<string>;
  ticks: Tick[];
  events: Tick[];
  segments: Segment[];
  owners: OwnerRef[];
  labels: Record<string, string>;
  specCount: number;
  warningCount: number;
  score: number;
}

export type Row =
  | { type: 'group'; label: string; count: number }
  | { type: 'lane'; lane: Lane; depth: number };

interface Meta {
  ownerReferences?: OwnerRef[];
  labels?: Record<string, string>;
}

/** Owner references and labels: summary records carry them, full ones in the snapshot. */
function metaOf(rec: EventRecord): Meta {
  if (rec.ownerReferences || rec.labels) return { ownerReferences: rec.ownerReferences, labels: rec.labels };
  const obj = rec.objectChanges as { metadata?: Meta } | undefined;
  if (obj && typeof obj === 'object' && obj.metadata) return obj.metadata;
  return {};
}

export function isEvent(rec: EventRecord): boolean {
  return rec.resourceType === 'events' || rec.changeClass === 'event';
}

/** Status-only ticks (and bookkeeping) are hidden unless asked for. */
export function isQuietTick(rec: EventRecord): boolean {
  if (rec.verb !== 'update') return false;
  return rec.changeClass === 'status' || rec.changeClass === 'meta' || rec.changeClass === 'none';
}

export function buildLanes(
  records: EventRecord[],
  window: { start: number; end: number },
  gaps: CoverageGap[],
  kinds: string[],
): Lane[] {
  const lanes = new Map<string, Lane>();
  const byUid = new Map<string, Lane>();
  const byKind = new Map<string, Lane>();
  const kindToType = new Map<string, string>();
  const events: Tick[] = [];

  const laneFor = (ns: string | undefined, type: string, name: string, kind: string): Lane => {
    const key = objectKey(ns, type, name);
    let lane = lanes.get(key);
    if (!lane) {
      lane = {
        key, namespace: ns || '_cluster', resourceType: type, name, kind,
        uids: new Set(), ticks: [], events: [], segments: [], owners: [], labels: {},
        specCount: 0, warningCount: 0, score: 0,
      };
      lanes.set(key, lane);
      byKind.set(`${ns || ''}/${kind}/${name}`, lane);
    }
    return lane;
  };

  for (const rec of records) {
    const t = parseTime(rec.timestamp);
    if (isEvent(rec)) {
      events.push({ rec, t });
      continue;
    }
    const lane = laneFor(rec.namespace, rec.resourceType, rec.resourceName, rec.kind ?? rec.resourceType);
    if (rec.kind) kindToType.set(rec.kind, rec.resourceType);
    if (rec.uid) {
      lane.uids.add(rec.uid);
      byUid.set(rec.uid, lane);
    }
    const meta = metaOf(rec);
    if (meta.ownerReferences) lane.owners = meta.ownerReferences;
    if (meta.labels) lane.labels = meta.labels;
    lane.ticks.push({ rec, t });
    if (rec.changeClass === 'spec' || rec.verb !== 'update') lane.specCount++;
  }

  const wanted = new Set(kinds.map((k) => k.toLowerCase()));
  for (const ev of events) {
    const io = ev.rec.involvedObject;
    if (!io?.name || !io.kind) continue;
    let lane = (io.uid && byUid.get(io.uid)) || byKind.get(`${io.namespace || ''}/${io.kind}/${io.name}`);
    if (!lane) {
      // An object with Events but no recorded change in the window still
      // gets a lane: its Warnings are often the reason to look.
      const type = kindToType.get(io.kind) ?? `${io.kind.toLowerCase()}s`;
      if (wanted.size && !wanted.has(type) && !wanted.has(io.kind.toLowerCase())) continue;
      lane = laneFor(io.namespace, type, io.name, io.kind);
    }
    lane.events.push(ev);
    if (ev.rec.type === 'Warning') lane.warningCount++;
  }

  const all = [...lanes.values()];
  for (const lane of all) {
    lane.ticks.sort((a, b) => a.t - b.t);
    lane.events.sort((a, b) => a.t - b.t);
    lane.segments = segmentsOf(lane, window, gaps);
  }
  return all;
}

/** One lifecycle bar per uid the name had in the window. */
function segmentsOf(lane: Lane, window: { start: number; end: number }, gaps: CoverageGap[]): Segment[] {
  const byUid = new Map<string, Tick[]>();
  for (const tick of lane.ticks) {
    const uid = tick.rec.uid ?? '';
    const list = byUid.get(uid) ?? [];
    list.push(tick);
    byUid.set(uid, list);
  }
  if (byUid.size === 0) {
    return [{ start: window.start, end: window.end, created: false, deleted: false, unknown: [], unknownEnd: false }];
  }
  const myGaps = gaps.filter((g) => g.resourceType === lane.resourceType || !g.resourceType);
  const out: Segment[] = [];
  for (const ticks of byUid.values()) {
    const first = ticks[0];
    const last = ticks[ticks.length - 1];
    const created = first.rec.verb === 'create';
    const deleted = last.rec.verb === 'delete';
    const start = created ? first.t : window.start;
    const end = deleted ? last.t : window.end;
    const unknown: { from: number; to: number }[] = [];
    if (!deleted) {
      for (const g of myGaps) {
        const gs = parseTime(g.start);
        const ge = g.end ? parseTime(g.end) : end;
        const from = Math.max(gs, last.t, start);
        const to = Math.min(ge, end);
        if (to > from) unknown.push({ from, to });
      }
    }
    const unknownEnd = unknown.some((u) => u.to >= end - 1);
    out.push({ start, end, created, deleted, unknown, unknownEnd });
  }
  out.sort((a, b) => a.start - b.start);
  return out;
}

/** Interest near the focus time: spec changes, and Warnings counted double. */
export function scoreLanes(lanes: Lane[], focus: number, span: number): void {
  const near = Math.max(span * 0.1, 60_000);
  for (const lane of lanes) {
    let s = 0;
    for (const tick of lane.ticks) {
      if (Math.abs(tick.t - focus) <= near && !isQuietTick(tick.rec)) s += 1;
    }
    for (const ev of lane.events) {
      if (ev.rec.type === 'Warning' && Math.abs(ev.t - focus) <= near) s += 2;
    }
    lane.score = s * 1000 + lane.specCount + lane.warningCount * 2;
  }
}

function byInterest(a: Lane, b: Lane): number {
  return b.score - a.score || a.key.localeCompare(b.key);
}

function appOf(lane: Lane): string {
  const l = lane.labels;
  return l['app.kubernetes.io/name'] ?? l.app ?? l['k8s-app'] ?? '(no app label)';
}

/** Filters by name and flattens the lanes into rows for the chosen grouping. */
export function arrangeRows(all: Lane[], grouping: Grouping, nameFilter: string): Row[] {
  const needle = nameFilter.toLowerCase();
  const lanes = needle ? all.filter((l) => l.name.toLowerCase().includes(needle)) : all;
  if (grouping === 'owner') return ownerRows(lanes);
  const groups = new Map<string, Lane[]>();
  for (const lane of lanes) {
    const g = grouping === 'namespace' ? lane.namespace : appOf(lane);
    const list = groups.get(g) ?? [];
    list.push(lane);
    groups.set(g, list);
  }
  const ordered = [...groups.entries()].map(([label, list]) => {
    list.sort(byInterest);
    return { label, list, top: list[0]?.score ?? 0 };
  });
  ordered.sort((a, b) => b.top - a.top || a.label.localeCompare(b.label));
  const rows: Row[] = [];
  for (const g of ordered) {
    rows.push({ type: 'group', label: g.label, count: g.list.length });
    for (const lane of g.list) rows.push({ type: 'lane', lane, depth: 1 });
  }
  return rows;
}

/** Deployment → ReplicaSet → Pod, by ownerReferences (the controller first). */
function ownerRows(lanes: Lane[]): Row[] {
  const byUid = new Map<string, Lane>();
  for (const lane of lanes) for (const uid of lane.uids) byUid.set(uid, lane);
  const children = new Map<Lane, Lane[]>();
  const roots: Lane[] = [];
  for (const lane of lanes) {
    const ref = lane.owners.find((o) => o.controller) ?? lane.owners[0];
    const parent = ref ? byUid.get(ref.uid) : undefined;
    if (parent && parent !== lane) {
      const list = children.get(parent) ?? [];
      list.push(lane);
      children.set(parent, list);
    } else {
      roots.push(lane);
    }
  }
  // A subtree ranks by its most interesting member.
  const best = new Map<Lane, number>();
  const bestOf = (lane: Lane, seen: Set<Lane>): number => {
    const known = best.get(lane);
    if (known !== undefined) return known;
    if (seen.has(lane)) return lane.score;
    seen.add(lane);
    let s = lane.score;
    for (const c of children.get(lane) ?? []) s = Math.max(s, bestOf(c, seen));
    best.set(lane, s);
    return s;
  };
  const cmp = (a: Lane, b: Lane) => bestOf(b, new Set()) - bestOf(a, new Set()) || a.key.localeCompare(b.key);
  const rows: Row[] = [];
  const placed = new Set<Lane>();
  const walk = (lane: Lane, depth: number) => {
    if (placed.has(lane)) return;
    placed.add(lane);
    rows.push({ type: 'lane', lane, depth });
    const kids = children.get(lane);
    if (kids) for (const c of [...kids].sort(cmp)) walk(c, depth + 1);
  };
  for (const root of roots.sort(cmp)) walk(root, 0);
  // Owner cycles (never in a sane cluster) would leave lanes out: keep them.
  for (const lane of lanes) if (!placed.has(lane)) walk(lane, 0);
  return rows;
}
