// One open room: its history, its live socket and the outbox of messages
// not yet acknowledged. The view is told what changed; it owns the DOM.

import { api, me } from './api.js';
import { ReconnectingSocket } from './socket.js';

const PAGE = 50;
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 6000;

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * `view` receives: `messages(list, {older})`, `message(msg)` (new or
 * replaced; a pending one carries `pending: true`), `edited(msg)`,
 * `deleted(seq)`, `acked(clientId, seq)`, `failed(clientId, reason)`,
 * `online(users, count)`, `typing(names)`, `state(state, detail)`, `room(room)`,
 * `hasMore(bool)`, `gone(reason)`.
 */
export class RoomSession {
  constructor(room, view) {
    this.room = room;
    this.view = view;
    this.lastSeq = 0;
    this.oldestSeq = null;
    this.hasMore = false;
    this.loadingOlder = false;
    this.outbox = new Map(); // client_id → send frame, in send order
    this.online = new Map(); // user id → User
    this.typing = new Map(); // user id → {name, until}
    this.typingTimer = 0;
    this.lastTypingSent = 0;
    this.readSent = 0;
    this.socket = null;
    this.closed = false;
  }

  /** Loads the newest page, then goes live from exactly where it ended. */
  async open() {
    const page = await api('GET', `/api/v1/rooms/${encodeURIComponent(this.room.id)}/messages?limit=${PAGE}`);
    if (this.closed) return;
    this.take(page.messages, true);
    this.hasMore = page.has_more;
    this.view.hasMore(this.hasMore);
    this.view.messages(page.messages, { older: false });
    this.socket = new ReconnectingSocket({
      path: () => `/api/v1/rooms/${encodeURIComponent(this.room.id)}/ws?after_seq=${this.lastSeq}`,
      isWelcome: (f) => f.type === 'welcome',
      onFrame: (f) => this.frame(f),
      onState: (s, d) => this.stateChanged(s, d),
      onLive: (again) => { this.flush(); if (again) this.resync(); },
      onGone: (code) => this.view.gone(code === 4403 ? 'removed' : 'closed'),
    });
    this.socket.start();
  }

  stateChanged(state, detail) {
    if (state === 'live') this.failures = 0;
    if (state === 'reconnecting' && detail?.at) {
      this.failures = (this.failures || 0) + 1;
      // A socket refused for good (removed from the room) looks like any
      // failed connection to a page; ask the API now and then.
      if (this.failures === 3 || this.failures % 10 === 0) this.checkAccess();
    }
    this.view.state(state, detail);
  }

  async checkAccess() {
    let member = true;
    try {
      const room = await api('GET', `/api/v1/rooms/${encodeURIComponent(this.room.id)}`);
      member = Boolean(room.my_role);
    } catch (e) {
      if (e.status === 403 || e.status === 404) member = false;
    }
    if (!member && !this.closed) {
      this.socket?.stop();
      this.view.gone('removed');
    }
  }

  /**
   * After a reconnect: `after_seq` replays new messages, but edits and
   * deletes of older ones made meanwhile arrive only from the history.
   */
  async resync() {
    try {
      const page = await api('GET', `/api/v1/rooms/${encodeURIComponent(this.room.id)}/messages?limit=${PAGE}`);
      if (!this.closed) this.view.refreshed(page.messages);
    } catch { /* the next reconnect tries again */ }
  }

  take(messages, older) {
    for (const m of messages) {
      this.lastSeq = Math.max(this.lastSeq, m.seq);
      if (older && (this.oldestSeq === null || m.seq < this.oldestSeq)) this.oldestSeq = m.seq;
    }
  }

  /** Loads the page before the oldest shown; false when there is none. */
  async older() {
    if (!this.hasMore || this.loadingOlder || this.oldestSeq === null) return false;
    this.loadingOlder = true;
    try {
      const page = await api('GET',
        `/api/v1/rooms/${encodeURIComponent(this.room.id)}/messages?before=${this.oldestSeq}&limit=${PAGE}`);
      if (this.closed) return false;
      this.take(page.messages, true);
      this.hasMore = page.has_more;
      this.view.messages(page.messages, { older: true });
      this.view.hasMore(this.hasMore);
      return true;
    } finally {
      this.loadingOlder = false;
    }
  }

