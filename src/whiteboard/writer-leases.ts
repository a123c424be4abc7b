import type { ScriptRunner } from './cluster-presence.js';

/*
 * Which instance writes a room: a key per room holding that instance's id, with a time to live its
 * writer renews. A lease is only a way to send a room's writes to one place: the room's row lock in
 * the database still orders every writer, so two instances that both believe they hold it (a lease
 * taken over from a writer that was only slow) stay correct, merely slower.
 */

/** The holder, claiming the lease for ARGV[1] when no one holds it. */
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]`;

/** The holder, or '' when no one holds the lease. */
const PEEK = `return redis.call('GET', KEYS[1]) or ''`;

/** 1 when ARGV[1] still holds the lease (now renewed), else 0. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/** Gives up ARGV[1]'s lease. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`;

/** ARGV[2] takes the lease from ARGV[1], which stopped answering; the holder afterwards. */
const TAKE_OVER = `
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return v end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return ARGV[2]`;

export interface LeaseTiming {
  /** A lease not renewed for this long lapses (its writer died, or left the room). */
  leaseMs: number;
  /** How long this instance trusts what it read of another instance's lease before reading it again. */
  cacheMs: number;
}

/** This instance's view of the rooms' writers. */
export class WriterLeases {
  /** Rooms whose lease this instance holds. */
  private readonly mine = new Set<string>();
  /** Other instances' leases as last read, until `until` (performance.now()). */
  private readonly others = new Map<string, { holder: string; until: number }>();

  constructor(
    private readonly redis: ScriptRunner,
    private readonly self: string,
    private readonly timing: LeaseTiming,
  ) {}

  private key = (roomId: string) => `writer:${roomId}`;

  /**
   * The instance that writes the room, claiming it for this one if no one does and `claim` allows
   * (null: no one does, and this instance may not claim it): at once when known.
   */
  writerOf(roomId: string, claim = true): string | null | Promise<string | null> {
    if (this.mine.has(roomId)) return this.self;
    const known = this.others.get(roomId);
    if (known && known.until > performance.now()) return known.holder;
    return claim ? this.read(CLAIM, roomId, [this.self, this.timing.leaseMs]) : this.read(PEEK, roomId, []).then((holder) => holder || null);
  }

  /** After `holder` stopped answering: this instance takes the room over, unless someone else did first. */
  takeOver(roomId: string, holder: string): Promise<string> {
    return this.read(TAKE_OVER, roomId, [holder, this.self, this.timing.leaseMs]);
  }

  /** Forgets what was read of the room's writer (it said it no longer writes the room). */
  forget(roomId: string, holder: string): void {
    if (this.others.get(roomId)?.holder === holder) this.others.delete(roomId);
  }

  /** This instance stopped serving the room: what it read of the room's writer is dropped (it may not come back). */
  drop(roomId: string): void {
    this.others.delete(roomId);
  }

  holds(roomId: string): boolean {
    return this.mine.has(roomId);
  }

  /** Renews this instance's leases of the rooms it still serves and gives up the rest; returns the rooms it no longer writes. */
  async renew(active: (roomId: string) => boolean): Promise<string[]> {
    const given: string[] = [];
    for (const roomId of [...this.mine]) {
      if (!active(roomId)) {
        await this.release(roomId);
        given.push(roomId);
        continue;
      }
      try {
        if ((await this.redis.run(RENEW, [this.key(roomId)], [this.self, this.timing.leaseMs])) === 1) continue;
      } catch {
        // Redis away: the lease lapses by itself; writes are made here meanwhile.
      }
      this.mine.delete(roomId);
      given.push(roomId);
    }
    return given;
  }

  /** Gives up the room's lease (this instance leaves it, or shuts down). */
  async release(roomId: string): Promise<void> {
    if (!this.mine.delete(roomId)) return;
    await this.redis.run(RELEASE, [this.key(roomId)], [this.self]).catch(() => {});
  }

  /** Gives up every lease; returns the rooms. */
  async releaseAll(): Promise<string[]> {
    const rooms = [...this.mine];
    await Promise.all(rooms.map((roomId) => this.release(roomId)));
    return rooms;
  }

  private async read(script: string, roomId: string, args: Array<string | number>): Promise<string> {
    const holder = String(await this.redis.run(script, [this.key(roomId)], args));
    if (holder === '') return holder;
    if (holder === this.self) {
      this.mine.add(roomId);
      this.others.delete(roomId);
    } else {
      this.mine.delete(roomId);
      this.others.set(roomId, { holder, until: performance.now() + this.timing.cacheMs });
    }
    return holder;
  }
}
