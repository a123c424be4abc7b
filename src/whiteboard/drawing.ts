import type { DrawingRow } from '../db/types.js';

export const SHAPE_TYPES = ['line', 'rectangle', 'circle', 'arrow', 'text', 'hand', 'image'] as const;
export type ShapeType = (typeof SHAPE_TYPES)[number];

export interface Point {
  x: number;
  y: number;
}

/** What a client may set on a drawing, defaults applied. */
export interface DrawingShape {
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
}

/** A drawing as every client sees it (the `Drawing` of `draw` and `room_state` frames). */
export interface Drawing extends DrawingShape {
  id: string;
  roomId: string;
  seq: number;
  userId: string;
  userName: string;
  createdAt: string;
}

export const DEFAULT_COLOR = '#000000';
export const DEFAULT_STROKE_WIDTH = 2;

/** Fills the defaults (`line`, black, width 2, no points) into a validated draw message. */
export function shapeOf(msg: Partial<DrawingShape> & { points?: Point[] }): DrawingShape {
  return {
    shapeType: msg.shapeType ?? 'line',
    // Copy only x and y: extra keys a client puts on a point are never stored.
    points: (msg.points ?? []).map((p) => ({ x: p.x, y: p.y })),
    color: msg.color ?? DEFAULT_COLOR,
    strokeWidth: msg.strokeWidth ?? DEFAULT_STROKE_WIDTH,
    x: msg.x ?? null,
    y: msg.y ?? null,
    width: msg.width ?? null,
    height: msg.height ?? null,
    radius: msg.radius ?? null,
    text: msg.text ?? null,
    imageUrl: msg.imageUrl ?? null,
  };
}

/** jsonb comes back parsed from pg and PGlite alike; a string is tolerated all the same. */
function pointsOf(value: unknown): Point[] {
  const v = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  return Array.isArray(v) ? (v as Point[]) : [];
}

export function drawingFromRow(row: DrawingRow, userName: string): Drawing {
  return {
    id: row.id,
    roomId: row.room_id,
    seq: row.seq,
    shapeType: row.shape_type as ShapeType,
    points: pointsOf(row.points),
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
