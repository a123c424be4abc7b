import { Type, type Static, type TNull, type TSchema, type TUnion } from 'typebox';

/*
 * A drawing, spelled once: the fields a client sets (with their limits), and the stored drawing
 * every client receives, both TypeBox schemas whose static types are the types the code uses.
 */

export const SHAPE_TYPES = ['line', 'rectangle', 'circle', 'arrow', 'text', 'hand', 'image'] as const;
export type ShapeType = (typeof SHAPE_TYPES)[number];

export const MAX_POINTS = 5000;
export const MAX_TEXT = 2000;
/** Finite (JSON's 1e400 parses to Infinity, which fails the bounds) and within ±1e6. */
export const Coord = Type.Number({ minimum: -1e6, maximum: 1e6 });
export const PointSchema = Type.Object({ x: Coord, y: Coord });
export type Point = Static<typeof PointSchema>;

/** Every drawing has these (defaults filled in when the client leaves them out). */
const Look = {
  shapeType: Type.Enum([...SHAPE_TYPES]),
  points: Type.Array(PointSchema, { maxItems: MAX_POINTS }),
  color: Type.String({ pattern: '^#[0-9a-fA-F]{6}$' }),
  strokeWidth: Type.Number({ minimum: 1, maximum: 64 }),
};

/** Only some shapes use these: null on a stored drawing when the client left them out. */
const Placement = {
  x: Coord,
  y: Coord,
  width: Coord,
  height: Coord,
  radius: Coord,
  text: Type.String({ maxLength: MAX_TEXT }),
  // Never javascript: or data: — only web addresses and this server's stored pictures.
  imageUrl: Type.String({ maxLength: 2048, pattern: '^(https?://[^\\s]+|/api/v1/images/[A-Za-z0-9_-]+)$' }),
};
type PlacementKey = keyof typeof Placement;
const PLACEMENT_KEYS = Object.keys(Placement) as PlacementKey[];

function nullable<P extends Record<string, TSchema>>(props: P): { [K in keyof P]: TUnion<[P[K], TNull]> } {
  return Object.fromEntries(Object.entries(props).map(([k, t]) => [k, Type.Union([t, Type.Null()])])) as { [K in keyof P]: TUnion<[P[K], TNull]> };
}

/** What a `draw` message may set, every field optional. */
export const DrawingInputSchema = Type.Partial(Type.Object({ ...Look, ...Placement }));
export type DrawingInput = Static<typeof DrawingInputSchema>;

/** What a client sets on a drawing, defaults applied. */
export const DrawingShapeSchema = Type.Object({ ...Look, ...nullable(Placement) });
export type DrawingShape = Static<typeof DrawingShapeSchema>;

/** A drawing as every client receives it. */
export const DrawingSchema = Type.Object(
  {
    id: Type.String(),
    roomId: Type.String(),
    seq: Type.Integer({ description: "The room's clock when the drawing was stored." }),
    ...DrawingShapeSchema.properties,
    userId: Type.String(),
    userName: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Drawing' },
);
export type Drawing = Static<typeof DrawingSchema>;

export const DEFAULT_COLOR = '#000000';
export const DEFAULT_STROKE_WIDTH = 2;

/** Fills the defaults (`line`, black, width 2, no points, null placement) into validated input. */
export function shapeOf(input: DrawingInput): DrawingShape {
  const placement = Object.fromEntries(PLACEMENT_KEYS.map((k) => [k, input[k] ?? null])) as Pick<DrawingShape, PlacementKey>;
  return {
    shapeType: input.shapeType ?? 'line',
    // Copy only x and y: extra keys a client puts on a point are never stored.
    points: (input.points ?? []).map((p) => ({ x: p.x, y: p.y })),
    color: input.color ?? DEFAULT_COLOR,
    strokeWidth: input.strokeWidth ?? DEFAULT_STROKE_WIDTH,
    ...placement,
  };
}
