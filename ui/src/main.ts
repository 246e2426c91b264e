// Wires the page: the state in the URL drives loading, and each view
// renders from the loaded data. body[data-ready] tells tests and the page
// bench when a render after a load has finished. With auth.mode: token a
// 401 asks for a token, and the view is loaded again once one is entered.
// At a hub the page first learns its clusters and shows one at a time.

import './styles.css';
import { PAGE_LIMIT, getClusters, getCoverage, listenToApi, setCluster } from './api';
import { AsOfView } from './asof-view';
import { ChangesView } from './changes-view';
import { Controls } from './controls';
import { h } from './dom';
import { Drawer } from './drawer';
import { failureText, isUnauthorized } from './failure-text';
import { FilteredNote } from './filtered-note';
import { LaneList } from './lane-list';
import type { Lane } from './lanes-model';
import { arrangeRows, buildLanes, scoreLanes } from './lanes-model';
import { RULER_Y_AXIS, Ruler } from './ruler';
import { loadSliced } from './sliced-load';
import { copyText, curlCommand, exportNdjson, mcpCall } from './share';
import type { ViewState } from './state';
import { StateStore, resolveWindow } from './state';
import { TokenForm } from './token-form';
import type { CoverageGap, EventRecord } from './types';
import { toRfc3339 } from './time';

const MAX_RECORDS = 200_000;
const LABEL_WIDTH = 280;

const store = new StateStore();
let win = resolveWindow(store.get(), Date.now());
let lanes: Lane[] = [];
let gaps: CoverageGap[] = [];
let loadedKey = '';
let loadAbort: AbortController | null = null;
let pending = 0;

/** Counts the loads in flight; the page is ready when none is left. */
function track<T>(p: Promise<T>): Promise<T> {
  pending++;
  document.body.dataset.ready = 'false';
  return p.finally(() => {
    pending--;
    if (pending === 0) requestAnimationFrame(() => { if (pending === 0) document.body.dataset.ready = 'true'; });
  });
}

const share = {
  copyCurl: () => void copyOut(curlCommand(store.get(), win.start, win.end)),
  copyMcp: () => void copyOut(mcpCall(store.get(), win.start, win.end).command),
  exportNdjson: () => {
    void track(exportNdjson(store.get(), win.start, win.end)
      .then((n) => controls.showOutput(`exported ${n} records`))
      .catch((e: unknown) => controls.showError(bannerText(e))));
  },
};

async function copyOut(text: string): Promise<void> {
  const ok = await copyText(text);
  controls.showOutput(ok ? text : `${text}\n(copy it from here: the clipboard was not available)`);
}

const controls = new Controls(store, share);
const ruler = new Ruler((start, end) => store.update({ start, end }));
const laneList = new LaneList({
  selectTick: (lane, tick) => store.update({ object: lane.key, rev: tick.rec.id, from: null }),
  selectLane: (lane) => store.update({ object: lane.key }),
});
const drawer = new Drawer(store, () => undefined);
const asOf = new AsOfView(store, () => undefined);
const changes = new ChangesView(store, () => undefined);
const filteredNote = new FilteredNote();
const tokenForm = new TokenForm(() => rerun());
controls.session.append(filteredNote.root, tokenForm.forget);
listenToApi({
  unauthorized: (reason, sentToken) => tokenForm.ask(sentToken ? reason : null),
  authorized: () => tokenForm.accepted(),
  filtered: (resources, namespaces) => filteredNote.add(resources, namespaces),
});

const main = h('main', { class: 'layout' },
  h('div', { class: 'timeline' }, ruler.root, laneList.root),
  drawer.root,
  h('div', { class: 'panels' }, asOf.root, changes.root));
document.body.append(controls.root, tokenForm.root, main);

new ResizeObserver(() => ruler.setWidth(laneList.root.clientWidth - LABEL_WIDTH + RULER_Y_AXIS)).observe(laneList.root);

function dataKey(s: ViewState): string {
  return JSON.stringify([s.cluster, s.namespace, s.kinds, s.window, s.start, s.end]);
}

