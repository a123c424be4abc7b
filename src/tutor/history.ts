import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, TutorMessageRow } from '../db/types.js';

export type TurnStatus = 'completed' | 'stopped' | 'failed';

/** One message of the model's context. */
export interface ContextMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** What a finished turn leaves behind. */
export interface StoredTurn {
  userId: string;
  grammarId: number | null;
  turnId: string;
  question: string;
  answer: string;
  status: TurnStatus;
  askedAt: Date;
}

interface PendingSave {
  turn: StoredTurn;
  resolve(): void;
  reject(err: unknown): void;
}

export interface HistoryPageResult {
  messages: TutorMessageRow[];
  nextCursor: number | null;
}

/** A cached message remembers its turn, so a turn the load already read is not appended again. */
interface CachedMessage extends ContextMessage {
  turnId: string;
}

const key = (userId: string, grammarId: number | null) => `${userId}\u0000${grammarId ?? ''}`;

/** Only role and content: the messages go to the model as they are. */
const strip = (messages: CachedMessage[]): ContextMessage[] => messages.map(({ role, content }) => ({ role, content }));

/**
 * The tutor's memory: questions and answers per user and topic. The recent context of each conversation
 * is kept in process (bounded LRU) so a question reaches the model without a database round trip;
 * writes go to the database first and deletions evict, so every socket of this process sees the same
 * context and a new connection (or a restart) reloads it from the database. With several instances
 * (cacheEntries 0) nothing is kept: another instance may have stored or deleted messages since, and
 * only the database knows, so every question reads its context there.
 */
export class TutorHistory {
  private readonly recent = new Map<string, Promise<CachedMessage[]>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly contextSize: number,
    // Bounded: 500 conversations × 20 messages stays in the tens of megabytes even with long answers.
    private readonly cacheEntries = 500,
  ) {}

  /** The last `contextSize` non-empty messages, oldest first. */
  async context(userId: string, grammarId: number | null): Promise<ContextMessage[]> {
    if (this.cacheEntries === 0) return strip(await this.load(userId, grammarId));
    const k = key(userId, grammarId);
    let entry = this.recent.get(k);
    if (entry) {
      // Map order is insertion order: re-inserting marks the entry as recently used.
      this.recent.delete(k);
    } else {
      entry = this.load(userId, grammarId);
      entry.catch(() => this.recent.delete(k));
    }
    this.recent.set(k, entry);
    this.evict();
    return strip(await entry);
  }

  private async load(userId: string, grammarId: number | null): Promise<CachedMessage[]> {
    if (this.contextSize === 0) return [];
    const rows = await this.db
      .selectFrom('tutor_messages')
      .select(['role', 'content', 'turn_id'])
      .where('user_id', '=', userId)
      .where((eb) => (grammarId === null ? eb('grammar_id', 'is', null) : eb('grammar_id', '=', grammarId)))
      .where('content', '<>', '')
      .orderBy('id', 'desc')
      .limit(this.contextSize)
      .execute();
    return rows.reverse().map((r) => ({ role: r.role, content: r.content, turnId: r.turn_id }));
  }

  private evict(): void {
    while (this.recent.size > this.cacheEntries) {
      const oldest = this.recent.keys().next().value;
      if (oldest === undefined) break;
      this.recent.delete(oldest);
    }
  }

  /**
   * Stores a question and its answer (in that order), then extends the cached context. Turns that
   * finish while a write is in flight are stored together by the next one (group commit), so a
   * busy instance does not pay one database round trip per turn.
   */
  async save(turn: StoredTurn): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.unsaved.push({ turn, resolve, reject });
      void this.flush();
    });
    const k = key(turn.userId, turn.grammarId);
    const cached = this.recent.get(k);
    if (!cached || this.contextSize === 0) return;
    const added = [
      { role: 'user' as const, content: turn.question, turnId: turn.turnId },
      { role: 'assistant' as const, content: turn.answer, turnId: turn.turnId },
    ].filter((m) => m.content !== '');
    // A load that started while this turn was being written may have read it already (it was committed).
    this.recent.set(
      k,
      cached.then((list) => (list.some((m) => m.turnId === turn.turnId) ? list : [...list, ...added].slice(-this.contextSize))),
    );
  }

  private readonly unsaved: PendingSave[] = [];
  private writing = false;

  private async flush(): Promise<void> {
    if (this.writing || this.unsaved.length === 0) return;
    this.writing = true;
    const batch = this.unsaved.splice(0, 250);
    try {
      await this.insert(batch.map((p) => p.turn));
      for (const p of batch) p.resolve();
    } catch (err) {
      // One bad turn must not lose the others: store them one by one.
      if (batch.length === 1) batch[0]!.reject(err);
      else for (const p of batch) await this.insert([p.turn]).then(p.resolve, p.reject);
    } finally {
      this.writing = false;
      void this.flush();
    }
  }

  private async insert(turns: StoredTurn[]): Promise<void> {
    const now = this.clock.now();
    await this.db
      .insertInto('tutor_messages')
      .values(
        turns.flatMap((turn) => {
          const base = { user_id: turn.userId, grammar_id: turn.grammarId, turn_id: turn.turnId, status: turn.status, feedback: null };
          return [
            { ...base, role: 'user' as const, content: turn.question, created_at: turn.askedAt },
            { ...base, role: 'assistant' as const, content: turn.answer, created_at: now },
          ];
        }),
      )
      .execute();
  }

  /** Records a thumb on the user's own answer; false when that answer does not exist (or is not theirs). */
  async setFeedback(userId: string, turnId: string, value: 'thumb-up' | 'thumb-down'): Promise<boolean> {
    const res = await this.db
      .updateTable('tutor_messages')
      .set({ feedback: value })
      .where('turn_id', '=', turnId)
      .where('user_id', '=', userId)
      .where('role', '=', 'assistant')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** The user's messages on a topic, newest first, `limit` at a time. */
  async page(userId: string, grammarId: number | null, before: number | undefined, limit: number): Promise<HistoryPageResult> {
    let q = this.db
      .selectFrom('tutor_messages')
      .selectAll()
      .where('user_id', '=', userId)
      .where((eb) => (grammarId === null ? eb('grammar_id', 'is', null) : eb('grammar_id', '=', grammarId)));
    if (before !== undefined) q = q.where('id', '<', before);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const messages = rows.slice(0, limit);
    return { messages, nextCursor: rows.length > limit ? messages[messages.length - 1]!.id : null };
  }

  /** Deletes the user's messages on a topic and forgets the cached context. */
  async clear(userId: string, grammarId: number | null): Promise<void> {
    this.recent.delete(key(userId, grammarId));
    await this.db
      .deleteFrom('tutor_messages')
      .where('user_id', '=', userId)
      .where((eb) => (grammarId === null ? eb('grammar_id', 'is', null) : eb('grammar_id', '=', grammarId)))
      .execute();
    this.recent.delete(key(userId, grammarId));
  }
}
