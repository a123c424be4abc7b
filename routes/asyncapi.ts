import type { FastifyPluginAsync } from 'fastify';
import type { TSchema } from 'typebox';
import { ClientMessage as TutorIn, TutorFrame as TutorOut } from '../src/tutor/protocol.js';
import { ClientMessage as BoardIn, ServerMessage as BoardOut } from '../src/whiteboard/protocol.js';

type Json = Record<string, unknown>;

/** A message name: its `type` (whiteboard) or its first field (tutor questions and commands). */
function nameOf(schema: Json, index: number): string {
  const props = (schema.properties ?? {}) as Record<string, Json>;
  const type = props.type?.const;
  if (typeof type === 'string') return type;
  const command = props.command;
  if (command?.const) return String(command.const);
  return Object.keys(props)[0] ?? `message${index}`;
}

function messages(prefix: string, union: TSchema): Record<string, Json> {
  const members = ((union as Json).anyOf as Json[]) ?? [union as Json];
  const out: Record<string, Json> = {};
  members.forEach((schema, i) => {
    let name = `${prefix}.${nameOf(schema, i)}`;
    while (out[name]) name += '_';
    out[name] = { name, contentType: 'application/json', payload: schema };
  });
  return out;
}

/** The AsyncAPI 3 document of both sockets, generated from the schemas that validate their frames. */
export function asyncApiDocument(): Json {
  const channels: Json = {};
  const operations: Json = {};
  const add = (id: string, address: string, description: string, sent: TSchema, received: TSchema, parameters?: Json) => {
    const send = messages('client', sent);
    const receive = messages('server', received);
    channels[id] = { address, description, ...(parameters ? { parameters } : {}), messages: { ...send, ...receive } };
    const refs = (m: Json) => Object.keys(m).map((k) => ({ $ref: `#/channels/${id}/messages/${k}` }));
    operations[`${id}Send`] = { action: 'send', channel: { $ref: `#/channels/${id}` }, messages: refs(send) };
    operations[`${id}Receive`] = { action: 'receive', channel: { $ref: `#/channels/${id}` }, messages: refs(receive) };
  };
  add('whiteboard', '/ws', 'Rooms, drawings, presence, cursors and AI pictures. Authenticate with ?token=<access token>.', BoardIn, BoardOut);
  add('tutor', '/chat/{grammarId}/', 'The AI English tutor: questions, streamed answers, speech. Authenticate with ?token=<access token>.', TutorIn, TutorOut, {
    grammarId: { description: 'A grammar topic id; anything else is general English help.' },
  });
  return {
    asyncapi: '3.0.0',
    info: { title: 'Inkwell sockets', version: '0.1.0', description: 'The whiteboard and tutor WebSockets; docs/protocol.md explains their rules.' },
    defaultContentType: 'application/json',
    channels,
    operations,
  };
}

const asyncapi: FastifyPluginAsync = async (app) => {
  const document = asyncApiDocument();
  app.get('/docs/asyncapi.json', { schema: { hide: true } }, async () => document);
};

export default asyncapi;
