/**
 * The frames of both sockets as the client sees them: the one place the client library takes its
 * protocol types from (type-only, so a browser bundle never pulls server code).
 */

export interface Point {
  x: number;
  y: number;
}

export type ShapeType = 'line' | 'rectangle' | 'circle' | 'arrow' | 'text' | 'hand' | 'image';

/** What a client sends to draw; the server fills in the rest. */
export interface ShapeInput {
  shapeType: ShapeType;
  points?: Point[];
  color?: string;
  strokeWidth?: number;
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  radius?: number;
  text?: string;
  imageUrl?: string;
}

export interface Drawing {
  id: string;
  roomId: string;
  seq: number;
  shapeType: ShapeType;
  points: Point[];
  color: string;
  strokeWidth: number;
  x: number | null;
  y: number | null;
  width: number | null;
  height: number | null;
  radius: number | null;
  text: string | null;
  imageUrl: string | null;
  userId: string;
  userName: string;
  createdAt: string;
}

export interface Member {
  id: string;
  name: string;
}

export type RoomEvent =
  | { type: 'draw'; roomId: string; seq: number; drawing: Drawing; clientRef?: string }
  | { type: 'delete_drawing'; roomId: string; seq: number; drawingId: string }
  | { type: 'clear_canvas'; roomId: string; seq: number; userId: string }
  | AiMessage;

export type AiMessage =
  | { type: 'ai_message'; roomId: string; requestId: string; content: string; imageUrl: string; drawing: Drawing; seq: number; placeholder: boolean; error?: false }
  | { type: 'ai_message'; roomId: string; requestId: string; content: string; error: true; code: string };

export interface AiGenerating {
  type: 'ai_generating';
  roomId: string;
  requestId: string;
  prompt: string;
  userId: string;
  x?: number;
  y?: number;
  width?: number;
  height?: number;
}

export type WhiteboardServerFrame =
  | { type: 'room_state'; roomId: string; seq: number; members: Member[]; drawings: Drawing[]; complete: boolean; role?: string; resync?: boolean }
  | { type: 'room_events'; roomId: string; seq: number; members: Member[]; events: RoomEvent[]; complete: boolean; role?: string }
  | { type: 'access_revoked'; roomId: string }
  | RoomEvent
  | AiGenerating
  | { type: 'member_joined' | 'member_left'; roomId: string; user: Member }
  | { type: 'cursor'; roomId: string; userId: string; x: number; y: number }
  | { type: 'pong' }
  | { type: 'error'; code: string; message: string; ref?: string; roomId?: string };

export type WhiteboardClientFrame =
  | { type: 'join_room'; roomId: string; sinceSeq?: number; share?: string }
  | { type: 'leave_room'; roomId: string }
  | ({ type: 'draw'; roomId: string; clientRef?: string } & ShapeInput)
  | { type: 'delete_drawing'; roomId: string; drawingId: string }
  | { type: 'clear_canvas'; roomId: string }
  | { type: 'ai_generate_image'; roomId: string; prompt: string; x?: number; y?: number; width?: number; height?: number }
  | { type: 'cursor'; roomId: string; x: number; y: number }
  | { type: 'ping' };

export type TutorServerFrame =
  | { type: 'delta'; error: false; message: string; id: string }
  | { type: 'transcription'; error: false; audio_text: string; id: string }
  | { type: 'audio'; error: false; audio: string; format: string; index: number; id: string }
  | { type: 'completed'; error: false; message: 'completed.'; id: string }
  | { type: 'pong'; error: false; message: 'pong' }
  | { type: 'feedback'; error: false; responseId: string; value: 'thumb-up' | 'thumb-down' }
  | { type: 'error'; error: true; code: string; message: string; id?: string };

export type TutorClientFrame =
  | { data: string; speak?: boolean }
  | { audio: string; speak?: boolean }
  | { command: 'ping' | 'stop' }
  | { command: 'thumb-up' | 'thumb-down'; responseId: string };
