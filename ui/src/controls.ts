// The toolbar: the cluster (at a hub), filters, window presets, "±N min
// around T", grouping, the status toggle and the share/export buttons. It
// only writes the state; main.ts reacts to it.

import { h } from './dom';
import type { Grouping, StateStore, ViewState } from './state';
import { PRESETS, fromLocalInput, toLocalInput } from './time';

export interface ShareActions {
  copyCurl(): void;
  copyMcp(): void;
  exportNdjson(): void;
}

export class Controls {
  readonly root: HTMLElement;
  readonly output: HTMLElement;
  readonly info: HTMLElement;
  readonly error: HTMLElement;
  /** The end of the first row, for what the token's account may see. */
  readonly session: HTMLElement;
  private cluster: HTMLSelectElement;
  private clusterLabel: HTMLElement;
  private ns: HTMLInputElement;
  private kinds: HTMLInputElement;
  private name: HTMLInputElement;
  private status: HTMLInputElement;
  private group: HTMLSelectElement;
  private around: HTMLInputElement;
  private minutes: HTMLInputElement;
  private presets: HTMLButtonElement[];

  constructor(private store: StateStore, share: ShareActions) {
    this.cluster = h('select', { testid: 'cluster-select', 'aria-label': 'cluster' });
    // Another cluster's objects are other objects: the selection goes.
    this.cluster.addEventListener('change', () => this.store.update({
      cluster: this.cluster.value, object: null, rev: null, from: null, asofobj: null,
    }));
    this.clusterLabel = h('label', { hidden: true }, 'Cluster ', this.cluster);
    this.ns = h('input', { type: 'text', testid: 'namespace-input', placeholder: 'all namespaces', 'aria-label': 'namespace', size: 14 });
    this.kinds = h('input', { type: 'text', testid: 'kinds-input', placeholder: 'all kinds (deployments,pods)', 'aria-label': 'kinds', size: 20 });
    this.name = h('input', { type: 'search', testid: 'name-input', placeholder: 'name contains', 'aria-label': 'name filter', size: 14 });
    const applyText = (el: HTMLInputElement, fn: (v: string) => Partial<ViewState>) => {
      el.addEventListener('change', () => this.store.update(fn(el.value.trim())));
      el.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.store.update(fn(el.value.trim())); });
    };
    applyText(this.ns, (v) => ({ namespace: v, object: null, rev: null, from: null, asofobj: null }));
    applyText(this.kinds, (v) => ({ kinds: v.split(',').map((k) => k.trim()).filter(Boolean) }));
    applyText(this.name, (v) => ({ name: v }));

    this.presets = PRESETS.map((w) => {
      const b = h('button', { type: 'button', class: 'preset', testid: 'window-preset', 'data-window': w, text: w });
      b.addEventListener('click', () => this.store.update({ window: w, start: null }));
      return b;
    });
    const now = h('button', { type: 'button', testid: 'window-now', text: 'Now', title: 'let the window end now' });
    now.addEventListener('click', () => this.store.update({ start: null, end: null }));

    this.around = h('input', { type: 'datetime-local', step: 1, testid: 'around-input', 'aria-label': 'around time (UTC)' });
    this.minutes = h('input', { type: 'number', min: 1, value: 10, testid: 'around-minutes', 'aria-label': 'minutes either side', class: 'num' });
    const aroundBtn = h('button', { type: 'button', testid: 'around-apply', text: 'Go' });
    aroundBtn.addEventListener('click', () => {
      const t = fromLocalInput(this.around.value);
      const n = Number(this.minutes.value);
      if (t === null || !(n > 0)) return;
      this.store.update({ start: t - n * 60_000, end: t + n * 60_000 });
    });

    this.status = h('input', { type: 'checkbox', testid: 'status-toggle' });
    this.status.addEventListener('change', () => this.store.update({ status: this.status.checked }));
    this.group = h('select', { testid: 'group-select', 'aria-label': 'group lanes by' },
      h('option', { value: 'owner', text: 'by owner' }),
      h('option', { value: 'namespace', text: 'by namespace' }),
      h('option', { value: 'app', text: 'by app label' }));
    this.group.addEventListener('change', () => this.store.update({ group: this.group.value as Grouping }));

    const btn = (id: string, text: string, fn: () => void) => {
      const b = h('button', { type: 'button', testid: id, text });
      b.addEventListener('click', fn);
      return b;
    };
    this.output = h('pre', { class: 'copy-output mono', testid: 'copy-output', hidden: true });
    this.info = h('span', { class: 'muted', testid: 'lane-count' });
    this.error = h('div', { class: 'error-banner', testid: 'error-banner', role: 'alert', hidden: true });
    this.session = h('span', { class: 'session' });

    this.root = h('header', { class: 'toolbar' },
      h('div', { class: 'row' },
        h('strong', { class: 'brand', text: 'k8s-watch-server' }),
        this.clusterLabel,
        h('label', {}, 'Namespace ', this.ns),
        h('label', {}, 'Kinds ', this.kinds),
        h('label', {}, 'Name ', this.name),
        h('label', {}, 'Group ', this.group),
        h('label', { title: 'show status-only and metadata-only changes' }, this.status, ' status changes'),
        this.session),
      h('div', { class: 'row' },
        h('span', { class: 'presets', role: 'group', 'aria-label': 'window' }, this.presets, now),
        h('span', { class: 'around' }, 'around ', this.around, ' ± ', this.minutes, ' min ', aroundBtn),
        h('span', { class: 'share' },
          btn('copy-curl', 'Copy as curl', share.copyCurl),
          btn('copy-mcp', 'Copy as MCP call', share.copyMcp),
          btn('export-ndjson', 'Export NDJSON', share.exportNdjson)),
        this.info),
      this.error,
      this.output);
  }

  /** At a hub: the clusters to choose from. */
  showClusters(names: string[]): void {
    this.cluster.replaceChildren(...names.map((n) => h('option', { value: n, text: n })));
    this.clusterLabel.hidden = false;
  }

  /** Shows the state in the inputs (after popstate or a pasted link). */
  sync(s: ViewState, windowEnd: number): void {
    if (s.cluster) this.cluster.value = s.cluster;
    const keep = (el: HTMLInputElement, v: string) => { if (document.activeElement !== el) el.value = v; };
    keep(this.ns, s.namespace);
    keep(this.kinds, s.kinds.join(','));
    keep(this.name, s.name);
    this.status.checked = s.status;
    this.group.value = s.group;
    const custom = s.start !== null;
    for (const b of this.presets) {
      b.setAttribute('aria-pressed', String(!custom && b.dataset.window === s.window));
    }
    if (!this.around.value) this.around.value = toLocalInput(windowEnd);
  }

  showError(text: string | null): void {
    this.error.hidden = !text;
    this.error.textContent = text ?? '';
  }

  showOutput(text: string): void {
    this.output.hidden = false;
    this.output.textContent = text;
  }
}
