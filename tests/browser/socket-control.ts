/**
 * Stands between a browser context's WebSockets to `/ws` and the real gateway, to play the
 * network's tricks deterministically (no sleeps):
 * - `hold()` … `release()`: new connections stay "connecting" until released, as while a network
 *   is still down; a reconnecting client is kept away from the gateway for exactly that long;
 * - `swallowFromServer(pred)`: frames from the server that match are lost on the way (e.g. an
 *   `ack`), while the server has done its part.
 * Otherwise every frame passes through unchanged. Install before the page loads.
 *
 * @example
 *   const sockets = await SocketControl.install(context);
 *   sockets.hold(); await stack.restart('connection-gateway'); …; sockets.release();
 */
import type { BrowserContext, WebSocketRoute } from 'playwright-core';

/** Close codes a page may pass to close() (1006 and friends are for the browser to report). */
const sendable = (code: number | undefined) =>
  code === undefined || code === 1000 || (code >= 3000 && code <= 4999);

export class SocketControl {
  private open = true;
  private waiters: (() => void)[] = [];
  private swallow: ((frame: string) => boolean) | null = null;
  /** Connections the page opened while held (its attempts to reconnect). */
  heldAttempts = 0;
  /** Frames swallowed so far. */
  swallowed: string[] = [];

  static async install(context: BrowserContext): Promise<SocketControl> {
    const control = new SocketControl();
    await context.routeWebSocket(/\/ws(\?|$)/, (ws) => control.route(ws));
    return control;
  }

  hold(): void {
    this.open = false;
  }

  release(): void {
    this.open = true;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Loses server frames that match `pred` (null: lose nothing). */
  swallowFromServer(pred: ((frame: string) => boolean) | null): void {
    this.swallow = pred;
  }

  private async route(ws: WebSocketRoute): Promise<void> {
    let pageClosed = false;
    let server: WebSocketRoute | undefined;
    // Our own close handler replaces Playwright's default forwarding, so forward by hand.
    ws.onClose((code, reason) => {
      pageClosed = true;
      if (server) void server.close({ code: sendable(code) ? code : 1000, reason });
      else void ws.close({ code, reason });
    });
    if (!this.open) {
      this.heldAttempts += 1;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    // A socket the page gave up on while held must not reach the server as a phantom session.
    if (pageClosed) return;
    server = ws.connectToServer();
    server.onMessage((frame) => {
      const text = typeof frame === 'string' ? frame : frame.toString('utf8');
      if (this.swallow?.(text)) this.swallowed.push(text);
      else ws.send(frame);
    });
  }
}
