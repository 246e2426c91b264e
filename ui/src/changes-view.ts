// "What changed between T1 and T2" (/changes): one entry per object, spec
// changes and deletes first, as the server ranks them. T1 and T2 are the
// window's bounds unless chosen here (then they are in the URL: t1, t2).

import { getChanges } from './api';
import { h } from './dom';
import { failureNote } from './failure-text';
import type { StateStore, ViewState } from './state';
import { objectKey } from './state';
import type { ChangeEntry } from './types';
import { formatFull, fromLocalInput, toLocalInput, toRfc3339 } from './time';

export class ChangesView {
  readonly root: HTMLElement;
  private list: HTMLElement;
  private title: HTMLElement;
  private t1: HTMLInputElement;
  private t2: HTMLInputElement;
  private loadedKey = '';
  private abort: AbortController | null = null;

  constructor(private store: StateStore, private onLoaded: () => void) {
    this.title = h('h3', { text: 'What changed' });
    this.list = h('div', { class: 'changes-list' });
    const input = (testid: string, label: string) =>
      h('input', { type: 'datetime-local', step: 1, testid, 'aria-label': label }) as HTMLInputElement;
    this.t1 = input('changes-t1', 'T1 (UTC)');
    this.t2 = input('changes-t2', 'T2 (UTC)');
    const apply = h('button', { type: 'button', testid: 'changes-apply', text: 'Show' });
    const reset = h('button', { type: 'button', testid: 'changes-window', text: 'Window',
      title: 'T1 and T2 follow the window again' });
    const go = () => {
      const a = fromLocalInput(this.t1.value);
      const b = fromLocalInput(this.t2.value);
      if (a !== null && b !== null && a <= b) this.store.update({ t1: a, t2: b });
    };
    apply.addEventListener('click', go);
    for (const el of [this.t1, this.t2]) el.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
    reset.addEventListener('click', () => this.store.update({ t1: null, t2: null }));
    this.root = h('section', { class: 'panel changes', testid: 'changes-view' }, this.title,
      h('div', { class: 'row' }, h('label', {}, 'T1 ', this.t1), h('label', {}, 'T2 ', this.t2), apply, reset),
      this.list);
  }

  /** Drops what was loaded: the next show loads again (a new token). */
  invalidate(): void {
    this.loadedKey = '';
  }

  /** Shows the changes between the state's T1 and T2, else the window's bounds. */
  async show(s: ViewState, winStart: number, winEnd: number): Promise<void> {
    const start = s.t1 ?? winStart;
    const end = s.t2 !== null && s.t2 >= start ? s.t2 : Math.max(winEnd, start);
    if (document.activeElement !== this.t1) this.t1.value = toLocalInput(start);
    if (document.activeElement !== this.t2) this.t2.value = toLocalInput(end);
    const key = `${s.namespace}|${s.kinds.join(',')}|${start}|${end}`;
    if (key === this.loadedKey) return;
    this.loadedKey = key;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.title.textContent = `What changed between ${formatFull(start)} and ${formatFull(end)}`;
    this.list.replaceChildren(h('p', { class: 'muted', text: 'Loading…' }));
    try {
      // One query per asked type (the endpoint takes one), merged as listed.
      const types = s.kinds.length ? s.kinds : [undefined];
      const pages = await Promise.all(types.map((t) =>
        getChanges(toRfc3339(start), toRfc3339(end), s.namespace, t, abort.signal)));
      if (abort.signal.aborted) return;
      this.render(pages.flatMap((p) => p.items), pages.some((p) => p.truncated));
    } catch (e) {
      if (abort.signal.aborted) return;
      this.list.replaceChildren(failureNote(e));
    }
    this.onLoaded();
  }

  private render(entries: ChangeEntry[], truncated: boolean): void {
    if (!entries.length) {
      this.list.replaceChildren(h('p', { class: 'muted', text: 'Nothing changed between T1 and T2.' }));
      return;
    }
    const rows = entries.map((e) => {
      const key = objectKey(e.namespace, e.resourceType, e.resourceName);
      const verbs = Object.entries(e.verbs).filter(([, n]) => n > 0).map(([v, n]) => `${v} ${n}`).join(', ');
      const warn = e.events?.Warning ?? 0;
      const paths = e.changedPaths.filter((p) => !p.startsWith('/metadata/resourceVersion'));
      const tr = h('tr', { testid: 'changes-row', 'data-object': key, tabindex: 0 },
        h('td', { class: 'mono', text: key }),
        h('td', { text: verbs }),
        h('td', { text: e.changeClasses.join(', ') }),
        h('td', { class: warn ? 'warn-text' : '', text: warn ? `${warn} Warning` : '' }),
        h('td', { class: 'mono small', text: paths.slice(0, 4).join(' ') + (paths.length > 4 ? ` +${paths.length - 4}` : '') }));
      const open = () => this.store.update({ object: key, rev: e.last, from: null });
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
      return tr;
    });
    this.list.replaceChildren(
      h('table', { class: 'changes-table' },
        h('thead', {}, h('tr', {},
          h('th', { text: 'object' }), h('th', { text: 'verbs' }), h('th', { text: 'classes' }),
          h('th', { text: 'Events' }), h('th', { text: 'paths' }))),
        h('tbody', {}, rows)),
      ...(truncated ? [h('p', { class: 'muted', text: 'More entries exist; narrow the window or namespace.' })] : []));
  }
}
