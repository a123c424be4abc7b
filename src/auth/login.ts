import { publicUser, type Accounts, type PublicUser } from './accounts.js';
import { normalizeEmail } from './email.js';
import type { OtpService } from './otp-service.js';
import type { LoginOrigin } from './sessions.js';
import type { TokenPair, TokenService } from './token-service.js';

export interface LoginResult {
  user: PublicUser;
  tokens: TokenPair;
}

/** Passwordless login: a code by e-mail, then tokens. The account appears on first success. */
export class Login {
  constructor(
    private readonly otp: OtpService,
    private readonly accounts: Accounts,
    private readonly tokens: TokenService,
  ) {}

  /** Same answer whether or not the address has an account: no enumeration. */
  async requestCode(rawEmail: string): Promise<{ email: string; expiresInMinutes: number }> {
    const email = normalizeEmail(rawEmail);
    await this.otp.issue(email);
    return { email, expiresInMinutes: this.otp.ttlMinutes };
  }

  async verify(rawEmail: string, code: string, origin: LoginOrigin = {}): Promise<LoginResult> {
    const email = normalizeEmail(rawEmail);
    await this.otp.consume(email, code.trim());
    const user = await this.accounts.findOrCreate(email);
    return { user: publicUser(user), tokens: await this.tokens.issue(user, origin) };
  }
}
