import type { Kysely } from 'kysely';
import type { Database, GrammarTopic } from '../db/types.js';

/** The seeded grammar topics (migrations/0003_tutor.ts). They rarely change, so they are cached after the first read. */
export class GrammarTopics {
  private cache: Promise<GrammarTopic[]> | null = null;

  constructor(private readonly db: Kysely<Database>) {}

  list(): Promise<GrammarTopic[]> {
    this.cache ??= this.db
      .selectFrom('grammar_topics')
      .select(['id', 'title', 'description'])
      .orderBy('id')
      .execute()
      .catch((err: unknown) => {
        this.cache = null;
        throw err;
      });
    return this.cache;
  }

  /** The topic a path segment names, or null for anything that is not a known topic id (general help). */
  async resolve(idText: string | number): Promise<GrammarTopic | null> {
    const text = String(idText);
    if (!/^\d{1,9}$/.test(text)) return null;
    const id = Number(text);
    return (await this.list()).find((t) => t.id === id) ?? null;
  }
}