  frame(f) {
    switch (f.type) {
      case 'welcome':
        this.room = { ...this.room, ...f.room };
        this.view.room(this.room);
        this.online = new Map(f.online.map((u) => [u.id, u]));
        // A large room names only some of its users; the count is exact.
        this.onlineCount = f.online_count ?? this.online.size;
        this.view.online([...this.online.values()], this.onlineCount);
        break;
      case 'message': {
        const m = f.message;
        this.lastSeq = Math.max(this.lastSeq, m.seq);
        if (m.author.id === me()?.id && this.outbox.has(m.client_id)) this.outbox.delete(m.client_id);
        this.stopTyping(m.author.id);
        this.view.message(m);
        break;
      }
      case 'ack':
        this.outbox.delete(f.client_id);
        this.view.acked(f.client_id, f.seq);
        break;
      case 'edited':
        this.view.edited(f.message);
        break;
      case 'deleted':
        this.view.deleted(f.seq);
        break;
      case 'presence':
        for (const u of f.joined) this.online.set(u.id, u);
        for (const u of f.left) this.online.delete(u.id);
        // A presence frame may list its own recipient; this socket is open.
        if (me()) this.online.set(me().id, me());
        this.onlineCount = f.online_count ?? this.online.size;
        this.view.online([...this.online.values()], this.onlineCount);
        break;
      case 'typing':
        if (f.user.id !== me()?.id) {
          this.typing.set(f.user.id, { name: f.user.display_name, until: Date.now() + TYPING_SHOWN_MS });
          this.showTyping();
        }
        break;
      case 'error':
        this.refused(f);
        break;
      default:
        break;
    }
  }

  refused(f) {
    if (!f.client_id || !this.outbox.has(f.client_id)) {
      this.view.error(f.message || f.code);
      return;
    }
    if (f.code === 'rate_limited') {
      const frame = this.outbox.get(f.client_id);
      setTimeout(() => { if (this.outbox.has(frame.client_id)) this.socket?.sendFrame(frame); },
        Math.max(100, f.retry_after_ms || 1000));
      return;
    }
    this.outbox.delete(f.client_id);
    this.view.failed(f.client_id, f.message || f.code);
  }

  /** (Re-)sends everything not yet acknowledged, in order, same client ids. */
  flush() {
    for (const frame of this.outbox.values()) {
      if (!this.socket.sendFrame(frame)) break;
    }
  }

  /** Sends a message optimistically; it shows at once as pending. */
  send(body, replyTo) {
    const clientId = newClientId();
    // The message ends this bout of typing; the next keystroke starts a new one.
    this.lastTypingSent = 0;
    const frame = { type: 'send', client_id: clientId, body };
    if (replyTo) frame.reply_to = replyTo;
    this.outbox.set(clientId, frame);
    const user = me();
    this.view.message({
      client_id: clientId,
      room_id: this.room.id,
      author: { id: user.id, username: user.username, display_name: user.display_name },
      body,
      created_at: new Date().toISOString(),
      deleted: false,
      reply_to: replyTo || undefined,
      pending: true,
    });
    this.socket?.sendFrame(frame);
    return clientId;
  }

  /** Drops a refused message from the outbox (it is never sent again). */
  discard(clientId) {
    this.outbox.delete(clientId);
  }

  async edit(seq, body) {
    const m = await api('PATCH', `/api/v1/rooms/${encodeURIComponent(this.room.id)}/messages/${seq}`, { body });
    this.view.edited(m);
  }

  async remove(seq) {
    await api('DELETE', `/api/v1/rooms/${encodeURIComponent(this.room.id)}/messages/${seq}`);
    this.view.deleted(seq);
  }

  /** Tells others we are typing, at most every few seconds. */
  typed() {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_EVERY_MS) return;
    if (this.socket?.sendFrame({ type: 'typing' })) this.lastTypingSent = now;
  }

  /** Moves the read position to the newest message seen. */
  read() {
    if (this.lastSeq > this.readSent && this.socket?.sendFrame({ type: 'read', seq: this.lastSeq })) {
      this.readSent = this.lastSeq;
    }
  }

  stopTyping(userId) {
    if (this.typing.delete(userId)) this.showTyping();
  }

  showTyping() {
    const now = Date.now();
    for (const [id, t] of this.typing) if (t.until <= now) this.typing.delete(id);
    this.view.typing([...this.typing.values()].map((t) => t.name));
    clearTimeout(this.typingTimer);
    if (this.typing.size) this.typingTimer = setTimeout(() => this.showTyping(), 1000);
  }

  /** Unsent messages, for a warning before leaving. */
  unsent() {
    return this.outbox.size;
  }

  close() {
    this.closed = true;
    clearTimeout(this.typingTimer);
    this.socket?.stop();
  }
}
