import { DomainError } from '../errors.js';

/** What can go wrong in login, codes and tokens, in words a client can act on. */
export type AuthErrorCode =
  | 'invalid_email'
  | 'user_not_found'
  | 'otp_cooldown'
  | 'otp_hourly_limit'
  | 'mail_failed'
  | 'otp_invalid'
  | 'otp_used'
  | 'otp_locked'
  | 'otp_expired'
  | 'otp_wrong'
  | 'refresh_token_reused'
  | 'invalid_refresh_token';

export class AuthError extends DomainError<AuthErrorCode> {
  override name = 'AuthError';
}