/** Reads the window's records (summaries when the server offers them). */
async function loadRecords(s: ViewState, signal: AbortSignal): Promise<{ records: EventRecord[]; truncated: boolean }> {
  const base = { namespace: s.namespace || undefined, limit: PAGE_LIMIT, order: 'asc', view: 'summary' };
  const types = s.kinds.length ? [...s.kinds, 'events'] : [undefined];
  return loadSliced(types.map((t) => ({ ...base, resourceType: t })), win.start, win.end, MAX_RECORDS, signal,
    (n) => { controls.info.textContent = `loading… ${n} records`; });
}

/** The banner's text for a failed load: none for a 401 (the token form asks). */
function bannerText(e: unknown): string | null {
  return isUnauthorized(e) ? null : failureText(e);
}

async function reload(s: ViewState): Promise<void> {
  loadAbort?.abort();
  const abort = new AbortController();
  loadAbort = abort;
  win = resolveWindow(s, Date.now());
  controls.showError(null);
  filteredNote.reset();
  try {
    const [coverage, loaded] = await Promise.all([
      getCoverage(toRfc3339(win.start), toRfc3339(win.end), abort.signal).catch(() => ({ gaps: [], filtered: [] })),
      loadRecords(s, abort.signal),
    ]);
    if (abort.signal.aborted) return;
    gaps = coverage.gaps;
    lanes = buildLanes(loaded.records, win, gaps, s.kinds);
    ruler.setData({ start: win.start, end: win.end, lanes, gaps, now: Date.now() });
    renderLanes(store.get());
    if (loaded.truncated) controls.showError(`Only the first ${MAX_RECORDS} records of this window are shown: narrow the window or the namespace.`);
    if (s.object) laneList.reveal(s.object);
  } catch (e) {
    if (abort.signal.aborted) return;
    controls.showError(bannerText(e));
    lanes = [];
    renderLanes(store.get());
  }
}

function focusTime(s: ViewState): number {
  if (s.rev) {
    for (const lane of lanes) {
      if (lane.key !== s.object) continue;
      const t = lane.ticks.find((x) => x.rec.id === s.rev);
      if (t) return t.t;
    }
  }
  return win.end;
}

function renderLanes(s: ViewState): void {
  scoreLanes(lanes, focusTime(s), win.end - win.start);
  const rows = arrangeRows(lanes, s.group, s.name);
  const count = rows.filter((r) => r.type === 'lane').length;
  controls.info.textContent = `${count} objects`;
  laneList.setView({
    rows, start: win.start, end: win.end, showQuiet: s.status,
    showNamespace: !s.namespace && s.group !== 'namespace', selectedObject: s.object, selectedRev: s.rev,
  });
}

function apply(s: ViewState, force = false): void {
  setCluster(s.cluster);
  const key = dataKey(s);
  if (force || key !== loadedKey) {
    loadedKey = key;
    void track(reload(s));
  } else {
    renderLanes(s);
  }
  controls.sync(s, win.end);
  void track(drawer.show(s));
  // As-of follows the window's end unless a moment was chosen.
  void track(asOf.show(s, s.asof ?? Math.floor(win.end / 1000) * 1000));
  void track(changes.show(s, win.start, win.end).catch(() => undefined));
}

/** Loads the whole view again: a token was entered or forgotten. */
function rerun(): void {
  drawer.invalidate();
  asOf.invalidate();
  changes.invalidate();
  apply(store.get(), true);
}

store.subscribe((next, prev) => {
  // Every panel holds answers of one cluster.
  if (next.cluster !== prev.cluster) {
    setCluster(next.cluster);
    rerun();
  } else {
    apply(next);
  }
  // Chosen elsewhere (changes list, a blame link): bring its lane into view.
  if (next.object && next.object !== prev.object) laneList.reveal(next.object);
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && drawer.isOpen()) store.update({ rev: null, from: null });
});

/**
 * Asks whether this is a hub before the first load: a hub's view always
 * names one of its clusters (the link's, else the first), a server's none.
 */
async function boot(): Promise<void> {
  const clusters = await getClusters();
  if (clusters) controls.showClusters(clusters);
  const s = store.get();
  const wanted = clusters ? (s.cluster && clusters.includes(s.cluster) ? s.cluster : clusters[0]) : null;
  if (wanted !== s.cluster) store.update({ cluster: wanted }, true);
  else apply(s, true);
}
document.body.dataset.ready = 'false';
void track(boot());
