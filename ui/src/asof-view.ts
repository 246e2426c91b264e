// "As of T": the namespace's objects as they were at a moment (/snapshot),
// and one of them in full.

import { readAllPages } from './api';
import { h } from './dom';
import { failureNote } from './failure-text';
import { asObject, pretty } from './json-pointer';
import type { StateStore, ViewState } from './state';
import { objectKey } from './state';
import type { EventRecord } from './types';
import { formatFull, fromLocalInput, parseTime, toLocalInput, toRfc3339 } from './time';

const MAX_OBJECTS = 5000;
// Thousands of rows cost the first render about 0.4 s of building and
// layout (bench/ui) for a list nobody reads from the top: the first ones
// are shown, the rest on request (the name filter narrows it too).
const FIRST_ROWS = 300;

export class AsOfView {
  readonly root: HTMLElement;
  private input: HTMLInputElement;
  private table: HTMLElement;
  private objectEl: HTMLElement;
  private records: EventRecord[] = [];
  private loadedKey = '';
  private abort: AbortController | null = null;

  constructor(private store: StateStore, private onLoaded: () => void) {
    this.input = h('input', { type: 'datetime-local', step: 1, testid: 'asof-input', 'aria-label': 'as of (UTC)' });
    const apply = h('button', { type: 'button', testid: 'asof-apply', text: 'Show' });
    const go = () => {
      const ms = fromLocalInput(this.input.value);
      if (ms !== null) this.store.update({ asof: ms, asofobj: null });
    };
    apply.addEventListener('click', go);
    this.input.addEventListener('change', go);
    this.input.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
    this.table = h('div', { class: 'asof-table-wrap' });
    this.objectEl = h('div');
    this.root = h('section', { class: 'panel asof', testid: 'asof-view' },
      h('h3', { text: 'As of' }),
      h('div', { class: 'row' }, h('label', {}, 'Moment (UTC) ', this.input), apply),
      this.table, this.objectEl);
  }

  /** Drops what was loaded: the next show loads again (a new token). */
  invalidate(): void {
    this.loadedKey = '';
  }

  async show(s: ViewState, fallbackAt: number): Promise<void> {
    const at = s.asof ?? fallbackAt;
    if (document.activeElement !== this.input) this.input.value = toLocalInput(at);
    const key = `${s.namespace}|${at}`;
    if (key !== this.loadedKey) {
      this.loadedKey = key;
      await this.load(s, at);
    }
    this.renderObject(s);
  }

  private async load(s: ViewState, at: number): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.table.replaceChildren(h('p', { class: 'muted', text: 'Loading…' }));
    try {
      const page = await readAllPages<EventRecord>('/api/v1/snapshot',
        { at: toRfc3339(at), namespace: s.namespace || undefined, limit: 1000 }, MAX_OBJECTS, abort.signal);
      if (abort.signal.aborted) return;
      this.records = page.items;
      this.renderTable(s, at, page.truncated);
    } catch (e) {
      if (abort.signal.aborted) return;
      // Nor is an object of an earlier load shown below the refusal.
      this.records = [];
      this.table.replaceChildren(failureNote(e));
    }
    this.onLoaded();
  }

  private renderTable(s: ViewState, at: number, truncated: boolean, all = false): void {
    const needle = s.name.toLowerCase();
    const listed = this.records
      .filter((r) => r.resourceType !== 'events')
      .filter((r) => !needle || r.resourceName.toLowerCase().includes(needle));
    const keyOf = (r: EventRecord) => objectKey(r.namespace, r.resourceType, r.resourceName);
    const shown = all || listed.length <= FIRST_ROWS ? listed
      : listed.filter((r, i) => i < FIRST_ROWS || keyOf(r) === s.asofobj);
    const rows = shown
      .map((r) => {
        const key = keyOf(r);
        const tr = h('tr', { testid: 'asof-row', 'data-object': key, tabindex: 0, class: key === s.asofobj ? 'selected' : '' },
          h('td', { text: r.kind ?? r.resourceType }),
          h('td', { text: r.namespace || '_cluster' }),
          h('td', { class: 'mono', text: r.resourceName }),
          h('td', { class: 'nowrap', text: formatFull(parseTime(r.timestamp)) }),
          h('td', { text: `${r.verb} ${r.changeClass ?? ''}` }));
        const pick = () => this.store.update({ asofobj: key });
        tr.addEventListener('click', pick);
        tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') pick(); });
        return tr;
      });
    let more: HTMLElement | null = null;
    if (shown.length < listed.length) {
      more = h('button', { type: 'button', testid: 'asof-more', text: `show all ${listed.length}` });
      more.addEventListener('click', () => this.renderTable(this.store.get(), at, truncated, true));
    }
    this.table.replaceChildren(
      h('p', { class: 'muted', text: `${listed.length} objects existed at ${formatFull(at)}${truncated ? ` (first ${MAX_OBJECTS} only)` : ''}` }),
      h('table', { class: 'asof-table', testid: 'asof-table' },
        h('thead', {}, h('tr', {},
          h('th', { text: 'kind' }), h('th', { text: 'namespace' }), h('th', { text: 'name' }),
          h('th', { text: 'last change' }), h('th', { text: 'by' }))),
        h('tbody', {}, rows)),
      ...(more ? [h('p', {}, `${shown.length} shown `, more)] : []));
  }

  private renderObject(s: ViewState): void {
    this.table.querySelectorAll('tr[data-object]').forEach((tr) => {
      tr.classList.toggle('selected', (tr as HTMLElement).dataset.object === s.asofobj);
    });
    const rec = this.records.find((r) => objectKey(r.namespace, r.resourceType, r.resourceName) === s.asofobj);
    if (!rec) {
      this.objectEl.replaceChildren();
      return;
    }
    this.objectEl.replaceChildren(
      h('h4', { text: `${rec.kind ?? rec.resourceType} ${rec.resourceName} (version ${rec.id})` }),
      h('pre', { class: 'mono asof-object', testid: 'asof-object', text: pretty(asObject(rec.objectChanges)) }));
  }
}
