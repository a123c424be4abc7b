import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { ServerMessageType } from './protocol.js';
import type { AccessChange, RoomEvent } from './room-bus.js';

/*
 * What instances say to each other on a room's channel: events, an access change, or the room's
 * head. A message is one line of JSON (the envelope), then, for events, each event's frame on a line
 * of its own, exactly as the storing instance encoded it (JSON text never holds a raw newline), so no
 * instance parses or re-encodes a drawing's frame: it goes to the sockets as it came. A commit's
 * events travel as one message, so the instances that receive it hand them to their sockets in one
 * turn (one write per socket) and Redis carries one command per commit rather than one per drawing.
 */

/** What a receiver needs of an event besides its frame. */
const EventHeader = Type.Object({
  type: Type.String(),
  seq: Type.Optional(Type.Integer()),
  volatile: Type.Optional(Type.Boolean()),
  exceptUserId: Type.Optional(Type.String()),
  /** Stored for a write this instance forwarded (cluster-room-writes.ts). */
  forwarded: Type.Optional(Type.Object({ instance: Type.String(), req: Type.Integer() })),
});
type EventHeader = Static<typeof EventHeader>;

/** Events in one message at most: a commit holds far fewer; a larger one is cut into several messages. */
export const MAX_EVENTS_PER_MESSAGE = 1000;
/**
 * Frame text in one message at most (characters; a message holds at least one event). Redis drops a
 * subscriber whose unread messages pass 32 MB (its default `client-output-buffer-limit pubsub`), so
 * no single message comes near that.
 */
export const MAX_MESSAGE_TEXT = 1024 * 1024;

const Envelope = Type.Object({
  from: Type.String(),
  /** Several events, their frames on the lines that follow, in this order. */
  events: Type.Optional(Type.Array(EventHeader, { maxItems: MAX_EVENTS_PER_MESSAGE })),
  /** One event, its frame being the rest of the message (what instances before `events` sent; still read). */
  event: Type.Optional(EventHeader),
  access: Type.Optional(Type.Object({ userId: Type.String(), role: Type.Union([Type.Literal('editor'), Type.Literal('viewer'), Type.Null()]) })),
  head: Type.Optional(Type.Integer()),
});
const checkEnvelope = Compile(Envelope);

/** A message as the receiving instance uses it. */
export interface BusMessage {
  /** The sending instance. */
  from: string;
  /** In the order they were published (empty when the message carries none). */
  events: RoomEvent[];
  access?: AccessChange;
  head?: number;
}

/** Only what crosses instances: the sender's echo and receipt time stay where the event began. */
function header({ type, seq, volatile, exceptUserId, forwarded }: RoomEvent): EventHeader {
  return { type, seq, volatile, exceptUserId, forwarded };
}

/** The events as messages, in order: as few as `MAX_EVENTS_PER_MESSAGE` and `MAX_MESSAGE_TEXT` allow. */
export function encodeEvents(from: string, events: RoomEvent[]): string[] {
  const messages: string[] = [];
  let part: RoomEvent[] = [];
  let size = 0;
  const cut = () => {
    if (part.length === 0) return;
    messages.push(`${JSON.stringify({ from, events: part.map(header) })}\n${part.map((e) => e.text).join('\n')}`);
    part = [];
    size = 0;
  };
  for (const event of events) {
    if (part.length === MAX_EVENTS_PER_MESSAGE || (part.length > 0 && size + event.text.length > MAX_MESSAGE_TEXT)) cut();
    part.push(event);
    size += event.text.length;
  }
  cut();
  return messages;
}

export function encodeControl(from: string, control: { access: AccessChange } | { head: number }): string {
  return JSON.stringify({ from, ...control });
}

/** The message, or null when it is not one (a message dropped loses only time: gaps are filled from the database). */
export function decodeBusMessage(payload: string): BusMessage | null {
  const newline = payload.indexOf('\n');
  let envelope: unknown;
  try {
    envelope = JSON.parse(newline < 0 ? payload : payload.slice(0, newline));
  } catch {
    return null;
  }
  if (!checkEnvelope.Check(envelope)) return null;
  const { from, access, head } = envelope;
  const message: BusMessage = { from, events: [], ...(access ? { access } : {}), ...(head !== undefined ? { head } : {}) };
  const rest = newline < 0 ? null : payload.slice(newline + 1);
  if (envelope.events) {
    const texts = rest === null ? [] : rest.split('\n');
    if (texts.length !== envelope.events.length) return null;
    message.events = envelope.events.map((h, i) => event(h, texts[i]!));
  } else if (envelope.event && rest !== null) {
    message.events = [event(envelope.event, rest)];
  }
  return message;
}

function event(h: EventHeader, text: string): RoomEvent {
  return { ...h, type: h.type as ServerMessageType, text };
}
