import type { DrawingRow, NewDrawingRow } from '../db/types.js';
import type { Drawing } from './drawing.js';

/** The one pair of mappings between a drawing and its row in `drawings`. */

/** The row to insert; `points` goes in as JSON text and comes back parsed by the driver. */
export function drawingToRow(d: Drawing, clientRef: string | null): NewDrawingRow {
  return {
    id: d.id,
    room_id: d.roomId,
    seq: d.seq,
    shape_type: d.shapeType,
    points: JSON.stringify(d.points),
    color: d.color,
    stroke_width: d.strokeWidth,
    x: d.x,
    y: d.y,
    width: d.width,
    height: d.height,
    radius: d.radius,
    text: d.text,
    image_url: d.imageUrl,
    user_id: d.userId,
    client_ref: clientRef,
    created_at: new Date(d.createdAt),
  };
}

export function drawingFromRow(row: DrawingRow, userName: string): Drawing {
  return {
    id: row.id,
    roomId: row.room_id,
    seq: row.seq,
    shapeType: row.shape_type,
    points: row.points,
    color: row.color,
    strokeWidth: row.stroke_width,
    x: row.x,
    y: row.y,
    width: row.width,
    height: row.height,
    radius: row.radius,
    text: row.text,
    imageUrl: row.image_url,
    userId: row.user_id,
    userName,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
