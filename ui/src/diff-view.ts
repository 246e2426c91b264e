// The diff of two versions: the pretty-printed JSON side by side or unified
// (jsdiff makes the unified diff, diff2html draws it), then the patch
// operations of /diff with the manager that changed each path.

import { createTwoFilesPatch } from 'diff';
import { html as diffHtml } from 'diff2html';
import { ColorSchemeType } from 'diff2html/lib/types';
import { h } from './dom';
import { brief, getPointer, pretty } from './json-pointer';
import type { DiffMode } from './state';
import type { PatchOp } from './types';

export interface DiffInput {
  before: unknown;
  after: unknown;
  fileName: string;
  beforeLabel: string;
  afterLabel: string;
  ops: PatchOp[];
  mode: DiffMode;
}

export function renderDiff(d: DiffInput): HTMLElement {
  const a = pretty(d.before);
  const b = pretty(d.after);
  // One file name on both sides: diff2html would call different names a rename.
  const patch = createTwoFilesPatch(d.fileName, d.fileName, a, b, undefined, undefined, { context: 4 });
  const rendered = h('div', { class: 'diff-rendered' });
  // diff2html escapes the text it puts into its markup.
  rendered.innerHTML = diffHtml(patch, {
    outputFormat: d.mode === 'unified' ? 'line-by-line' : 'side-by-side',
    drawFileList: false,
    matching: 'lines',
    colorScheme: ColorSchemeType.AUTO,
  });
  if (a === b) rendered.textContent = 'The two versions are equal.';

  const rows = d.ops.map((op) => {
    const old = getPointer(d.before, op.path);
    return h('tr', { testid: 'diff-op', 'data-path': op.path },
      h('td', { class: 'mono', text: op.path || '(whole object)' }),
      h('td', { text: op.op }),
      h('td', { class: 'mono old', text: old.found ? brief(old.value) : '' }),
      h('td', { class: 'mono new', text: op.op === 'remove' ? '' : brief(op.value) }),
      h('td', { text: op.manager ?? '' }));
  });
  const table = h('table', { class: 'ops', testid: 'diff-ops' },
    h('thead', {}, h('tr', {},
      h('th', { text: 'path' }), h('th', { text: 'op' }), h('th', { text: 'old' }),
      h('th', { text: 'new' }), h('th', { text: 'manager' }))),
    h('tbody', {}, rows));
  return h('div', { class: 'diff', testid: 'diff', 'data-mode': d.mode },
    h('p', { class: 'diff-labels mono' },
      h('span', { class: 'old', text: `− ${d.beforeLabel}` }), h('br'),
      h('span', { class: 'new', text: `+ ${d.afterLabel}` })),
    rendered,
    h('h4', { text: `Changed fields (${d.ops.length})` }),
    d.ops.length ? table : h('p', { class: 'muted', text: 'No field changed.' }));
}
