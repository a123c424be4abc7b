import { Type, type Static } from 'typebox';

const Email = Type.String({ minLength: 3, maxLength: 320, description: 'Trimmed and lower-cased by the server.' });

export const GenerateOtpBody = Type.Object({ email: Email }, { additionalProperties: false });
export type GenerateOtpBody = Static<typeof GenerateOtpBody>;

export const GenerateOtpResponse = Type.Object({
  message: Type.String(),
  email: Type.String(),
  expires_in_minutes: Type.Integer(),
});

export const VerifyOtpBody = Type.Object(
  { email: Email, otp_code: Type.String({ minLength: 1, maxLength: 16, description: 'The six digits from the e-mail.' }) },
  { additionalProperties: false },
);
export type VerifyOtpBody = Static<typeof VerifyOtpBody>;

export const PublicUser = Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() });

export const TokenPair = Type.Object({
  access: Type.String({ description: 'HS256 JWT for Authorization: Bearer and the sockets.' }),
  refresh: Type.String({ description: 'Opaque; single use; rotated by /auth/token/refresh/.' }),
});

export const VerifyOtpResponse = Type.Object({
  message: Type.String(),
  user: PublicUser,
  tokens: TokenPair,
  token_info: Type.Object({
    access_token_expires_in_days: Type.Number(),
    refresh_token_expires_in_days: Type.Number(),
  }),
});

export const RefreshBody = Type.Object({ refresh: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false });
export type RefreshBody = Static<typeof RefreshBody>;

export const PatchMeBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
export type PatchMeBody = Static<typeof PatchMeBody>;

export const SessionList = Type.Object({
  sessions: Type.Array(
    Type.Object({
      sid: Type.String({ description: 'The login id, also the `sid` claim of its access tokens.' }),
      created_at: Type.String({ format: 'date-time' }),
      last_used_at: Type.String({ format: 'date-time', description: 'The login or its last token refresh.' }),
      user_agent: Type.Union([Type.String(), Type.Null()]),
      ip: Type.Union([Type.String(), Type.Null()]),
      current: Type.Boolean({ description: 'The login of the token that made this request.' }),
    }),
  ),
});

export const SessionParams = Type.Object({ sid: Type.String({ minLength: 1, maxLength: 64 }) });
