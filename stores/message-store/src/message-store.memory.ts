import type { Message } from '@parley/protocol';
import { ParleyError } from '@parley/runtime';
import {
  type AppendInput,
  type AppendOutcome,
  type AppendResult,
  type MessageStore,
  type Page,
  type PageQuery,
  type RoomSummary,
  selectPage,
} from './message-store';

interface RoomLog {
  messages: Message[];
  /** `${senderId}\n${clientMsgId}` → message */
  byClientKey: Map<string, Message>;
}

const copy = (m: Message): Message => ({ ...m });

/**
 * The embedded mode's message store: one array per room in this process. Each
 * append (and each batch) runs without an await between the idempotency check
 * and the insert, so concurrent appends are serialised exactly like the MySQL
 * row lock does.
 */
export class MemoryMessageStore implements MessageStore {
  private readonly rooms = new Map<string, RoomLog>();
  private readonly ids = new Set<string>();

  async append(input: AppendInput): Promise<AppendResult> {
    return this.appendNow(input);
  }

  /** One input after the other, synchronously: the reference semantics of a batch. */
  async appendMany(inputs: readonly AppendInput[]): Promise<AppendOutcome[]> {
    return inputs.map((input): AppendOutcome => {
      try {
        return { status: 'fulfilled', value: this.appendNow(input) };
      } catch (reason) {
        return { status: 'rejected', reason };
      }
    });
  }

  private appendNow(input: AppendInput): AppendResult {
    let room = this.rooms.get(input.roomId);
    if (!room) {
      room = { messages: [], byClientKey: new Map() };
      this.rooms.set(input.roomId, room);
    }
    const key = `${input.senderId}\n${input.clientMsgId}`;
    const existing = room.byClientKey.get(key);
    if (existing) return { message: copy(existing), created: false };
    if (this.ids.has(input.id))
      throw new ParleyError('conflict', `message id ${input.id} is taken`);
    const message: Message = {
      id: input.id,
      roomId: input.roomId,
      seq: room.messages.length + 1,
      senderId: input.senderId,
      body: input.body,
      ts: input.ts,
      clientMsgId: input.clientMsgId,
    };
    room.messages.push(message);
    room.byClientKey.set(key, message);
    this.ids.add(message.id);
    return { message: copy(message), created: true };
  }

  async find(roomId: string, senderId: string, clientMsgId: string): Promise<Message | undefined> {
    const m = this.rooms.get(roomId)?.byClientKey.get(`${senderId}\n${clientMsgId}`);
    return m ? copy(m) : undefined;
  }

  async page(roomId: string, query: PageQuery): Promise<Page> {
    const page = selectPage(this.rooms.get(roomId)?.messages ?? [], query);
    return { messages: page.messages.map(copy), hasMore: page.hasMore };
  }

  async lastSeq(roomId: string): Promise<number> {
    return this.rooms.get(roomId)?.messages.length ?? 0;
  }

  async summaries(roomIds: readonly string[]): Promise<Map<string, RoomSummary>> {
    const out = new Map<string, RoomSummary>();
    for (const id of roomIds) {
      const last = this.rooms.get(id)?.messages.at(-1);
      out.set(id, last ? { lastSeq: last.seq, lastMessage: copy(last) } : { lastSeq: 0 });
    }
    return out;
  }
}
