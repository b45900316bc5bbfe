// Browser tests of the web client: Debian's Chromium driven by playwright-core
// against a running edgechat server.
//
//   node tests/browser/run.mjs <base_url> [--only a,b] [--screenshots DIR]
//
// Scenarios run one after another in one browser; each uses its own
// browser contexts (separate cookie jars, like separate people). Exit code 0
// means every scenario passed.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const base = args.find((a) => /^https?:\/\//.test(a));
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (!base) {
  console.error('usage: node tests/browser/run.mjs <base_url> [--only a,b] [--screenshots DIR]');
  process.exit(2);
}
const shots = opt('--screenshots') || 'target/browser';
const only = opt('--only')?.split(',');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 15_000;
const PASSWORD = 'correct horse battery';
const run = Date.now().toString(36).slice(-5);
let serial = 0;

// ---- small helpers ----

class Failure extends Error {}

function check(cond, message) {
  if (!cond) throw new Failure(message);
}

/** Retries `fn` until it stops throwing, or rethrows its last error. */
async function eventually(fn, what, timeout = TIMEOUT) {
  const until = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > until) throw new Failure(`${what}: ${e.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function uniqueName(prefix) {
  serial += 1;
  return `${prefix}_${run}${serial}`;
}

/**
 * A person: their own browser context (cookies, storage, client IP) and
 * page, watched for script errors, CSP violations and dialogs.
 */
async function person(browser, label, { phone = false } = {}) {
  serial += 1;
  const context = await browser.newContext({
    baseURL: base,
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 800 },
    deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone,
    hasTouch: phone,
    locale: 'en-US',
    colorScheme: 'light',
    // Per-IP sign-up limits: each person looks like their own client.
    extraHTTPHeaders: { 'cf-connecting-ip': `10.77.${serial}.${Math.floor(Math.random() * 250) + 1}` },
  });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const p = { label, context, page, problems: [], dialogs: [] };
  page.on('pageerror', (e) => p.problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) p.problems.push(`CSP: ${m.text()}`);
  });
  page.on('dialog', (d) => { p.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await page.goto('/');
  return p;
}

function assertClean(...people) {
  for (const p of people) {
    check(p.problems.length === 0, `${p.label}'s page reported: ${p.problems.join(' | ')}`);
    check(p.dialogs.length === 0, `${p.label}'s page opened dialogs: ${p.dialogs.join(' | ')}`);
  }
}

async function signUp(p, username, displayName) {
  const { page } = p;
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Display name', { exact: true }).fill(displayName);
  await page.getByRole('button', { name: 'Sign up', exact: true }).click();
  await signedInAs(p, displayName);
  p.username = username;
  p.displayName = displayName;
}

/** The main view is up for `displayName` (its name is hidden on phones). */
async function signedInAs(p, displayName) {
  await p.page.locator('#main-view').waitFor();
  await eventually(async () => check(await p.page.locator('#me-name').textContent() === displayName, 'other name'), `signed in as ${displayName}`);
}

async function logIn(p, username) {
  await p.page.getByLabel('Username', { exact: true }).fill(username);
  await p.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await p.page.getByRole('button', { name: 'Log in', exact: true }).click();
  await p.page.locator('#main-view').waitFor();
}

async function createRoom(p, name, visibility = 'public') {
  const { page } = p;
  await page.locator('#create-tool summary').click();
  await page.getByLabel('Room name', { exact: true }).fill(name);
  if (visibility === 'private') await page.getByLabel('Invited only (private)').check();
  await page.getByRole('button', { name: 'Create room', exact: true }).click();
  await page.locator('#chat-title').filter({ hasText: name }).waitFor();
  await live(p);
  return new URL(page.url()).hash.replace('#/room/', '');
}

async function joinPublic(p, name) {
  const { page } = p;
  await page.locator('#browse-tool summary').click();
  await page.getByLabel('Search public rooms').fill(name);
  await page.getByRole('button', { name: `Join ${name}`, exact: true }).click();
  await page.locator('#chat-title').filter({ hasText: name }).waitFor();
  await live(p);
}

async function live(p) {
  await p.page.locator('#conn[data-state="live"]').waitFor();
}

async function say(p, text) {
  const box = p.page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await p.page.getByRole('button', { name: 'Send', exact: true }).click();
}

