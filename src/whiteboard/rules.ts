import { assertNever } from '../assert-never.js';
import type { ClientMessageType, Role } from './protocol.js';

/*
 * A room's rules, in one place and free of I/O: what each role may send, and who may delete a
 * drawing. `admin` is the room's creator; members and share links grant `editor` or `viewer`.
 */

/** Whether `role` may send a message of this type to a room it is in. */
export function permits(role: Role, type: ClientMessageType): boolean {
  switch (type) {
    case 'join_room':
    case 'leave_room':
    case 'ping':
    case 'cursor':
      return true;
    case 'draw':
    case 'delete_drawing':
    case 'ai_generate_image':
      return role !== 'viewer';
    case 'clear_canvas':
    case 'clear_room':
      return role === 'admin';
    default:
      return assertNever(type, 'message type');
  }
}

/** The sentence of the `forbidden` error when `permits` says no; it names the role. */
export function refusal(role: Role, type: ClientMessageType): string {
  if (role === 'viewer') return `You are a viewer in this room: a viewer may only send cursor, leave_room and ping, not ${type}.`;
  return `You are an ${role} in this room: only the room's admin may clear the canvas.`;
}

/** The drawing's author (unless a viewer) or the room's admin may delete it. */
export function mayDelete(role: Role, userId: string, authorId: string): boolean {
  return role === 'admin' || (role === 'editor' && userId === authorId);
}

export const DELETE_REFUSAL = "Only the drawing's author or the room's admin may delete it.";
