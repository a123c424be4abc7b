import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomToken } from './secrets.js';

export interface ResolvedSecret {
  secret: string;
  /** Where a generated secret is kept; undefined when configured or kept in memory only. */
  generatedAt?: string;
  source: 'config' | 'file' | 'memory';
}

/**
 * JWT_SECRET when set; otherwise (development only, production refuses earlier) a secret made once
 * and kept beside the embedded database, so a restart keeps everyone logged in.
 */
export function resolveJwtSecret(configured: string, pgliteDir: string): ResolvedSecret {
  if (configured) return { secret: configured, source: 'config' };
  if (pgliteDir.startsWith('memory://')) return { secret: randomToken(48), source: 'memory' };
  const file = join(dirname(resolve(pgliteDir)), 'jwt-secret');
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return { secret: kept, source: 'file', generatedAt: file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomToken(48);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return { secret, source: 'file', generatedAt: file };
}