/** The log's messages whose body is exactly `text`. */
function bodies(p, text) {
  const body = p.page.locator('.body').filter({ hasText: new RegExp(`^${escape(text)}$`) });
  return p.page.locator('#log > li').filter({ has: body });
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function countIs(locator, n, what) {
  await eventually(async () => {
    const c = await locator.count();
    check(c === n, `expected ${n}, saw ${c}`);
  }, what);
}

/** Exactly one delivered (seq-numbered) copy of `text` in `p`'s log. */
async function deliveredOnce(p, text) {
  await countIs(bodies(p, text), 1, `${p.label} shows "${text}" once`);
  const li = bodies(p, text);
  await eventually(async () => {
    check(await li.getAttribute('data-status') === 'sent', 'still pending');
    check(/^\d+$/.test(await li.getAttribute('data-seq')), 'no seq yet');
  }, `${p.label}'s "${text}" is sent`);
}

/** How many stored messages of the room have body `text` (history API). */
async function storedCount(p, roomId, text) {
  return p.page.evaluate(async ({ roomId, text }) => {
    const s = await fetch('/api/v1/auth/session/refresh', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
    }).then((r) => r.json());
    const page = await fetch(`/api/v1/rooms/${roomId}/messages?limit=100`, {
      headers: { authorization: `Bearer ${s.access_token}` },
    }).then((r) => r.json());
    return page.messages.filter((m) => m.body === text).length;
  }, { roomId, text });
}

async function screenshot(p, name) {
  mkdirSync(shots, { recursive: true });
  const path = join(shots, name);
  await p.page.screenshot({ path });
  console.log(`    screenshot: ${path}`);
}

// ---- scenarios ----

const state = {};

