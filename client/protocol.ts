/**
 * The frames of both sockets, as the server's protocol modules define them: the one place the
 * client library takes its protocol types from. Type-only imports, so a browser bundle never pulls
 * server code.
 */
import type * as Whiteboard from '../src/whiteboard/protocol.js';
import type * as Tutor from '../src/tutor/protocol.js';

export type Drawing = Whiteboard.Drawing;
export type Member = Whiteboard.Member;
export type ShapeType = Drawing['shapeType'];
export type Point = Drawing['points'][number];

/** What a client sends to draw; the server fills in the rest. */
export type ShapeInput = Omit<Whiteboard.ClientMessageOf<'draw'>, 'type' | 'roomId' | 'clientRef'>;

export type AiMessage = Whiteboard.ServerMessageOf<'ai_message'>;
export type AiGenerating = Whiteboard.ServerMessageOf<'ai_generating'>;
/** Events that change a room's canvas, live or replayed on resume (a failed picture too). */
export type RoomEvent = Whiteboard.OrderedEvent | AiMessage;

export type WhiteboardServerFrame = Whiteboard.ServerMessage;
/** `sinceSeq` resumes a room from the last seq the client applied (servers without resume ignore it). */
export type JoinRoomFrame = Whiteboard.ClientMessageOf<'join_room'> & { sinceSeq?: number };
export type WhiteboardClientFrame = Whiteboard.ClientMessage | JoinRoomFrame;

export type TutorServerFrame = Tutor.TutorFrame;
export type TutorClientFrame = Tutor.ClientMessage;
