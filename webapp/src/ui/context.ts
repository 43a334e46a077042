/**
 * The chat store and its state as a Solid signal, for every component. The
 * store replaces its state object on each change, so memos over slices of it
 * (`state().rooms`) update only when that slice changed.
 */
import { type Accessor, createContext, useContext } from 'solid-js';
import type { ChatState, ChatStore } from '../client/chat-store';

export interface Chat {
  store: ChatStore;
  state: Accessor<ChatState>;
}

export const ChatContext = createContext<Chat>();

export function useChat(): Chat {
  const chat = useContext(ChatContext);
  if (!chat) throw new Error('useChat() outside <ChatContext.Provider>');
  return chat;
}