/** Two people sign up, meet in a room, chat both ways, see typing and presence. */
async function chat(browser) {
  const ada = await person(browser, 'ada');
  const grace = await person(browser, 'grace');
  await signUp(ada, uniqueName('ada'), 'Ada Lovelace');
  await signUp(grace, uniqueName('grace'), 'Grace Hopper');
  const roomName = uniqueName("Launch plan");
  const roomId = await createRoom(ada, roomName);
  await joinPublic(grace, roomName);

  // Presence: each sees the other online.
  await eventually(async () => check((await ada.page.locator('#online-summary').textContent()) === 'Online (2)', 'not 2'), 'ada sees 2 online');
  await eventually(async () => check((await ada.page.locator('#online-list').textContent()).includes('Grace Hopper'), 'no grace'), 'ada sees grace online');
  await eventually(async () => check((await grace.page.locator('#online-list').textContent()).includes('Ada Lovelace'), 'no ada'), 'grace sees ada online');

  // Typing.
  await grace.page.getByLabel('Message', { exact: true }).pressSequentially('Morn', { delay: 30 });
  await ada.page.locator('#typing').filter({ hasText: 'Grace Hopper is typing…' }).waitFor();

  // Both ways, with the keyboard (Enter) and the button.
  await grace.page.getByLabel('Message', { exact: true }).fill('Morning! Are we still on for Thursday?');
  await grace.page.getByLabel('Message', { exact: true }).press('Enter');
  await deliveredOnce(grace, 'Morning! Are we still on for Thursday?');
  await deliveredOnce(ada, 'Morning! Are we still on for Thursday?');
  await eventually(async () => check((await ada.page.locator('#typing').textContent()) === '', 'typing line stays'), 'typing clears on message');
  // New messages are announced politely.
  await eventually(async () => check((await ada.page.locator('[aria-live="polite"]').last().textContent()).includes('Morning! Are we still on for Thursday?'), 'not announced'), 'announced');

  const mention = `Yes! @${grace.username} can you bring the deploy checklist?`;
  await say(ada, mention);
  await deliveredOnce(grace, mention);
  await deliveredOnce(ada, mention);
  // The mention of the reader is highlighted.
  await grace.page.locator('#log > li.mentions-me .mention.me').filter({ hasText: `@${grace.username}` }).waitFor();

  // Reply.
  await bodies(ada, 'Morning! Are we still on for Thursday?').hover();
  await ada.page.getByRole('button', { name: 'Reply to Grace Hopper' }).first().click();
  await say(ada, 'Thursday 10:00, room 4');
  await grace.page.locator('#log > li').filter({ hasText: 'Thursday 10:00, room 4' }).locator('.quote')
    .filter({ hasText: 'Grace Hopper: Morning!' }).waitFor();
  await countIs(bodies(grace, 'Morning! Are we still on for Thursday?'), 1, 'reply target shown once');

  // Edit and delete one's own message; the other side follows.
  await say(grace, 'Will do, and the rollbak plan');
  await deliveredOnce(ada, 'Will do, and the rollbak plan');
  const mine = grace.page.locator('#log > li').filter({ hasText: 'rollbak' });
  await mine.hover();
  await mine.getByRole('button', { name: 'Edit', exact: true }).click();
  await grace.page.getByLabel('Edited text').fill('Will do, and the rollback plan');
  await grace.page.getByLabel('Edited text').press('Enter');
  await ada.page.locator('#log > li').filter({ hasText: 'Will do, and the rollback plan' }).locator('.edited').waitFor();

  await say(grace, 'oops, wrong room');
  await deliveredOnce(ada, 'oops, wrong room');
  const oops = grace.page.locator('#log > li').filter({ hasText: 'oops, wrong room' });
  await oops.hover();
  await oops.getByRole('button', { name: 'Delete', exact: true }).click();
  await oops.getByRole('button', { name: 'Confirm delete', exact: true }).click();
  await countIs(bodies(ada, 'oops, wrong room'), 0, 'deleted on the other side');
  await ada.page.locator('#log > li.deleted').filter({ hasText: 'Message deleted' }).waitFor();

  await say(grace, 'Great — see you there');
  await deliveredOnce(ada, 'Great — see you there');

  // A private room with an invitation, and a direct chat with an unread badge.
  const leads = `Leads ${run}`;
  await createRoom(ada, leads, 'private');
  await ada.page.locator('#online-tool summary').click();
  await ada.page.getByLabel('Add member').fill(grace.username);
  await ada.page.getByRole('button', { name: 'Invite', exact: true }).click();
  await ada.page.locator('#toast').filter({ hasText: 'Grace Hopper can now join this room.' }).waitFor();
  await ada.page.locator('#online-tool summary').click();
  await ada.page.locator('#room-list').getByText(roomName).click();
  await live(ada);

  await grace.page.locator('#dm-tool summary').click();
  await grace.page.getByLabel('Chat privately with').fill(ada.username);
  await grace.page.getByRole('button', { name: 'Start chat', exact: true }).click();
  await grace.page.locator('#chat-title').filter({ hasText: ada.username }).waitFor();
  await live(grace);
  await say(grace, 'psst — coffee after the review?');
  await deliveredOnce(grace, 'psst — coffee after the review?');
  // Back in the room list of both: the room lists catch up on focus.
  await grace.page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await grace.page.locator('#room-list').getByText(leads).waitFor();
  await grace.page.locator('#room-list').getByText(roomName).click();
  await live(grace);
  await ada.page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await ada.page.getByRole('link', { name: 'Grace Hopper, 1 unread', exact: true }).waitFor();

  // The chat view for the README, on a desktop and on a phone.
  await ada.page.keyboard.press('Escape');
  await ada.page.mouse.move(0, 0);
  await grace.page.getByLabel('Message', { exact: true }).pressSequentially('Bringing', { delay: 30 });
  await ada.page.locator('#typing').filter({ hasText: 'is typing' }).waitFor();
  await screenshot(ada, 'chat-desktop.png');

  // Presence: leaving shows.
  await grace.context.close();
  await eventually(async () => check((await ada.page.locator('#online-summary').textContent()) === 'Online (1)', 'still 2'), 'ada sees grace leave', 20_000);

  assertClean(ada, grace);
  Object.assign(state, { ada, roomId, roomName });
}

/** A reload keeps the session (from the cookie) and the room's history. */
async function reload(browser) {
  if (!state.ada) await chat(browser);
  const { ada, roomName } = state;
  await ada.page.reload();
  await signedInAs(ada, 'Ada Lovelace');
  check(await ada.page.locator('#auth-view').isHidden(), 'no sign-in form after reload');
  await ada.page.locator('#chat-title').filter({ hasText: roomName }).waitFor();
  await live(ada);
  await deliveredOnce(ada, 'Morning! Are we still on for Thursday?');
  await deliveredOnce(ada, 'Great — see you there');
  // Tokens stay out of reach of page scripts and storage.
  const exposed = await ada.page.evaluate(() => ({
    cookie: document.cookie,
    storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
  }));
  check(exposed.cookie === '', `document.cookie is empty, not ${exposed.cookie}`);
  check(!/ey[A-Za-z0-9_-]{10,}\.|refresh/i.test(exposed.storage), `no tokens in storage: ${exposed.storage}`);
  const cookies = await ada.context.cookies();
  const session = cookies.find((c) => c.name === '__Secure-edgechat_refresh');
  check(session && session.httpOnly && session.secure && session.sameSite === 'Strict' && session.path === '/api/v1/auth',
    `session cookie attributes: ${JSON.stringify(session)}`);

  // Log out: the cookie goes, and a reload asks to sign in.
  await ada.page.getByRole('button', { name: 'Log out', exact: true }).click();
  await ada.page.getByLabel('Username', { exact: true }).waitFor();
  check(!(await ada.context.cookies()).some((c) => c.name === '__Secure-edgechat_refresh'), 'cookie cleared on logout');
  await ada.page.reload();
  await ada.page.getByRole('button', { name: 'Log in', exact: true }).waitFor();
  // And logging in again brings the room back.
  await logIn(ada, ada.username);
  await ada.page.locator('#room-list').getByText(roomName).click();
  await live(ada);
  assertClean(ada);
}

