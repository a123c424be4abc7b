import { AuthError } from './auth-error.js';

// Pragmatic address check: one @, a dotted domain, no spaces; the mail server is the final judge.
const EMAIL = /^[^\s@"<>()[\]\\,;:]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Trims and lower-cases an address; a 400 `invalid_email` when it is not one. */
export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) {
    throw new AuthError('invalid_email', 'email must be a valid e-mail address such as ada@example.com');
  }
  return email;
}

/** The default display name: the address's local part, cut to the name limit. */
export function defaultName(email: string): string {
  return email.slice(0, email.indexOf('@')).slice(0, 64);
}
