import type { Member } from './protocol.js';

/** What the presence needs from Redis: a Lua script run atomically on keys under the deployment's prefix. */
export interface ScriptRunner {
  run(script: string, keys: string[], args: Array<string | number>): Promise<unknown>;
}

/** Users who appeared in or vanished from a room (over every instance) in one step. */
export interface PresenceChange {
  joined: Member[];
  left: Member[];
  /** Ids of users one of whose entries of this instance was taken out (this instance told its own sockets already). */
  ownDropped: string[];
}

export interface PresenceTiming {
  /** An instance whose heartbeat is older than this is dead: its sockets' users leave. */
  staleMs: number;
  /** Presence keys expire this long after the last instance with the room touched them. */
  ttlMs: number;
}

/*
 * One hash per room: field "<instance>|<connection>", value the member's JSON. One sorted set of
 * instances scored by their last heartbeat (Redis's clock). Every step first reaps the entries of
 * dead instances, applies its change, and returns the users whose count went from 0 or to 0, so
 * each join or leave is reported by exactly one instance however many run the script at once.
 */
const PRESENCE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local self, stale, ttl, op = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local alive = {}
local function live(inst)
  if inst == self then return true end
  if alive[inst] == nil then
    local score = redis.call('ZSCORE', KEYS[2], inst)
    alive[inst] = score ~= false and tonumber(score) >= now - stale
  end
  return alive[inst]
end
local entries = redis.call('HGETALL', KEYS[1])
local users, before = {}, {}
for i = 1, #entries, 2 do
  local inst = string.match(entries[i], '^([^|]*)|')
  local id = cjson.decode(entries[i + 1]).id
  users[id] = entries[i + 1]
  if op ~= 'members' or live(inst) then before[id] = (before[id] or 0) + 1 end
end
if op == 'members' then
  local out = {}
  for id in pairs(before) do table.insert(out, users[id]) end
  return out
end
redis.call('ZADD', KEYS[2], now, self)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
local after = {}
for id, n in pairs(before) do after[id] = n end
local own = {}
local function drop(field, value)
  redis.call('HDEL', KEYS[1], field)
  local id = cjson.decode(value).id
  after[id] = after[id] - 1
  if string.sub(field, 1, #self + 1) == self .. '|' then table.insert(own, id) end
end
local function add(field, value)
  if redis.call('HSETNX', KEYS[1], field, value) == 1 then
    local id = cjson.decode(value).id
    users[id] = value
    after[id] = (after[id] or 0) + 1
  end
end
local mine = {}
if op == 'sync' then
  for i = 5, #ARGV, 2 do mine[self .. '|' .. ARGV[i]] = ARGV[i + 1] end
end
for i = 1, #entries, 2 do
  local field = entries[i]
  local inst = string.match(field, '^([^|]*)|')
  if not live(inst) or (op == 'sync' and inst == self and mine[field] == nil) then drop(field, entries[i + 1]) end
end
if op == 'add' then add(self .. '|' .. ARGV[5], ARGV[6]) end
if op == 'remove' then
  local field = self .. '|' .. ARGV[5]
  local value = redis.call('HGET', KEYS[1], field)
  if value then drop(field, value) end
end
if op == 'sync' then
  for field, value in pairs(mine) do add(field, value) end
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ttl) end
local joined, left = {}, {}
for id, value in pairs(users) do
  local b, a = before[id] or 0, after[id] or 0
  if b == 0 and a > 0 then table.insert(joined, value) end
  if b > 0 and a == 0 then table.insert(left, value) end
end
return {joined, left, own}`;

const parseMember = (json: unknown): Member | null => {
  if (typeof json !== 'string') return null;
  try {
    const m = JSON.parse(json) as Partial<Member>;
    return typeof m.id === 'string' && typeof m.name === 'string' ? { id: m.id, name: m.name } : null;
  } catch {
    return null;
  }
};
const members = (list: unknown): Member[] => (Array.isArray(list) ? list.map(parseMember).filter((m): m is Member => m !== null) : []);

/**
 * Who is in each room over every instance, kept in Redis. Each instance records its own sockets
 * and proves it is alive with a heartbeat (every step it runs is one); the sockets of an instance
 * that stops beating (it died, or lost Redis) are taken out by whichever instance looks next.
 */
export class ClusterPresence {
  constructor(
    private readonly redis: ScriptRunner,
    private readonly instanceId: string,
    private readonly timing: PresenceTiming,
  ) {}

  private async step(roomId: string, op: string, args: string[] = []): Promise<PresenceChange> {
    const [joined, left, own] = (await this.redis.run(PRESENCE, [`presence:${roomId}`, 'instances'], [this.instanceId, this.timing.staleMs, this.timing.ttlMs, op, ...args])) as [
      unknown,
      unknown,
      unknown,
    ];
    return { joined: members(joined), left: members(left), ownDropped: Array.isArray(own) ? own.filter((id): id is string => typeof id === 'string') : [] };
  }

  add(roomId: string, connectionId: string, member: Member): Promise<PresenceChange> {
    return this.step(roomId, 'add', [connectionId, JSON.stringify({ id: member.id, name: member.name })]);
  }

  remove(roomId: string, connectionId: string): Promise<PresenceChange> {
    return this.step(roomId, 'remove', [connectionId]);
  }

  /** Makes this instance's entries in the room exactly `sockets` (the heartbeat, and the repair after an outage). */
  sync(roomId: string, sockets: Iterable<[connectionId: string, member: Member]>): Promise<PresenceChange> {
    const args: string[] = [];
    for (const [connectionId, m] of sockets) args.push(connectionId, JSON.stringify({ id: m.id, name: m.name }));
    return this.step(roomId, 'sync', args);
  }

  /** The users with a socket on a live instance. */
  async members(roomId: string): Promise<Member[]> {
    return members(await this.redis.run(PRESENCE, [`presence:${roomId}`, 'instances'], [this.instanceId, this.timing.staleMs, this.timing.ttlMs, 'members']));
  }
}