/** Markup in a message is shown as text and never runs. */
async function xss(browser) {
  const mal = await person(browser, 'mallory');
  const vic = await person(browser, 'victor');
  await signUp(mal, uniqueName('mallory'), '<b>Mallory</b>');
  await signUp(vic, uniqueName('victor'), 'Victor');
  const roomName = `<i>xss</i> ${run}`;
  await createRoom(mal, roomName);
  await joinPublic(vic, roomName);
  const payload = '<img src=x onerror=alert(1)>';
  await say(mal, payload);
  await say(mal, '<script>alert(2)</script> and <a href="javascript:alert(3)">link</a>');
  for (const p of [mal, vic]) {
    await deliveredOnce(p, payload);
    check(await p.page.locator('#log img, #log script, #log a[href^="javascript"]').count() === 0, 'markup became elements');
    check((await p.page.locator('#log > li .author').first().textContent()) === '<b>Mallory</b>', 'display name as text');
  }
  await vic.page.waitForTimeout(300);
  assertClean(mal, vic);
  await mal.context.close();
  await vic.context.close();
}

/** Offline and back: what was sent meanwhile arrives, nothing twice. */
async function offline(browser) {
  const sam = await person(browser, 'sam');
  const kim = await person(browser, 'kim', { phone: true });
  await signUp(sam, uniqueName('sam'), 'Sam');
  await signUp(kim, uniqueName('kim'), 'Kim');
  const roomName = `Field trip ${run}`;
  const roomId = await createRoom(sam, roomName);
  await joinPublic(kim, roomName);
  await say(kim, 'before going offline');
  await deliveredOnce(sam, 'before going offline');

  await kim.context.setOffline(true);
  await eventually(async () => check(['offline', 'reconnecting'].includes(await kim.page.locator('#conn').getAttribute('data-state')), 'still live'),
    'kim sees the connection drop');
  const meanwhile = ['one while you were out', 'two while you were out', 'three while you were out'];
  for (const text of meanwhile) {
    await say(sam, text);
    await deliveredOnce(sam, text);
  }
  // Sent while offline: shows as pending.
  await say(kim, 'written on the train');
  const pending = kim.page.locator('#log > li[data-status="pending"]').filter({ hasText: 'written on the train' });
  await pending.waitFor();
  await kim.page.waitForTimeout(1000);

  await kim.context.setOffline(false);
  await live(kim);
  for (const text of meanwhile) await deliveredOnce(kim, text);
  await deliveredOnce(kim, 'written on the train');
  await deliveredOnce(sam, 'written on the train');
  await countIs(bodies(kim, 'before going offline'), 1, 'no replayed duplicate');
  check(await storedCount(sam, roomId, 'written on the train') === 1, 'stored once');
  await screenshot(kim, 'chat-phone.png');
  assertClean(sam, kim);
  Object.assign(state, { sam, kim, offlineRoom: roomId });
}

/**
 * The connection dies after a message reached the server but before its
 * ack reached the page: the client re-sends it with the same client_id on
 * reconnect and the server keeps one copy.
 */
