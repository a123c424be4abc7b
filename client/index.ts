/** Inkwell's client library: login, the whiteboard socket and the tutor socket, for browsers and Node. */
export { ApiError, AuthClient, memoryStore, tokenExpiry, type SessionStore, type Tokens, type User } from './auth.js';
export { backoffDelay, wsBase, type SocketFactory } from './socket.js';
export { TutorClient, Turn } from './tutor.js';
export { WhiteboardClient, WhiteboardError, type ConnectionState, type RoomView } from './whiteboard.js';
export type * from './protocol.js';
