import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { WriteOp } from './write-ops.js';

/*
 * What instances say to each other on their own channels (`instance:<id>`): writes forwarded to the
 * instance that writes their room, and that instance's answers to writes that were not stored. A
 * stored write needs no answer here: its event, on the room's channel, says whose it was.
 */

/** Writes in one message at most; a busier moment is cut into several messages. */
export const MAX_WRITES_PER_MESSAGE = 500;

const Shape = Type.Object({}, { additionalProperties: true });
const Ids = { roomId: Type.String({ maxLength: 200 }), userId: Type.String({ maxLength: 200 }) };
const Op = Type.Union([
  Type.Object({
    kind: Type.Literal('draw'),
    ...Ids,
    userName: Type.String(),
    shape: Shape,
    clientRef: Type.Union([Type.String(), Type.Null()]),
    picture: Type.Optional(Type.Object({ requestId: Type.String(), content: Type.String(), imageUrl: Type.String(), placeholder: Type.Boolean() })),
  }),
  Type.Object({ kind: Type.Literal('delete'), ...Ids, role: Type.Union([Type.Literal('admin'), Type.Literal('editor'), Type.Literal('viewer')]), drawingId: Type.String() }),
  Type.Object({ kind: Type.Literal('clear'), ...Ids }),
]);

const Reply = Type.Union([
  /** Not stored: refused by the room's rules, with the code and sentence its sender gets. */
  Type.Object({ req: Type.Integer(), outcome: Type.Literal('refused'), code: Type.String(), message: Type.String() }),
  /** A clientRef already stored: the earlier drawing's frame, for its sender alone. */
  Type.Object({ req: Type.Integer(), outcome: Type.Literal('duplicate'), frame: Type.Object({}, { additionalProperties: true }) }),
  /** The instance does not write this room (any more): ask again who does. */
  Type.Object({ req: Type.Integer(), outcome: Type.Literal('not_writer') }),
  /** The database did not store it (an outage): the sender is told to try again. */
  Type.Object({ req: Type.Integer(), outcome: Type.Literal('failed') }),
]);
export type ForwardReply = Static<typeof Reply>;

const ForwardMessage = Type.Object({
  from: Type.String(),
  writes: Type.Optional(Type.Array(Type.Object({ req: Type.Integer(), op: Op }), { maxItems: MAX_WRITES_PER_MESSAGE })),
  replies: Type.Optional(Type.Array(Reply, { maxItems: MAX_WRITES_PER_MESSAGE })),
  /** Rooms the sending instance no longer writes (it left them, or shuts down): forward elsewhere. */
  released: Type.Optional(Type.Array(Type.String(), { maxItems: 10_000 })),
  /** With `released`: the last of the receiver's forwarded writes the sender took; later ones it never will. */
  upto: Type.Optional(Type.Integer()),
});
const check = Compile(ForwardMessage);

export interface ForwardMessage {
  from: string;
  writes: Array<{ req: number; op: WriteOp }>;
  replies: ForwardReply[];
  released: string[];
  upto: number;
}

export function encodeWrites(from: string, writes: Array<{ req: number; op: WriteOp }>): string[] {
  const messages: string[] = [];
  for (let i = 0; i < writes.length; i += MAX_WRITES_PER_MESSAGE) messages.push(JSON.stringify({ from, writes: writes.slice(i, i + MAX_WRITES_PER_MESSAGE) }));
  return messages;
}

export function encodeReply(from: string, reply: ForwardReply): string {
  return JSON.stringify({ from, replies: [reply] });
}

export function encodeReleased(from: string, released: string[], upto: number): string {
  return JSON.stringify({ from, released, upto });
}

/** The message, or null when it is not one (a forward lost is answered by its sender's timeout). */
export function decodeForwardMessage(text: string): ForwardMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!check.Check(value)) return null;
  // The schema checked every field the writer reads; a shape is stored as the room's own sockets sent it.
  const { from, writes, replies, released, upto } = value as { from: string; writes?: ForwardMessage['writes']; replies?: ForwardReply[]; released?: string[]; upto?: number };
  return { from, writes: writes ?? [], replies: replies ?? [], released: released ?? [], upto: upto ?? 0 };
}
