import { Type, type Static } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import { SHAPE_TYPES } from './drawing.js';

/*
 * Client → server messages of the whiteboard socket, one schema and one compiled
 * validator per `type`. Unknown extra fields are ignored (older clients send a few) and never
 * stored: the room copies only the fields below.
 */

const NO_NUL = '^[^\\u0000]*$';
const RoomId = Type.String({ minLength: 1, maxLength: 128, pattern: NO_NUL });
/** Finite (JSON's 1e400 parses to Infinity, which fails the bounds) and within ±1e6. */
const Coord = Type.Number({ minimum: -1e6, maximum: 1e6 });
const Point = Type.Object({ x: Coord, y: Coord });

export const MAX_POINTS = 5000;
export const MAX_TEXT = 2000;
export const MAX_PROMPT = 1000;

export const JoinRoom = Type.Object({ type: Type.Literal('join_room'), roomId: RoomId });
export const LeaveRoom = Type.Object({ type: Type.Literal('leave_room'), roomId: RoomId });
export const Draw = Type.Object({
  type: Type.Literal('draw'),
  roomId: RoomId,
  shapeType: Type.Optional(Type.Enum([...SHAPE_TYPES])),
  points: Type.Optional(Type.Array(Point, { maxItems: MAX_POINTS })),
  color: Type.Optional(Type.String({ pattern: '^#[0-9a-fA-F]{6}$' })),
  strokeWidth: Type.Optional(Type.Number({ minimum: 1, maximum: 64 })),
  x: Type.Optional(Coord),
  y: Type.Optional(Coord),
  width: Type.Optional(Coord),
  height: Type.Optional(Coord),
  radius: Type.Optional(Coord),
  text: Type.Optional(Type.String({ maxLength: MAX_TEXT, pattern: NO_NUL })),
  // Never javascript: or data: — only web addresses and this server's stored pictures.
  imageUrl: Type.Optional(Type.String({ maxLength: 2048, pattern: '^(https?://[^\\s]+|/api/v1/images/[A-Za-z0-9_-]+)$' })),
  clientRef: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: NO_NUL })),
});
export const DeleteDrawing = Type.Object({
  type: Type.Literal('delete_drawing'),
  roomId: RoomId,
  drawingId: Type.String({ minLength: 1, maxLength: 128, pattern: NO_NUL }),
});
export const ClearCanvas = Type.Object({ type: Type.Union([Type.Literal('clear_canvas'), Type.Literal('clear_room')]), roomId: RoomId });
export const AiGenerateImage = Type.Object({
  type: Type.Literal('ai_generate_image'),
  roomId: RoomId,
  // Checked again after trimming (1–1000); the raw bound only keeps junk out.
  prompt: Type.String({ maxLength: 4 * MAX_PROMPT, pattern: NO_NUL }),
  x: Type.Optional(Coord),
  y: Type.Optional(Coord),
  width: Type.Optional(Coord),
  height: Type.Optional(Coord),
});
export const Cursor = Type.Object({ type: Type.Literal('cursor'), roomId: RoomId, x: Coord, y: Coord });
export const Ping = Type.Object({ type: Type.Literal('ping') });

export type JoinRoom = Static<typeof JoinRoom>;
export type LeaveRoom = Static<typeof LeaveRoom>;
export type Draw = Static<typeof Draw>;
export type DeleteDrawing = Static<typeof DeleteDrawing>;
export type ClearCanvas = Static<typeof ClearCanvas>;
export type AiGenerateImage = Static<typeof AiGenerateImage>;
export type Cursor = Static<typeof Cursor>;
export type Ping = Static<typeof Ping>;

export type ClientMessage = JoinRoom | LeaveRoom | Draw | DeleteDrawing | ClearCanvas | AiGenerateImage | Cursor | Ping;
export type RoomMessage = Exclude<ClientMessage, Ping | JoinRoom | LeaveRoom>;

const validators: Record<string, Validator> = {
  join_room: Compile(JoinRoom),
  leave_room: Compile(LeaveRoom),
  draw: Compile(Draw),
  delete_drawing: Compile(DeleteDrawing),
  clear_canvas: Compile(ClearCanvas),
  clear_room: Compile(ClearCanvas),
  ai_generate_image: Compile(AiGenerateImage),
  cursor: Compile(Cursor),
  ping: Compile(Ping),
};

export const MESSAGE_TYPES = Object.keys(validators);

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
  const ref = refOf(obj);
  const roomId = typeof obj.roomId === 'string' && obj.roomId.length <= 128 ? obj.roomId : undefined;
  if (typeof obj.type !== 'string') {
    throw new MessageError('invalid_message', 'Field "type" is required and must be a string.', ref, roomId);
  }
  const validator = Object.hasOwn(validators, obj.type) ? validators[obj.type] : undefined;
  if (!validator) {
    throw new MessageError('unknown_type', `Unknown message type "${obj.type.slice(0, 40)}"; expected one of ${MESSAGE_TYPES.join(', ')}.`, ref, roomId);
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

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, any>;
  message: string;
}

/** `/points/3/x` → `points[3].x` */
function fieldName(path: string): string {
  return path
    .split('/')
    .slice(1)
    .map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

const PATTERN_HINTS: Record<string, string> = {
  color: 'must be a colour written as "#rrggbb", for example "#1a2b3c"',
  imageUrl: 'must start with https://, http:// or /api/v1/images/ (no javascript: or data: addresses)',
};

/** One sentence a developer can act on: which field, and why. */
export function describeErrors(errors: SchemaError[]): string {
  const first = errors.find((e) => e.keyword !== 'boolean') ?? errors[0];
  if (!first) return 'The message does not match its schema.';
  const field = fieldName(first.instancePath);
  const last = first.instancePath.split('/').pop() ?? '';
  const p = first.params;
  const name = (f: string) => `Field "${f}"`;
  switch (first.keyword) {
    case 'required': {
      const missing = (p.requiredProperties as string[] | undefined)?.join('", "') ?? '?';
      return `${name(field ? `${field}.${missing}` : missing)} is required.`;
    }
    case 'type':
      return `${name(field)} must be a ${p.type}${p.type === 'number' ? ' (finite)' : ''}.`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${name(field)} must be ${p.comparison ?? (first.keyword === 'minimum' ? '>=' : '<=')} ${p.limit}${Math.abs(Number(p.limit)) === 1e6 ? ' (coordinates and sizes are limited to ±1,000,000)' : ''}.`;
    case 'minLength':
      return `${name(field)} must be at least ${p.limit} character${p.limit === 1 ? '' : 's'} long.`;
    case 'maxLength':
      return `${name(field)} must be at most ${p.limit} characters long.`;
    case 'maxItems':
      return `${name(field)} must have at most ${p.limit} items.`;
    case 'pattern':
      return `${name(field)} ${PATTERN_HINTS[last] ?? (String(p.pattern).includes('u0000') ? 'must not contain NUL characters' : 'has the wrong format')}.`;
    case 'enum':
      return `${name(field)} must be one of ${(p.allowedValues as unknown[]).join(', ')}.`;
    case 'const':
    case 'anyOf': {
      const allowed = errors.filter((e) => e.instancePath === first.instancePath && e.keyword === 'const').map((e) => e.params.allowedValue);
      return allowed.length ? `${name(field)} must be one of ${allowed.join(', ')}.` : `${name(field)} ${first.message}.`;
    }
    default:
      return `${name(field || 'message')} ${first.message}.`;
  }
}
