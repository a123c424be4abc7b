import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../plugins/errors.js';
import { authErrors, bearer, ErrorResponse } from '../src/schemas/common.js';
import { SlugTakenError } from '../src/whiteboard/room-store.js';
import { CreateRoomBody, DrawingsPage, DrawingsParams, DrawingsQuery, RoomParams, RoomResponse } from '../src/whiteboard/schemas.js';

const roomNotFound = () => new AppError(404, 'room_not_found', 'There is no room with this id or slug.');

/** Rooms and their drawings. Mounted at /api/v1/rooms; every route needs a Bearer token. */
const rooms: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['rooms'];
  const store = app.whiteboard.store;

  app.post(
    '/',
    {
      onRequest: app.authenticate,
      // `{slug?}` may be sent as no body at all.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: {
        tags,
        summary: 'Create a room; the caller becomes its admin',
        security: bearer,
        body: CreateRoomBody,
        response: { 201: RoomResponse, 409: ErrorResponse, ...authErrors },
      },
    },
    async (req, reply) => {
      try {
        const room = await store.create(req.user.id, req.body?.slug ?? null);
        return reply.code(201).send(room);
      } catch (err) {
        if (err instanceof SlugTakenError) throw new AppError(409, 'slug_taken', err.message);
        throw err;
      }
    },
  );

  app.get(
    '/:idOrSlug/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'A room by its id or slug', security: bearer, params: RoomParams, response: { 200: RoomResponse, 404: ErrorResponse, ...authErrors } },
    },
    async (req) => {
      const room = await store.find(req.params.idOrSlug);
      if (!room) throw roomNotFound();
      return room;
    },
  );

  app.get(
    '/:roomId/drawings/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Every live drawing of a room, oldest first, in pages',
        description: 'Follow `nextCursor` (pass it as `after`) until it is null to read the whole canvas.',
        security: bearer,
        params: DrawingsParams,
        querystring: DrawingsQuery,
        response: { 200: DrawingsPage, 404: ErrorResponse, ...authErrors },
      },
    },
    async (req) => {
      const room = await store.find(req.params.roomId);
      if (!room) throw roomNotFound();
      const limit = req.query.limit ?? 500;
      // One more than asked tells whether another page exists.
      const rows = await store.drawings(room.roomId, req.query.after ?? 0, limit + 1);
      const drawings = rows.slice(0, limit);
      return { drawings, nextCursor: rows.length > limit ? drawings[drawings.length - 1]!.seq : null };
    },
  );
};

export default rooms;
