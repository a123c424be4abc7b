import { randomUUID } from 'node:crypto';
import { ImageGenerationError, ImageQuotaError, type ImageFailureCode, type ImageStudio } from '../images/image-studio.js';
import { shapeOf } from './drawing.js';
import type { WriteOp } from './write-ops.js';
import type { Recorded } from './room-writes.js';
import type { Participant } from './participant.js';
import { frame, type ClientMessageOf } from './protocol.js';
import type { OutgoingEvent } from './room-bus.js';

/** What making a picture needs from its room. */
export interface PictureRoom {
  roomId: string;
  /** Absent when the server has no image plugin; requests then fail politely. */
  studio?: ImageStudio;
  log: { error(obj: object, msg: string): void };
  /** Unordered frames (ai_generating, failures) straight to the room. */
  publish(event: OutgoingEvent): void;
  /** The room's one way to store an ordered event: once stored, its logged frame is broadcast. */
  record(p: Participant, op: WriteOp): Promise<Recorded>;
}

const AI_DEFAULTS = { x: 100, y: 100, width: 512, height: 512 };

/** An AI picture: claim, announce, generate, store as an `image` drawing, announce the result. */
export async function makePicture(room: PictureRoom, p: Participant, msg: ClientMessageOf<'ai_generate_image'>): Promise<void> {
  const { roomId, studio } = room;
  if (!studio) {
    p.sendError('ai_failed', 'Image generation is not available on this server.', { roomId });
    return;
  }
  let slot: { release(): void };
  try {
    slot = await studio.claim(p.user.id);
  } catch (err) {
    if (err instanceof ImageQuotaError) p.sendError(err.code, err.message, { roomId });
    else {
      room.log.error({ err, roomId }, 'claiming an image generation failed');
      p.sendError('internal', 'The picture could not be started; try again.', { roomId });
    }
    return;
  }
  const requestId = randomUUID();
  const prompt = msg.prompt.trim();
  const failed = (code: ImageFailureCode, content: string) => room.publish({ message: frame('ai_message', { roomId, requestId, content, error: true, code }) });
  const area = { x: msg.x ?? AI_DEFAULTS.x, y: msg.y ?? AI_DEFAULTS.y, width: msg.width ?? AI_DEFAULTS.width, height: msg.height ?? AI_DEFAULTS.height };
  try {
    room.publish({ message: frame('ai_generating', { roomId, requestId, prompt, userId: p.user.id, ...area }) });
    const image = await studio.generate(prompt, { userId: p.user.id, roomId });
    const shape = shapeOf({ shapeType: 'image', imageUrl: image.imageUrl, ...area });
    const picture = { requestId, content: `Generated image for: "${prompt}"`, imageUrl: image.imageUrl, placeholder: image.placeholder };
    // Stored, logged and broadcast as an ai_message with the drawing's seq.
    const result = await room.record(p, { kind: 'draw', roomId, userId: p.user.id, userName: p.user.name, shape, clientRef: null, picture });
    if (result.kind === 'refused') {
      // ai_message carries only provider codes: the room hears `ai_failed`, and the
      // requester also gets the refusal itself as an `error` (`room_full`).
      failed('ai_failed', result.code === 'room_full' ? 'The picture could not be placed: the room is full.' : 'The picture could not be stored.');
      p.sendError(result.code, result.message, { roomId });
    }
  } catch (err) {
    if (err instanceof ImageGenerationError) failed(err.code, err.message);
    else {
      room.log.error({ err, roomId }, 'image generation failed');
      failed('ai_failed', 'The picture could not be made; try again later.');
    }
  } finally {
    slot.release();
  }
}