async function resend(browser) {
  const lee = await person(browser, 'lee');
  const max = await person(browser, 'max');
  let cutNextAck = false;
  let cuts = 0;
  await lee.page.routeWebSocket(/\/api\/v1\/rooms\/[^/]+\/ws/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((data) => {
      const frame = JSON.parse(String(data));
      if (cutNextAck && (frame.type === 'ack' || (frame.type === 'message' && frame.message.body.startsWith('lost ack')))) {
        // The server has stored it; the page never hears. Drop the line.
        cutNextAck = false;
        cuts += 1;
        ws.close({ code: 1012, reason: 'test: connection lost' });
        server.close();
        return;
      }
      ws.send(data);
    });
    ws.onMessage((data) => server.send(data));
    ws.onClose(() => server.close());
    server.onClose((code, reason) => ws.close({ code, reason }));
  });
  await lee.page.reload();
  await signUp(lee, uniqueName('lee'), 'Lee');
  await signUp(max, uniqueName('max'), 'Max');
  const roomName = `Resend ${run}`;
  const roomId = await createRoom(lee, roomName);
  await joinPublic(max, roomName);

  cutNextAck = true;
  await say(lee, 'lost ack, sent once');
  await eventually(async () => check(cuts === 1, `cuts: ${cuts}`), 'the line was cut after the send');
  await live(lee);
  await deliveredOnce(lee, 'lost ack, sent once');
  await deliveredOnce(max, 'lost ack, sent once');
  await max.page.waitForTimeout(500);
  await countIs(bodies(max, 'lost ack, sent once'), 1, 'max sees it once');
  check(await storedCount(max, roomId, 'lost ack, sent once') === 1, 'stored once');
  assertClean(lee, max);
  await lee.context.close();
  await max.context.close();
}

/** A user made through the plain API from Node, with their own client IP. */
async function apiUser(prefix) {
  serial += 1;
  const ip = `10.78.${serial}.${Math.floor(Math.random() * 250) + 1}`;
  const username = uniqueName(prefix);
  const call = async (method, path, body, token) => {
    const headers = { 'cf-connecting-ip': ip };
    if (body) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const resp = await fetch(new URL(path, base), { method, headers, body: body && JSON.stringify(body) });
    return { status: resp.status, headers: resp.headers, body: await resp.json().catch(() => null) };
  };
  const reg = await call('POST', '/api/v1/auth/register', { username, password: PASSWORD });
  check(reg.status === 201, `register ${username}: ${reg.status}`);
  return { username, call: (method, path, body) => call(method, path, body, reg.body.access_token) };
}

/** Older history loads when scrolling up, in order, keeping the reader's place. */
async function history(browser) {
  const writers = await Promise.all(['hw', 'hx', 'hy'].map(apiUser));
  const created = await writers[0].call('POST', '/api/v1/rooms', { name: `History ${run}`, visibility: 'public' });
  check(created.status === 201, 'room created');
  const roomId = created.body.id;
  await writers[1].call('POST', `/api/v1/rooms/${roomId}/join`);
  await writers[2].call('POST', `/api/v1/rooms/${roomId}/join`);
  // 60 messages, in order, each writer within its own rate limit.
  for (let i = 1; i <= 60; i += 1) {
    const w = writers[i % 3];
    for (;;) {
      const r = await w.call('POST', `/api/v1/rooms/${roomId}/messages`, { body: `history ${i}`, client_id: `h${i}` });
      if (r.status === 201) break;
      check(r.status === 429, `post ${i}: ${r.status} ${JSON.stringify(r.body)}`);
      await new Promise((ok) => setTimeout(ok, 250));
    }
  }
  const rea = await person(browser, 'reader');
  await signUp(rea, uniqueName('rea'), 'Reader');
  await joinPublic(rea, `History ${run}`);
  // The newest page: 50 messages, the last one at the bottom, in view.
  await countIs(rea.page.locator('#log > li'), 50, 'the newest page');
  check(await rea.page.locator('#log > li .body').last().textContent() === 'history 60', 'newest last');
  check(await rea.page.locator('#log > li .body').last().isVisible(), 'newest in view');
  await rea.page.locator('#older').waitFor();
  // Scrolling up loads the rest, keeping the first shown message in place.
  const anchor = bodies(rea, 'history 11');
  await rea.page.locator('#scroller').evaluate((s) => { s.scrollTop = 0; });
  await countIs(rea.page.locator('#log > li'), 60, 'all 60 after scrolling up');
  const texts = await rea.page.locator('#log > li .body').allTextContents();
  check(texts.every((t, i) => t === `history ${i + 1}`), `in order: ${texts.slice(0, 3)}…`);
  check(await anchor.isVisible(), 'the reader keeps their place');
  await rea.page.locator('#older').waitFor({ state: 'hidden' });
  assertClean(rea);
  await rea.context.close();
}

