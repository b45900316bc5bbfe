// The notification indicator: mentions, DMs and replies, live from the
// user's own stream (GET /api/v1/notifications/ws), plus unread counts.

import { api } from './api.js';
import { announce, byId, h, replace, toast } from './dom.js';
import { when } from './format.js';
import { ReconnectingSocket } from './socket.js';

const KIND_TEXT = { mention: 'mentioned you', dm: 'sent you a message', reply: 'replied to you' };

export class Notifications {
  constructor(hooks) {
    this.hooks = hooks; // {unread(roomId, count), open(roomId, seq), roomName(roomId), showing(roomId)}
    this.items = new Map(); // id → Notification, newest first
    this.socket = null;
    this.available = true;
    this.el = {
      bell: byId('bell'), count: byId('bell-count'), panel: byId('notif-panel'),
      list: byId('notif-list'), empty: byId('notif-empty'), readAll: byId('notif-read-all'),
    };
    this.el.bell.addEventListener('click', () => this.toggle());
    this.el.readAll.addEventListener('click', () => this.readAll());
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.el.panel.hidden) { this.toggle(false); this.el.bell.focus(); }
    });
    document.addEventListener('click', (e) => {
      if (!this.el.panel.hidden && !this.el.panel.contains(e.target) && !this.el.bell.contains(e.target)) this.toggle(false);
    });
  }

  async start() {
    try {
      const res = await api('GET', '/api/v1/notifications?unread=true');
      for (const n of res.notifications) this.items.set(n.id, n);
      this.more = Boolean(res.next_cursor);
    } catch (e) {
      // A server without notifications yet: the indicator stays quiet.
      if (e.status === 404) { this.available = false; this.render(); return; }
    }
    this.render();
    this.socket = new ReconnectingSocket({
      path: () => '/api/v1/notifications/ws',
      onFrame: (f) => this.frame(f),
    });
    this.socket.start();
  }

  frame(f) {
    if (f.type === 'notification') {
      const n = f.notification;
      // Already on screen: seen, so it does not light the bell.
      if (this.hooks.showing(n.room_id)) {
        n.read = true;
        api('POST', '/api/v1/notifications/read', { ids: [n.id] }).catch(() => {});
      }
      this.items = new Map([[n.id, n], ...this.items]);
      this.render();
      const where = this.hooks.roomName(n.room_id);
      if (!n.read) announce(`${n.from.display_name} ${KIND_TEXT[n.kind] || 'notified you'}${where ? ` in ${where}` : ''}: ${n.preview}`);
    } else if (f.type === 'unread') {
      this.hooks.unread(f.room_id, f.count);
    }
  }

  unreadCount() {
    let n = 0;
    for (const item of this.items.values()) if (!item.read) n += 1;
    return n;
  }

  render() {
    const count = this.unreadCount();
    const { bell } = this.el;
    bell.dataset.unread = String(count);
    bell.classList.toggle('lit', count > 0);
    bell.setAttribute('aria-label', count ? `Notifications, ${count}${this.more ? '+' : ''} unread` : 'Notifications');
    this.el.count.hidden = count === 0;
    this.el.count.textContent = count > 99 ? '99+' : String(count);
    const items = [...this.items.values()].slice(0, 50);
    this.el.empty.hidden = items.length > 0;
    this.el.empty.textContent = this.available ? 'Nothing new.' : 'Notifications are not available on this server.';
    replace(this.el.list, items.map((n) => {
      const where = this.hooks.roomName(n.room_id);
      const t = when(n.created_at);
      return h('li', { class: n.read ? 'read' : 'unread' },
        h('button', {
          type: 'button', class: 'notif',
          on: { click: () => this.follow(n) },
        },
        h('span', { class: 'notif-line' },
          h('strong', { text: n.from.display_name }), ` ${KIND_TEXT[n.kind] || 'notified you'}`,
          where ? ` in ${where}` : ''),
        h('span', { class: 'notif-preview', text: n.preview }),
        h('time', { datetime: n.created_at, title: t.long, text: t.short })));
    }));
  }

  toggle(open = this.el.panel.hidden) {
    this.el.panel.hidden = !open;
    this.el.bell.setAttribute('aria-expanded', String(open));
    if (open) this.el.panel.querySelector('button')?.focus();
  }

  async follow(n) {
    this.toggle(false);
    this.hooks.open(n.room_id, n.seq);
    if (n.read) return;
    n.read = true;
    this.render();
    api('POST', '/api/v1/notifications/read', { ids: [n.id] }).catch(() => {});
  }

  async readAll() {
    try {
      await api('POST', '/api/v1/notifications/read', { all: true });
      for (const n of this.items.values()) n.read = true;
      this.render();
    } catch (e) {
      toast(`Could not mark notifications read: ${e.message}`, 'error');
    }
  }

  stop() {
    this.socket?.stop();
    this.items.clear();
    this.render();
  }
}
