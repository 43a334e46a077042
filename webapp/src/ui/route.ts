/**
 * The open room lives in the URL hash (`#/r/<roomId>`): a reload reopens it,
 * and the browser's Back leaves it (on a phone: back to the room list).
 */
import type { ChatStore } from '../client/chat-store';

const PREFIX = '#/r/';

const roomInHash = (): string | null =>
  location.hash.startsWith(PREFIX) ? decodeURIComponent(location.hash.slice(PREFIX.length)) : null;

/** Keeps the hash and the selected room in step; returns the unbinding function. */
export function bindRoute(store: ChatStore): () => void {
  const fromHash = () => {
    const id = roomInHash();
    if (id !== store.getState().selectedRoomId) store.selectRoom(id);
  };
  const unsubscribe = store.subscribe((s) => {
    if (!s.session || roomInHash() === s.selectedRoomId) return;
    location.hash = s.selectedRoomId ? PREFIX + encodeURIComponent(s.selectedRoomId) : '#/';
  });
  addEventListener('hashchange', fromHash);
  fromHash();
  return () => {
    unsubscribe();
    removeEventListener('hashchange', fromHash);
    // Signed out: the next person to sign in here should not land in this one's room.
    if (!store.getState().session) history.replaceState(null, '', location.pathname);
  };
}
