import { Type, type Static } from 'typebox';
import { INTEGER_COLUMN_MAX } from '../schemas/common.js';
import { DrawingSchema } from './drawing.js';

/** REST shapes of rooms and drawings, shared by validation and the OpenAPI document. */

export const CreateRoomBody = Type.Object(
  {
    slug: Type.Optional(
      Type.String({ pattern: '^[a-z0-9-]{3,64}$', description: 'A unique human name: 3–64 of a-z, 0-9 and "-".' }),
    ),
  },
  { additionalProperties: false },
);
export type CreateRoomBody = Static<typeof CreateRoomBody>;

export const RoomResponse = Type.Object(
  {
    roomId: Type.String({ description: 'Unguessable; knowing it is what lets someone join the room.' }),
    slug: Type.Union([Type.String(), Type.Null()]),
    adminId: Type.String({ description: 'The user who created the room; may delete any drawing and clear the canvas.' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Room' },
);

export const RoomParams = Type.Object({ idOrSlug: Type.String({ minLength: 1, maxLength: 128 }) });
export const DrawingsParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 128 }) });

export const MAX_PAGE = 1000;
export const DrawingsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: INTEGER_COLUMN_MAX, description: 'A nextCursor from the previous page (a seq); omit for the first page.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 500, description: `Drawings per page, 1–${MAX_PAGE}; a larger value is refused, never silently capped.` })),
  },
  { additionalProperties: false },
);

export const DrawingsPage = Type.Object({
  drawings: Type.Array(DrawingSchema),
  nextCursor: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as `after` for the next page; null on the last page.' }),
});
