// The revision drawer: the selected record, its diff against the previous
// (or a chosen) version, the whole object folded, the object's Events and
// the blame of its fields at that time. Everything here is loaded for the
// one object only, so the timeline itself can stay on summary records.

import { getBlame, getDiff, getHistory, getRecord } from './api';
import { renderDiff } from './diff-view';
import { h } from './dom';
import { failureNote, failureText } from './failure-text';
import { asObject, pretty } from './json-pointer';
import { renderBlame, renderEventsTable } from './record-tables';
import type { StateStore, ViewState } from './state';
import { splitObjectKey } from './state';
import type { EventRecord, ObjectHistory, PatchOp } from './types';
import { formatFull, parseTime } from './time';

export class Drawer {
  readonly root: HTMLElement;
  private body: HTMLElement;
  private abort: AbortController | null = null;
  private loadedKey = '';
  private history: ObjectHistory | null = null;
  private historyKey = '';

  constructor(private store: StateStore, private onLoaded: () => void) {
    this.body = h('div', { class: 'drawer-body' });
    const close = h('button', { type: 'button', class: 'drawer-close', testid: 'drawer-close', 'aria-label': 'Close', text: '×' });
    close.addEventListener('click', () => this.store.update({ rev: null, from: null }));
    this.root = h('aside', { class: 'drawer', testid: 'drawer', hidden: true, 'aria-label': 'Revision' }, close, this.body);
  }

  isOpen(): boolean {
    return !this.root.hidden;
  }

  /** Drops what was loaded: the next show loads again (a new token). */
  invalidate(): void {
    this.loadedKey = '';
    this.history = null;
    this.historyKey = '';
  }

  /** Loads what the state selects; returns at once when nothing changed. */
  async show(s: ViewState): Promise<void> {
    if (!s.rev || !s.object) {
      this.root.hidden = true;
      this.loadedKey = '';
      this.abort?.abort();
      return;
    }
    const key = `${s.object}|${s.rev}|${s.from ?? ''}|${s.diff}`;
    if (key === this.loadedKey) return;
    this.loadedKey = key;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.root.hidden = false;
    this.root.dataset.record = s.rev;
    this.body.replaceChildren(h('p', { class: 'muted', text: 'Loading…' }));
    try {
      await this.load(s, abort.signal);
    } catch (e) {
      if (abort.signal.aborted) return;
      this.body.replaceChildren(failureNote(e));
    }
    if (!abort.signal.aborted) this.onLoaded();
  }

  private async load(s: ViewState, signal: AbortSignal): Promise<void> {
    const obj = splitObjectKey(s.object ?? '');
    if (!obj || !s.rev) return;
    if (this.historyKey !== s.object || !this.history?.watchEvents.some((r) => r.id === s.rev)) {
      this.history = await getHistory(obj.namespace, obj.resourceType, obj.name, signal);
      this.historyKey = s.object ?? '';
    }
    const versions = this.history.watchEvents;
    let rec = versions.find((r) => r.id === s.rev);
    if (!rec || rec.objectChanges === undefined) rec = await getRecord(s.rev, signal);
    const sameUid = versions.filter((r) => r.uid === rec?.uid);
    const idx = sameUid.findIndex((r) => r.id === rec?.id);
    const previous = idx > 0 ? sameUid[idx - 1] : null;
    const fromRec = (s.from && versions.find((r) => r.id === s.from)) || previous;

    let ops: PatchOp[];
    let before: unknown = null;
    if (fromRec) {
      const diff = await getDiff(obj.namespace, obj.resourceType, obj.name, fromRec.id, rec.id, signal);
      ops = diff.patch;
      const full = fromRec.objectChanges !== undefined ? fromRec : await getRecord(fromRec.id, signal);
      before = asObject(full.objectChanges);
    } else {
      ops = [{ op: 'add', path: '', value: '(the whole object: first recorded version)', manager: rec.user }];
    }
    const after = asObject(rec.objectChanges);
    // A deleted object has no fields at its delete: blame the version before.
    const blameAt = rec.verb === 'delete' && previous ? previous.timestamp : rec.timestamp;
    const blame = await getBlame(obj.namespace, obj.resourceType, obj.name, blameAt, signal)
      .catch((e: Error) => e);
    if (signal.aborted) return;
    this.render(s, rec, versions, fromRec, before, after, ops, blame);
  }

