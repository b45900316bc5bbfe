// A WebSocket that comes back: exponential backoff with jitter, a heartbeat
// that notices dead connections, and the browser's offline/online events.

import { freshToken, socketUrl } from './api.js';

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
// Each ping wakes a hibernating room object, so not too often.
const PING_EVERY_MS = 30_000;
const PONG_WITHIN_MS = 10_000;
const NOT_READING = 4408;

/** The wait before reconnect attempt `n` (0-based): half fixed, half random. */
export function backoff(n, random = Math.random) {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** n);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Keeps one socket to `path()` open until `stop()`. States: `connecting`,
 * `live` (after `isWelcome` matched a frame; when `isWelcome` is null, as
 * soon as the socket opens), `reconnecting` (waiting for
 * the next attempt), `offline` (the browser has no network), `closed`.
 * Handlers: `onFrame(frame)`, `onState(state, detail)`, `onLive(again)` and
 * `onGone(code)` for a close the server means for good (e.g. 4403, kicked).
 */
export class ReconnectingSocket {
  constructor({ path, isWelcome = null, heartbeat = true, onFrame, onState, onLive, onGone }) {
    Object.assign(this, { path, isWelcome, heartbeat, onFrame, onState, onLive, onGone });
    this.ws = null;
    this.state = 'closed';
    this.attempt = 0;
    this.timer = 0;
    this.pingTimer = 0;
    this.pongTimer = 0;
    this.stopped = false;
    this.offline = () => this.lose('offline');
    this.online = () => { if (this.state === 'offline' || this.state === 'reconnecting') this.connectNow(); };
    window.addEventListener('offline', this.offline);
    window.addEventListener('online', this.online);
  }

  setState(state, detail) {
    this.state = state;
    this.onState?.(state, detail);
  }

  start() {
    if (navigator.onLine === false) this.setState('offline');
    else this.connect();
  }

  connectNow() {
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  async connect() {
    if (this.stopped || this.ws) return;
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting', { now: true });
    const token = await freshToken().catch(() => undefined);
    if (this.stopped || this.ws) return;
    if (token === null) { this.stop(); return; } // signed out
    if (token === undefined) { this.retry(); return; } // network trouble
    let ws;
    try {
      ws = new WebSocket(socketUrl(this.path()), ['edgechat.v1', `bearer.${token}`]);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    if (!this.isWelcome) ws.onopen = () => { if (this.ws === ws) this.live(); };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      let frame;
      try { frame = JSON.parse(e.data); } catch { return; }
      if (frame.type === 'pong') { clearTimeout(this.pongTimer); return; }
      if (this.state !== 'live' && this.isWelcome?.(frame)) {
        this.onFrame?.(frame);
        this.live();
        return;
      }
      this.onFrame?.(frame);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.detach();
      // 4408: the room closed a socket that fell behind; resume at once.
      if (e.code >= 4000 && e.code < 5000 && e.code !== NOT_READING) {
        this.stop();
        this.onGone?.(e.code);
      } else {
        this.retry();
      }
    };
  }

  live() {
    const again = this.everLive;
    this.everLive = true;
    this.attempt = 0;
    this.setState('live');
    this.beat();
    this.onLive?.(again);
  }

  /** Drops the current socket (if any) without waiting for its close. */
  detach() {
    const ws = this.ws;
    this.ws = null;
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    if (ws) {
      ws.onopen = null;
      ws.onmessage = null;
      ws.onclose = null;
      if (ws.readyState <= WebSocket.OPEN) ws.close();
    }
  }

  /** The connection is gone (dead heartbeat, browser offline): start over. */
  lose(reason) {
    if (this.stopped) return;
    this.detach();
    clearTimeout(this.timer);
    if (reason === 'offline' || navigator.onLine === false) this.setState('offline');
    else this.retry();
  }

  retry() {
    if (this.stopped) return;
    if (navigator.onLine === false) { this.setState('offline'); return; }
    const wait = backoff(this.attempt);
    this.attempt += 1;
    this.setState('reconnecting', { at: Date.now() + wait });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  beat() {
    if (!this.heartbeat) return;
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (!this.sendFrame({ type: 'ping' })) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.lose('silent'), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  /** Sends a frame when live; false when it could not go now. */
  sendFrame(frame) {
    if (this.state !== 'live' || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.detach();
    window.removeEventListener('offline', this.offline);
    window.removeEventListener('online', this.online);
    if (this.state !== 'closed') this.setState('closed');
  }
}
