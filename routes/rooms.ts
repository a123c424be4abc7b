import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../plugins/errors.js';
import { authErrors, bearer, ErrorResponse } from '../src/schemas/common.js';
import { SlugTakenError, type RoomInfo } from '../src/whiteboard/room-store.js';
import {
  CreateRoomBody,
  DrawingsPage,
  DrawingsParams,
  DrawingsQuery,
  LinkParams,
  MemberParams,
  Membership,
  RoleBody,
  RoomList,
  RoomParams,
  RoomResponse,
  ShareLink,
} from '../src/whiteboard/schemas.js';

const roomNotFound = () => new AppError(404, 'room_not_found', 'There is no room with this id or slug.');
/** Rooms and their drawings. Mounted at /api/v1/rooms; every route needs a Bearer token. */
const rooms: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['rooms'];
  const { store, access } = app.whiteboard;

  /** The room, when the caller is its admin: links and members are the admin's to manage. */
  const administered = async (roomId: string, userId: string): Promise<RoomInfo> => {
    const room = await store.find(roomId);
    if (!room) throw roomNotFound();
    if (room.adminId !== userId) throw new AppError(403, 'forbidden', "Only the room's admin may manage its share links and members.");
    return room;
  };
  const adminErrors = { 403: ErrorResponse, 404: ErrorResponse, ...authErrors };

  app.get(
    '/',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'The rooms the caller administers or is a member of, with their role', security: bearer, response: { 200: RoomList, ...authErrors } },
    },
    async (req) => ({ rooms: await access.roomsOf(req.user.id) }),
  );

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
        const room = await store.create(req.user.id, req.body?.slug ?? null, req.body?.access ?? 'open');
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
        response: { 200: DrawingsPage, 403: ErrorResponse, 404: ErrorResponse, ...authErrors },
      },
    },
    async (req) => {
      const room = await store.find(req.params.roomId);
      if (!room) throw roomNotFound();
      const entry = await access.enter(room, req.user.id);
      if ('refused' in entry) throw new AppError(403, 'forbidden', entry.refused);
      return store.drawingsPage(room.roomId, req.query.after ?? 0, req.query.limit ?? 500);
    },
  );

  app.post(
    '/:roomId/links/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'A share link that lets its holders join with a role (admin only)',
        security: bearer,
        params: DrawingsParams,
        body: RoleBody,
        response: { 201: ShareLink, ...adminErrors },
      },
    },
    async (req, reply) => {
      const room = await administered(req.params.roomId, req.user.id);
      const token = await access.createLink(room.roomId, req.body.role);
      const url = `${app.settings.http.publicUrl}/rooms/${encodeURIComponent(room.roomId)}?share=${token}`;
      return reply.code(201).send({ token, role: req.body.role, url });
    },
  );

  app.delete(
    '/:roomId/links/:token/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Revoke a share link (admin only); members who joined with it stay members',
        security: bearer,
        params: LinkParams,
        response: { 204: Type.Null(), ...adminErrors },
      },
    },
    async (req, reply) => {
      const room = await administered(req.params.roomId, req.user.id);
      if (!(await access.revokeLink(room.roomId, req.params.token))) throw new AppError(404, 'link_not_found', 'There is no such share link for this room.');
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/:roomId/members/:userId/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: "Add a member or change a member's role (admin only); open sockets apply it to their next message",
        security: bearer,
        params: MemberParams,
        body: RoleBody,
        response: { 200: Membership, 409: ErrorResponse, ...adminErrors },
      },
    },
    async (req) => {
      const room = await administered(req.params.roomId, req.user.id);
      await access.setMember(room, req.params.userId, req.body.role);
      return { roomId: room.roomId, userId: req.params.userId, role: req.body.role };
    },
  );

  app.delete(
    '/:roomId/members/:userId/',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Remove a member (admin only): their open sockets get access_revoked and leave the room',
        security: bearer,
        params: MemberParams,
        response: { 204: Type.Null(), 409: ErrorResponse, ...adminErrors },
      },
    },
    async (req, reply) => {
      const room = await administered(req.params.roomId, req.user.id);
      await access.removeMember(room, req.params.userId);
      return reply.code(204).send(null);
    },
  );
};

export default rooms;