  private render(
    s: ViewState, rec: EventRecord, versions: EventRecord[], fromRec: EventRecord | null,
    before: unknown, after: unknown, ops: PatchOp[], blame: Awaited<ReturnType<typeof getBlame>> | Error,
  ): void {
    const when = formatFull(parseTime(rec.timestamp));
    const meta = h('dl', { class: 'record-meta', testid: 'record-meta' },
      h('dt', { text: 'verb' }), h('dd', { class: `verb-${rec.verb}`, text: rec.verb }),
      h('dt', { text: 'who' }), h('dd', { text: [rec.user, ...(rec.managers ?? []).filter((m) => m !== rec.user)].filter(Boolean).join(', ') }),
      h('dt', { text: 'when' }), h('dd', { text: when, title: rec.timestamp }),
      h('dt', { text: 'class' }), h('dd', { text: rec.changeClass ?? '' }),
      h('dt', { text: 'record' }), h('dd', { class: 'mono', text: `${rec.id} (resourceVersion ${rec.resourceVersion ?? '?'})` }));

    const modeBtn = h('button', {
      type: 'button', testid: 'diff-mode', 'data-mode': s.diff,
      text: s.diff === 'side' ? 'Side by side ⇄ unified' : 'Unified ⇄ side by side',
      title: 'switch between side-by-side and unified diff',
    });
    modeBtn.addEventListener('click', () => this.store.update({ diff: s.diff === 'side' ? 'unified' : 'side' }));

    const fromSelect = h('select', { testid: 'diff-from', 'aria-label': 'compare with version' },
      h('option', { value: '', text: 'previous version' }),
      versions.filter((v) => v.id !== rec.id).map((v) => h('option', {
        value: v.id,
        selected: s.from === v.id,
        text: `${formatFull(parseTime(v.timestamp))} ${v.verb} ${v.changeClass ?? ''} (${v.id})`,
      })));
    fromSelect.addEventListener('change', () => this.store.update({ from: fromSelect.value || null }));

    const diff = renderDiff({
      before, after, ops, mode: s.diff,
      fileName: `${rec.resourceType}/${rec.resourceName}.json`,
      beforeLabel: fromRec ? `${fromRec.id} ${formatFull(parseTime(fromRec.timestamp))}` : '(nothing before)',
      afterLabel: `${rec.id} ${when}`,
    });

    const snapshot = h('details', { class: 'snapshot', testid: 'snapshot' },
      h('summary', { text: 'Whole object at this version' }),
      h('pre', { class: 'mono', text: pretty(after) }));

    const changed = new Set(rec.changedPaths ?? []);
    const blameEl = blame instanceof Error
      ? h('div', { testid: 'blame', class: 'muted', text: `No blame: ${failureText(blame)}` })
      : renderBlame(blame, changed, (id) => this.store.update({ rev: id, from: null }));

    this.body.replaceChildren(
      h('h3', { class: 'drawer-title', text: `${rec.kind ?? rec.resourceType} ${rec.namespace ? `${rec.namespace}/` : ''}${rec.resourceName}` }),
      h('p', { class: 'record-message', testid: 'record-message', text: rec.message ?? '' }),
      meta,
      h('div', { class: 'diff-controls' }, h('span', { text: 'Diff against ' }), fromSelect, modeBtn),
      diff,
      snapshot,
      h('h4', { text: 'Events about this object' }),
      renderEventsTable(this.history?.relatedEvents ?? []),
      h('details', { class: 'blame-details', open: true },
        h('summary', { text: 'Blame: who set each field at this time' }), blameEl));
  }
}
