// A short note that answers of the view left out what the token's account
// may not read (X-Filtered-Resources, X-Filtered-Namespaces); the full
// lists are in its title (the tooltip) and data attributes.

import { h } from './dom';

// The server names at most 50 and ends a longer list with "+N more".
const MORE = /^\+(\d+) more$/;

/** Up to two names as they are, more as a count. */
function brief(names: string[], what: string): string {
  const count = names.reduce((n, name) => n + Number(MORE.exec(name)?.[1] ?? 1), 0);
  return count <= 2 ? names.join(', ') : `${count} ${what}`;
}

export class FilteredNote {
  readonly root: HTMLElement;
  private resources = new Set<string>();
  private namespaces = new Set<string>();

  constructor() {
    this.root = h('span', { class: 'filtered-note muted small', testid: 'filtered-note', hidden: true });
  }

  /** A new view: what earlier answers left out no longer applies. */
  reset(): void {
    this.resources.clear();
    this.namespaces.clear();
    this.render();
  }

  add(resources: string[], namespaces: string[]): void {
    resources.forEach((r) => this.resources.add(r));
    namespaces.forEach((n) => this.namespaces.add(n));
    this.render();
  }

  private render(): void {
    const resources = [...this.resources];
    const namespaces = [...this.namespaces];
    this.root.hidden = !resources.length && !namespaces.length;
    this.root.dataset.resources = resources.join(',');
    this.root.dataset.namespaces = namespaces.join(',');
    const parts = [
      resources.length ? brief(resources, 'resource types') : '',
      namespaces.length ? brief(namespaces, 'namespaces') : '',
    ].filter(Boolean);
    this.root.textContent = parts.length ? `some resources hidden: ${parts.join(', ')}` : '';
    this.root.title = [
      'Not shown: the token\'s account may not read them.',
      resources.length ? `Resource types: ${resources.join(', ')}` : '',
      namespaces.length ? `Namespaces: ${namespaces.join(', ')}` : '',
    ].filter(Boolean).join('\n');
  }
}