/** Presses Tab until `selector` has the focus: it is reachable by keyboard. */
async function tabTo(p, selector, max = 60) {
  for (let i = 0; i < max; i += 1) {
    if (await p.page.evaluate((sel) => document.activeElement?.matches(sel), selector)) return;
    await p.page.keyboard.press('Tab');
  }
  throw new Failure(`${selector} is not reachable with Tab`);
}

/** Everything from sign-up to a reply works with the keyboard alone. */
async function keyboard(browser) {
  const kai = await person(browser, 'kai');
  const { page } = kai;
  const username = uniqueName('kai');
  await tabTo(kai, '#auth-username');
  await page.keyboard.type(username);
  await tabTo(kai, '#auth-password');
  await page.keyboard.type(PASSWORD);
  await tabTo(kai, '#auth-display');
  await page.keyboard.type('Kai');
  await tabTo(kai, '#signup-button');
  await page.keyboard.press('Enter');
  await signedInAs(kai, 'Kai');
  await tabTo(kai, '#create-tool summary');
  await page.keyboard.press('Enter');
  await tabTo(kai, '#create-name');
  await page.keyboard.type(`Keys ${run}`);
  await tabTo(kai, '#create-form button[type=submit]');
  await page.keyboard.press('Enter');
  await live(kai);
  await tabTo(kai, '#message');
  await page.keyboard.type('typed, not clicked');
  await page.keyboard.press('Enter');
  await deliveredOnce(kai, 'typed, not clicked');
  await tabTo(kai, '#log > li button[aria-label^="Reply to"]');
  await page.keyboard.press('Enter');
  check(await page.evaluate(() => document.activeElement?.id) === 'message', 'reply focuses the message box');
  check(await page.locator('#reply-bar').isVisible(), 'reply bar shown');
  await page.keyboard.press('Escape');
  check(await page.locator('#reply-bar').isHidden(), 'Escape cancels the reply');
  await tabTo(kai, '#bell');
  await page.keyboard.press('Enter');
  await page.locator('#notif-panel').waitFor();
  await page.keyboard.press('Escape');
  await page.locator('#notif-panel').waitFor({ state: 'hidden' });
  check(await page.evaluate(() => document.activeElement?.id) === 'bell', 'focus returns to the bell');
  assertClean(kai);
  await kai.context.close();
}

/** A mention lights up the other person's notification indicator. */
async function mention(browser) {
  const una = await person(browser, 'una');
  const ivo = await person(browser, 'ivo');
  await signUp(una, uniqueName('una'), 'Una');
  await signUp(ivo, uniqueName('ivo'), 'Ivo');
  const roomName = `Mentions ${run}`;
  await createRoom(una, roomName);
  await joinPublic(ivo, roomName);
  // Ivo looks elsewhere: back to the room list.
  await ivo.page.evaluate(() => { location.hash = ''; });
  const bell = ivo.page.locator('#bell');
  check(await bell.getAttribute('data-unread') === '0', 'no notifications yet');
  await say(una, `@${ivo.username} please review the release notes`);
  await eventually(async () => check(await bell.getAttribute('data-unread') === '1', await bell.getAttribute('data-unread')),
    'the mention lights the indicator');
  check(await bell.evaluate((b) => b.classList.contains('lit')), 'indicator lit');
  await ivo.page.getByRole('button', { name: /^Notifications, 1 unread$/ }).click();
  await ivo.page.locator('#notif-list').getByText('please review the release notes').click();
  await ivo.page.locator('#chat-title').filter({ hasText: roomName }).waitFor();
  await eventually(async () => check(await bell.getAttribute('data-unread') === '0', 'still lit'), 'following it clears the indicator');
  assertClean(una, ivo);
  await una.context.close();
  await ivo.context.close();
}

const ALL = { chat, reload, xss, offline, resend, keyboard, mention, history };
const DEFAULT = Object.keys(ALL);

const browser = await chromium.launch({
  executablePath,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync',
    '--disable-background-networking', '--disable-component-update',
  ],
});
let failed = 0;
const started = Date.now();
for (const name of only || DEFAULT) {
  const scenario = ALL[name];
  if (!scenario) {
    console.error(`unknown scenario ${name}; known: ${Object.keys(ALL).join(', ')}`);
    failed += 1;
    continue;
  }
  const t0 = Date.now();
  try {
    await scenario(browser);
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${e instanceof Failure ? e.message : e.stack}`);
  }
}
await browser.close();
console.log(`${failed ? 'FAILED' : 'passed'}: ${(only || DEFAULT).length - failed} of ${(only || DEFAULT).length} scenarios in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
