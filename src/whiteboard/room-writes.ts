import type { OrderedEvent } from './protocol.js';
import { type ForwardTag, type RoomBus, roomEvent } from './room-bus.js';
import type { WriteOp, WriteResult } from './write-ops.js';

/** The socket a write came from, on the instance it came to. */
export interface Sender {
  connectionId: string;
  /** The draw's clientRef, echoed to this socket alone. */
  clientRef?: string;
  /** When the server received the message (receivedNow()), for the send→deliver time. */
  receivedAt?: number;
}

/** What the room needs to know of a write: stored (and on its way to every socket), a repeat, or refused. */
export type Recorded = { kind: 'stored'; seq: number } | { kind: 'duplicate'; frame: OrderedEvent } | Extract<WriteResult, { kind: 'refused' }>;

/**
 * Stores a room's ordered events and puts each on the bus once stored. On one instance, or on the
 * instance that writes the room, that is this process's group-commit writer; on the others of a
 * cluster, the write is forwarded to that instance (cluster-room-writes.ts).
 */
export interface RoomWrites {
  record(op: WriteOp, sender: Sender): Promise<Recorded>;
}

/** The draw frame as its sender gets it back: with its clientRef. */
export function echoOf(message: OrderedEvent, clientRef: string | undefined): OrderedEvent | undefined {
  return clientRef !== undefined && message.type === 'draw' ? { ...message, clientRef } : undefined;
}

/** This process's group-commit writer, then the bus. */
export class LocalRoomWrites implements RoomWrites {
  constructor(
    private readonly writer: { write(op: WriteOp): Promise<WriteResult> },
    private readonly bus: Pick<RoomBus, 'publish'>,
  ) {}

  record(op: WriteOp, sender: Sender): Promise<Recorded> {
    return this.store(op, sender);
  }

  /**
   * Stores the op; as its commit resolves (in seq order) the very frame the writer logged goes on
   * the bus: nothing is broadcast before it is stored. A write forwarded by another instance has no
   * local sender: its event carries `forwarded`, by which that instance finds its sender's socket.
   */
  async store(op: WriteOp, sender: Sender | undefined, forwarded?: ForwardTag): Promise<Recorded> {
    const result = await this.writer.write(op);
    if (result.kind === 'refused' || result.kind === 'duplicate') return result;
    const message = result.frame;
    const echo = sender && echoOf(message, sender.clientRef);
    this.bus.publish(
      op.roomId,
      roomEvent({
        message,
        seq: message.seq,
        ...(echo && sender ? { origin: { connectionId: sender.connectionId, message: echo } } : {}),
        ...(sender?.receivedAt !== undefined ? { receivedAt: sender.receivedAt } : {}),
        ...(forwarded ? { forwarded } : {}),
      }),
    );
    return { kind: 'stored', seq: message.seq };
  }
}
