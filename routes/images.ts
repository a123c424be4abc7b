import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../plugins/errors.js';
import { IMAGE_ID_PATTERN } from '../src/images/image-store.js';
import { PICTURE_TYPES } from '../src/images/picture-type.js';
import { ErrorResponse } from '../src/schemas/common.js';

// Sent as a Buffer, which Fastify writes as it is (no serializer); documented as binary.
const PictureBytes = Type.Unsafe<Buffer>({ type: 'string', format: 'binary' });

const ImageParams = Type.Object({
  imageId: Type.String({ pattern: IMAGE_ID_PATTERN, description: "The id in an AI picture's imageUrl" }),
});

/** Stored AI pictures. Mounted at /api/v1/images; no auth, since `<img src>` sends no token. */
const images: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/:imageId',
    {
      schema: {
        tags: ['images'],
        summary: 'The bytes of a generated picture',
        params: ImageParams,
        response: {
          200: {
            description: 'The picture, with the Content-Type it was stored with',
            content: Object.fromEntries(PICTURE_TYPES.map((type) => [type, { schema: PictureBytes }])),
          },
          304: Type.Unknown({ description: 'Not modified: the cached copy is current (no body)' }),
          400: ErrorResponse,
          404: ErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const picture = await app.imageStore.find(req.params.imageId);
      if (!picture) throw new AppError(404, 'image_not_found', `No picture has the id ${req.params.imageId}`);
      // A picture never changes under its id, so the id is a strong validator.
      const etag = `"${picture.id}"`;
      reply
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('etag', etag)
        .header('x-content-type-options', 'nosniff')
        .header('last-modified', picture.createdAt.toUTCString());
      if (req.headers['if-none-match']?.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
        return reply.code(304).send();
      }
      return reply.type(picture.contentType).send(picture.bytes);
    },
  );
};

export default images;
