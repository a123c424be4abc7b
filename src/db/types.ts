import type { ColumnType, Generated, Insertable, JSONColumnType, Selectable } from 'kysely';
import type { Point, ShapeType } from '../whiteboard/drawing.js';
import type { OrderedEvent } from '../whiteboard/protocol.js';

/** Timestamps are written by the application clock and read back as Date. */
type Timestamp = ColumnType<Date, Date, Date>;

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  created_at: Timestamp;
}

export interface OtpCodesTable {
  id: Generated<number>;
  email: string;
  code_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  attempts: Generated<number>;
  consumed_at: Timestamp | null;
  replaced_at: Timestamp | null;
}

export interface RefreshTokensTable {
  id: Generated<number>;
  user_id: string;
  family_id: string;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  rotated_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

/** A login: the family of refresh tokens it rotates through; `id` is the `sid` of its access tokens. */
export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: Timestamp;
  last_used_at: Timestamp;
  expires_at: Timestamp;
  user_agent: string | null;
  ip: string | null;
  ended_at: Timestamp | null;
}

export interface RoomsTable {
  id: string;
  slug: string | null;
  admin_id: string;
  seq: Generated<number>;
  drawing_count: Generated<number>;
  access: Generated<RoomAccessMode>;
  created_at: Timestamp;
}

export type RoomAccessMode = 'open' | 'link' | 'private';
export type MemberRole = 'editor' | 'viewer';

export interface RoomMembersTable {
  room_id: string;
  user_id: string;
  role: MemberRole;
  created_at: Timestamp;
}

export interface RoomLinksTable {
  token_hash: string;
  room_id: string;
  role: MemberRole;
  created_at: Timestamp;
}

export interface DrawingsTable {
  id: string;
  room_id: string;
  seq: number;
  shape_type: ShapeType;
  /** jsonb: read back parsed, written as JSON text. */
  points: JSONColumnType<Point[]>;
  color: string;
  stroke_width: number;
  x: number | null;
  y: number | null;
  width: number | null;
  height: number | null;
  radius: number | null;
  text: string | null;
  image_url: string | null;
  user_id: string;
  client_ref: string | null;
  created_at: Timestamp;
}

/** One broadcast frame of a room, by seq (the event log a client resumes from). */
export interface RoomEventsTable {
  room_id: string;
  seq: number;
  /** json: written as the frame's JSON text, read back parsed by the driver. */
  frame: JSONColumnType<OrderedEvent>;
  created_at: Timestamp;
}

export interface ImagesTable {
  id: string;
  room_id: string | null;
  user_id: string | null;
  content_type: string;
  bytes: Uint8Array;
  prompt: string | null;
  created_at: Timestamp;
}

export interface GrammarTopicsTable {
  id: Generated<number>;
  title: string;
  description: string;
}

export interface TutorMessagesTable {
  id: Generated<number>;
  user_id: string;
  /** null: general English help (unknown or non-numeric topic). */
  grammar_id: number | null;
  turn_id: string;
  role: 'user' | 'assistant';
  content: string;
  status: 'completed' | 'stopped' | 'failed';
  feedback: 'thumb-up' | 'thumb-down' | null;
  created_at: Timestamp;
}

export interface Database {
  users: UsersTable;
  otp_codes: OtpCodesTable;
  refresh_tokens: RefreshTokensTable;
  sessions: SessionsTable;
  rooms: RoomsTable;
  drawings: DrawingsTable;
  room_events: RoomEventsTable;
  room_members: RoomMembersTable;
  room_links: RoomLinksTable;
  images: ImagesTable;
  grammar_topics: GrammarTopicsTable;
  tutor_messages: TutorMessagesTable;
}

export type User = Selectable<UsersTable>;
export type OtpCode = Selectable<OtpCodesTable>;
export type RefreshToken = Selectable<RefreshTokensTable>;
export type RoomRow = Selectable<RoomsTable>;
export type DrawingRow = Selectable<DrawingsTable>;
export type NewDrawingRow = Insertable<DrawingsTable>;
export type GrammarTopic = Selectable<GrammarTopicsTable>;
export type TutorMessageRow = Selectable<TutorMessagesTable>;
