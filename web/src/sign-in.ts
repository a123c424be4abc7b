import { h } from './dom.js';
import { auth } from './session.js';

/** Passwordless sign-in: an e-mail address, then the 6-digit code sent to it. */
export function signInView(root: HTMLElement, notice: string): () => void {
  const status = h('p', { role: 'status', class: 'status' }, notice);
  const email = h('input', { type: 'email', id: 'email', autocomplete: 'email', required: true });
  const code = h('input', { type: 'text', id: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6 });
  const fail = (err: unknown) => (status.textContent = err instanceof Error ? err.message : String(err));

  const sendCode = h(
    'form',
    {
      onsubmit: async (ev: SubmitEvent) => {
        ev.preventDefault();
        status.textContent = 'Sending…';
        try {
          await auth.requestCode(email.value);
          status.textContent = `A code was sent to ${email.value.trim().toLowerCase()}.`;
          code.focus();
        } catch (err) {
          fail(err);
        }
      },
    },
    h('label', { for: 'email' }, 'Email'),
    email,
    h('button', { type: 'submit' }, 'Send code'),
  );
  const signIn = h(
    'form',
    {
      onsubmit: async (ev: SubmitEvent) => {
        ev.preventDefault();
        try {
          await auth.verify(email.value, code.value.trim());
        } catch (err) {
          fail(err);
        }
      },
    },
    h('label', { for: 'code' }, 'Code'),
    code,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  root.append(h('section', { class: 'card sign-in' }, h('h1', {}, 'Sign in'), sendCode, signIn, status));
  email.focus();
  return () => undefined;
}
