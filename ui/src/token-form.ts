// The bearer token form (auth.mode: token): shown when a data call answers
// 401, it keeps the entered token for the tab and offers to forget it. The
// caller loads the view again after either.

import { h } from './dom';
import { clearToken, getToken, setToken } from './token';

// One HTTP header value: printable ASCII, no spaces (a paste of
// `kubectl create token` output is trimmed first).
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

export class TokenForm {
  readonly root: HTMLFormElement;
  /** "Forget token", shown while a token is kept. */
  readonly forget: HTMLButtonElement;
  private input: HTMLInputElement;
  private error: HTMLElement;

  constructor(private onChange: () => void) {
    this.input = h('input', {
      type: 'password', id: 'token-input', testid: 'token-input', name: 'token', size: 40,
      autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'token-help token-error',
    });
    this.error = h('p', { id: 'token-error', class: 'error', testid: 'token-error', role: 'alert', hidden: true });
    this.root = h('form', { class: 'token-form', testid: 'token-form', hidden: true, 'aria-label': 'Token required' },
      h('div', { class: 'row' },
        h('label', { for: 'token-input', text: 'Bearer token' }),
        this.input,
        h('button', { type: 'submit', testid: 'token-submit', text: 'Use token' })),
      h('p', { id: 'token-help', class: 'muted' },
        'The server checks the token with the cluster and shows only what its account may read, e.g. ',
        h('code', { text: 'kubectl create token <serviceaccount> -n <namespace>' }), '.'),
      this.error);
    this.root.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.forget = h('button', {
      type: 'button', testid: 'token-forget', text: 'Forget token', hidden: !getToken(),
      title: 'forget the bearer token of this tab',
    });
    this.forget.addEventListener('click', () => {
      clearToken();
      this.sync();
      this.onChange();
    });
  }

  /** A data call answered 401; `reason` is the server's error when a kept token was refused. */
  ask(reason: string | null): void {
    const appears = this.root.hidden;
    this.root.hidden = false;
    // A later 401 to a call without a token keeps the refusal on screen.
    if (reason) this.showError(`The server refused the token: ${reason}`);
    else if (appears) this.showError(null);
    this.sync();
    if (appears || reason) this.input.focus();
  }

  /** A call with the token was answered: the form is not needed. */
  accepted(): void {
    this.root.hidden = true;
    this.showError(null);
    this.sync();
  }

  private submit(): void {
    const token = this.input.value.trim();
    if (!TOKEN_SHAPE.test(token)) {
      this.showError(token ? 'A token is one word of printable characters, without spaces.' : 'Enter a token.');
      this.input.focus();
      return;
    }
    setToken(token);
    // Not left in the page; a refused token is pasted again.
    this.input.value = '';
    this.showError(null);
    this.sync();
    this.onChange();
  }

  private showError(text: string | null): void {
    this.error.hidden = !text;
    this.error.textContent = text ?? '';
  }

  private sync(): void {
    this.forget.hidden = !getToken();
  }
}
