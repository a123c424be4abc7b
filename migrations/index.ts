import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001_accounts.js';
import * as m0002 from './0002_whiteboard.js';
import * as m0003 from './0003_tutor.js';
import * as m0004 from './0004_room_access.js';
import * as m0005 from './0005_sessions.js';
import * as m0006 from './0006_room_events.js';

/** Migrations listed in code (not read from disk) so they run the same from src/ and dist/. */
export const migrations: Record<string, Migration> = {
  '0001_accounts': m0001,
  '0002_whiteboard': m0002,
  '0003_tutor': m0003,
  '0004_room_access': m0004,
  '0005_sessions': m0005,
  '0006_room_events': m0006,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
