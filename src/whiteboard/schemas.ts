import { Type, type Static } from 'typebox';
import { INTEGER_COLUMN_MAX } from '../schemas/common.js';
import { DrawingSchema } from './drawing.js';
import { Role } from './protocol.js';

const AccessMode = Type.Enum(['open', 'link', 'private'], {
  description: 'open (default): any signed-in user who knows the id or slug joins as editor; link: joining needs a share token; private: only users the admin added.',
});

/** REST shapes of rooms and drawings, shared by validation and the OpenAPI document. */

export const CreateRoomBody = Type.Object(
  {
    slug: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{3,64}$', description: 'A unique human name: 3–64 of a-z, 0-9 and "-".' })),
    access: Type.Optional(AccessMode),
  },
  { additionalProperties: false },
);
export type CreateRoomBody = Static<typeof CreateRoomBody>;

export const RoomResponse = Type.Object(
  {
    roomId: Type.String({ description: 'Unguessable; knowing it is what lets someone join the room.' }),
    slug: Type.Union([Type.String(), Type.Null()]),
    adminId: Type.String({ description: 'The user who created the room; may delete any drawing and clear the canvas.' }),
    access: AccessMode,
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Room' },
);

export const RoomList = Type.Object({
  rooms: Type.Array(Type.Object({ ...RoomResponse.properties, role: Role }), {
    description: 'Rooms the caller administers or is a member of, newest first (at most 1000).',
  }),
});

const MemberRole = Type.Enum(['editor', 'viewer'], {
  description: 'editor: draws, deletes own drawings, makes pictures; viewer: receives everything, sends only cursor, leave_room and ping.',
});
export const RoleBody = Type.Object({ role: MemberRole }, { additionalProperties: false });
export type RoleBody = Static<typeof RoleBody>;
export const ShareLink = Type.Object({
  token: Type.String({ description: 'Shown only now (the server keeps a hash): pass it as `share` in join_room.' }),
  role: MemberRole,
  url: Type.String({ description: "The web client's address of the room with this share token." }),
});
export const LinkParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 128 }), token: Type.String({ minLength: 1, maxLength: 128 }) });
export const MemberParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 128 }), userId: Type.String({ minLength: 1, maxLength: 128 }) });
export const Membership = Type.Object({ roomId: Type.String(), userId: Type.String(), role: MemberRole });

export const RoomParams = Type.Object({ idOrSlug: Type.String({ minLength: 1, maxLength: 128 }) });
export const DrawingsParams = Type.Object({ roomId: Type.String({ minLength: 1, maxLength: 128 }) });

export const MAX_PAGE = 1000;
export const DrawingsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: INTEGER_COLUMN_MAX, description: 'A nextCursor from the previous page (a seq); omit for the first page.' })),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 500, description: `Drawings per page, 1–${MAX_PAGE}; a larger value is refused, never silently capped.` }),
    ),
  },
  { additionalProperties: false },
);

export const DrawingsPage = Type.Object({
  drawings: Type.Array(DrawingSchema),
  nextCursor: Type.Union([Type.Integer(), Type.Null()], { description: 'Pass as `after` for the next page; null on the last page.' }),
});
