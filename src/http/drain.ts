import type { Server } from 'node:http';
import type { Socket } from 'node:net';

interface Conn {
  busy: number;
  idleSince: number;
}

/**
 * Tracks the server's connections so that a shutdown can end the idle ones gracefully. During the
 * drain every answer carries `Connection: close` (see buildApp), which ends busy connections after
 * their answer; this ends those that carry no request at all, once they have been idle for a
 * while: a client under load is never idle that long, so no request is cut off mid-way.
 */
export class ConnectionDrain {
  private readonly conns = new Map<Socket, Conn>();

  constructor(
    server: Server,
    private readonly clock: () => number,
  ) {
    // TLS servers report the secure socket on 'secureConnection'; requests carry the same socket.
    const add = (s: Socket): void => {
      this.conns.set(s, { busy: 0, idleSince: this.clock() });
      s.once('close', () => this.conns.delete(s));
    };
    server.on('setSecureContext' in server ? 'secureConnection' : 'connection', add);
    server.on('request', (req, res) => {
      const c = this.conns.get(req.socket);
      if (!c) return;
      c.busy++;
      res.once('close', () => {
        c.busy--;
        c.idleSince = this.clock();
      });
    });
  }

  /** Open connections right now. */
  get size(): number {
    return this.conns.size;
  }

  /** Ends (TLS close_notify, then FIN) every connection idle for at least `idleMs`; returns how many. */
  endIdle(idleMs: number): number {
    const now = this.clock();
    let n = 0;
    for (const [s, c] of this.conns) {
      if (c.busy === 0 && now - c.idleSince >= idleMs) {
        s.end();
        // A peer that never answers the close is cut off after a grace period.
        s.setTimeout(2_000, () => s.destroy());
        this.conns.delete(s);
        n++;
      }
    }
    return n;
  }
}
