import { Type, type Static, type TObject } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import { describeErrors } from './describe-errors.js';
import { Coord, DrawingInputSchema, DrawingSchema, type Drawing } from './drawing.js';
import { inputProblem } from '../input-value.js';

/*
 * The whiteboard socket's protocol, both directions: one TypeBox schema per message, the unions
 * derived from them, validators compiled once, and typed constructors for what the server sends.
 * A TypeScript client imports its types from here.
 */

export type { Drawing };
export const MAX_PROMPT = 1000;
/** A room's seq is a PostgreSQL integer. */
export const MAX_SEQ = 2_147_483_647;

const RoomId = Type.String({ minLength: 1, maxLength: 128 });
const Token = Type.String({ minLength: 1, maxLength: 128 });
const Area = { x: Type.Optional(Coord), y: Type.Optional(Coord), width: Type.Optional(Coord), height: Type.Optional(Coord) };

// ---- client → server -------------------------------------------------------------------------

export const JoinRoom = Type.Object({
  type: Type.Literal('join_room'),
  roomId: Type.String({ minLength: 1, maxLength: 128, description: "The room's id or its slug." }),
  share: Type.Optional(Token),
  sinceSeq: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_SEQ,
      description: 'Resume: the last seq this client applied. The missed events come as room_events, or the whole state as room_state with resync:true.',
    }),
  ),
});
export const LeaveRoom = Type.Object({ type: Type.Literal('leave_room'), roomId: RoomId });
export const Draw = Type.Object({
  type: Type.Literal('draw'),
  roomId: RoomId,
  ...DrawingInputSchema.properties,
  clientRef: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
export const DeleteDrawing = Type.Object({ type: Type.Literal('delete_drawing'), roomId: RoomId, drawingId: RoomId });
export const ClearCanvas = Type.Object({ type: Type.Literal('clear_canvas'), roomId: RoomId });
/** The older clients' name for clear_canvas. */
export const ClearRoom = Type.Object({ type: Type.Literal('clear_room'), roomId: RoomId });
export const AiGenerateImage = Type.Object({
  type: Type.Literal('ai_generate_image'),
  roomId: RoomId,
  // Checked again after trimming (1–1000); the raw bound only keeps junk out.
  prompt: Type.String({ maxLength: 4 * MAX_PROMPT }),
  ...Area,
});
export const CursorMove = Type.Object({ type: Type.Literal('cursor'), roomId: RoomId, x: Coord, y: Coord });
export const Ping = Type.Object({ type: Type.Literal('ping') });

/** Unknown extra fields are ignored (older clients send a few) and never stored. */
export const ClientMessage = Type.Union([JoinRoom, LeaveRoom, Draw, DeleteDrawing, ClearCanvas, ClearRoom, AiGenerateImage, CursorMove, Ping]);
export type ClientMessage = Static<typeof ClientMessage>;
export type ClientMessageType = ClientMessage['type'];
export type ClientMessageOf<T extends ClientMessageType> = Extract<ClientMessage, { type: T }>;
/** Messages about one room the socket is in (everything but ping, join and leave). */
export type RoomMessage = Exclude<ClientMessage, { type: 'ping' | 'join_room' | 'leave_room' }>;

const typeOf = (schema: TObject) => (schema.properties.type as unknown as { const: string }).const;
const validators = new Map<string, Validator>(ClientMessage.anyOf.map((schema) => [typeOf(schema), Compile(schema)]));
export const CLIENT_MESSAGE_TYPES = [...validators.keys()] as ClientMessageType[];

// ---- server → client -------------------------------------------------------------------------

export const ROLES = ['admin', 'editor', 'viewer'] as const;
/** `admin` is the room's creator; `editor` and `viewer` are what a member or share link grants. */
export const Role = Type.Enum([...ROLES]);
export type Role = Static<typeof Role>;

export const ERROR_CODES = [
  'bad_json',
  'invalid_message',
  'unknown_type',
  'binary_not_supported',
  'not_in_room',
  'room_not_found',
  'forbidden',
  'rate_limited',
  'room_full',
  'ai_busy',
  'ai_failed',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
export const AI_FAILURE_CODES = ['moderation_blocked', 'ai_timeout', 'ai_rate_limited', 'ai_failed'] as const;

const MemberSchema = Type.Object({ id: Type.String(), name: Type.String() });
export type Member = Static<typeof MemberSchema>;

export const DrawEvent = Type.Object({
  type: Type.Literal('draw'),
  roomId: Type.String(),
  seq: Type.Integer(),
  drawing: DrawingSchema,
  /** Only on the sender's own echo. */
  clientRef: Type.Optional(Type.String()),
});
export const DeleteDrawingEvent = Type.Object({ type: Type.Literal('delete_drawing'), roomId: Type.String(), seq: Type.Integer(), drawingId: Type.String() });
export const ClearCanvasEvent = Type.Object({ type: Type.Literal('clear_canvas'), roomId: Type.String(), seq: Type.Integer(), userId: Type.String() });
export const AiPicture = Type.Object({
  type: Type.Literal('ai_message'),
  roomId: Type.String(),
  requestId: Type.String(),
  content: Type.String(),
  imageUrl: Type.String(),
  drawing: DrawingSchema,
  seq: Type.Integer(),
  placeholder: Type.Boolean(),
});
export const AiFailure = Type.Object({
  type: Type.Literal('ai_message'),
  roomId: Type.String(),
  requestId: Type.String(),
  content: Type.String(),
  error: Type.Literal(true),
  code: Type.Enum([...AI_FAILURE_CODES]),
});
/** The events that move a room's seq: stored, replayable, in seq order. */
export const OrderedEvent = Type.Union([DrawEvent, DeleteDrawingEvent, ClearCanvasEvent, AiPicture]);
export type OrderedEvent = Static<typeof OrderedEvent>;
export type AiPictureMessage = Static<typeof AiPicture>;

export const RoomState = Type.Object({
  type: Type.Literal('room_state'),
  roomId: Type.String(),
  seq: Type.Integer(),
  members: Type.Array(MemberSchema),
  drawings: Type.Array(DrawingSchema),
  complete: Type.Boolean(),
  role: Type.Optional(Role),
  resync: Type.Optional(Type.Boolean()),
});
export const RoomEvents = Type.Object({
  type: Type.Literal('room_events'),
  roomId: Type.String(),
  seq: Type.Integer(),
  members: Type.Array(MemberSchema),
  events: Type.Array(OrderedEvent),
  complete: Type.Boolean(),
  role: Type.Optional(Role),
});
export const AccessRevoked = Type.Object({ type: Type.Literal('access_revoked'), roomId: Type.String() });
export const AiGenerating = Type.Object({
  type: Type.Literal('ai_generating'),
  roomId: Type.String(),
  requestId: Type.String(),
  prompt: Type.String(),
  userId: Type.String(),
  x: Type.Number(),
  y: Type.Number(),
  width: Type.Number(),
  height: Type.Number(),
});
export const MemberJoined = Type.Object({ type: Type.Literal('member_joined'), roomId: Type.String(), user: MemberSchema });
export const MemberLeft = Type.Object({ type: Type.Literal('member_left'), roomId: Type.String(), user: MemberSchema });
export const CursorEvent = Type.Object({ type: Type.Literal('cursor'), roomId: Type.String(), userId: Type.String(), x: Type.Number(), y: Type.Number() });
export const Pong = Type.Object({ type: Type.Literal('pong') });
export const ErrorFrame = Type.Object({
  type: Type.Literal('error'),
  code: Type.Enum([...ERROR_CODES]),
  message: Type.String(),
  ref: Type.Optional(Type.String()),
  roomId: Type.Optional(Type.String()),
});

export const ServerMessage = Type.Union([
  RoomState,
  RoomEvents,
  AccessRevoked,
  DrawEvent,
  DeleteDrawingEvent,
  ClearCanvasEvent,
  AiGenerating,
  AiPicture,
  AiFailure,
  MemberJoined,
  MemberLeft,
  CursorEvent,
  Pong,
  ErrorFrame,
]);
export type ServerMessage = Static<typeof ServerMessage>;
export type ServerMessageType = ServerMessage['type'];
export type ServerMessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;

/** Omit that keeps a union a union (ai_message has two shapes). */
type FieldsOf<M> = M extends unknown ? Omit<M, 'type'> : never;

/** The one way the server builds an outgoing frame: its type and exactly its fields. */
export function frame<T extends ServerMessageType>(type: T, fields: FieldsOf<ServerMessageOf<T>>): ServerMessageOf<T> {
  return { type, ...fields } as unknown as ServerMessageOf<T>;
}

/** The text that goes on the wire. */
export function encode(message: ServerMessage): string {
  return JSON.stringify(message);
}

let serverValidator: Validator | undefined;
/** For clients and tests: whether a received frame is one the protocol describes (compiled on first use). */
export function isServerMessage(value: unknown): value is ServerMessage {
  serverValidator ??= Compile(ServerMessage);
  return serverValidator.Check(value);
}

// ---- parsing ---------------------------------------------------------------------------------

/** A frame the server refuses, with the error code and sentence it answers. */
export class MessageError extends Error {
  constructor(
    readonly code: 'bad_json' | 'unknown_type' | 'invalid_message' | 'binary_not_supported',
    message: string,
    readonly ref?: string,
    readonly roomId?: string,
  ) {
    super(message);
  }
}

/** What the client may have sent to correlate an error with its message. */
function refOf(value: Record<string, unknown>): string | undefined {
  const ref = value.clientRef ?? value.ref;
  return typeof ref === 'string' && ref.length <= 64 ? ref : undefined;
}

/** Parses and validates one text frame; throws MessageError with a sentence naming what was wrong. */
export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MessageError('bad_json', 'The frame is not valid JSON; send one JSON object per text frame.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MessageError('invalid_message', 'A message must be a JSON object with a "type" field.');
  }
  const obj = value as Record<string, unknown>;
  const problem = inputProblem(obj);
  // Echo only correlation fields that are themselves clean.
  const ref = inputProblem(obj.clientRef ?? obj.ref) ? undefined : refOf(obj);
  const roomId = typeof obj.roomId === 'string' && obj.roomId.length <= 128 && !inputProblem(obj.roomId) ? obj.roomId : undefined;
  if (problem) throw new MessageError('invalid_message', problem, ref, roomId);
  if (typeof obj.type !== 'string') {
    throw new MessageError('invalid_message', 'Field "type" is required and must be a string.', ref, roomId);
  }
  const validator = validators.get(obj.type);
  if (!validator) {
    throw new MessageError('unknown_type', `Unknown message type "${obj.type.slice(0, 40)}"; expected one of ${CLIENT_MESSAGE_TYPES.join(', ')}.`, ref, roomId);
  }
  if (!validator.Check(value)) {
    throw new MessageError('invalid_message', describeErrors(validator.Errors(value)), ref, roomId);
  }
  if (obj.type === 'ai_generate_image') {
    const prompt = (obj.prompt as string).trim();
    if (prompt.length < 1 || prompt.length > MAX_PROMPT) {
      throw new MessageError('invalid_message', `Field "prompt" must be 1 to ${MAX_PROMPT} characters after trimming spaces (got ${prompt.length}).`, ref, roomId);
    }
  }
  return value as ClientMessage;
}
