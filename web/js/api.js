// The HTTP API and the browser session. The access token lives only in this
// module's memory; the refresh token is an HttpOnly cookie the page never
// sees (POST /api/v1/auth/session/*).

/** A problem+json answer (or a network failure, with status 0). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code || (status === 0 ? 'network' : 'unknown');
  }
}

const session = { token: null, user: null, expiresAt: 0 };
let refreshTimer = 0;
let inflight = null;
const signedOutListeners = [];

/** The signed-in user, or null. */
export const me = () => session.user;

/** Calls `fn` when the session ends (logout, revoked, expired). */
export function onSignedOut(fn) {
  signedOutListeners.push(fn);
}

async function send(method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, { detail: 'The network is unreachable.' });
  }
}

async function answer(resp) {
  if (resp.ok) return resp.status === 204 ? null : resp.json();
  let problem = null;
  try { problem = await resp.json(); } catch { /* not JSON */ }
  throw new ApiError(resp.status, problem);
}

function adopt(s) {
  session.token = s.access_token;
  session.user = s.user;
  session.expiresAt = Date.now() + s.expires_in * 1000;
  clearTimeout(refreshTimer);
  // Renew a minute before expiry so sockets and calls never see a stale token.
  const wait = Math.max(5, s.expires_in - 60) * 1000;
  refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, wait);
}

function drop() {
  const had = session.user !== null;
  session.token = null;
  session.user = null;
  session.expiresAt = 0;
  clearTimeout(refreshTimer);
  if (had) for (const fn of signedOutListeners) fn();
}

/** POST /api/v1/auth/session/{action}: always JSON (the server's CSRF rule). */
function sessionCall(action, body = {}) {
  return send('POST', `/api/v1/auth/session/${action}`, body);
}

async function renew() {
  const resp = await sessionCall('refresh');
  if (resp.status === 401) {
    drop();
    return false;
  }
  adopt(await answer(resp));
  return true;
}

/**
 * Rotates the cookie for a new access token; false when there is no valid
 * session. Tabs of one browser share the cookie: a lock keeps them from
 * presenting the same refresh token twice (which would end the session).
 */
export function refresh() {
  if (!inflight) {
    const run = navigator.locks
      ? navigator.locks.request('edgechat-session', renew)
      : renew();
    inflight = run.finally(() => { inflight = null; });
  }
  return inflight;
}

/** An access token valid for at least another 30 s, or null when signed out. */
export async function freshToken() {
  if (session.token && Date.now() < session.expiresAt - 30_000) return session.token;
  if (!(await refresh())) return null;
  return session.token;
}

/** Resumes the session kept in the cookie; true when signed in. */
export function resume() {
  return refresh();
}

export async function login(username, password) {
  adopt(await answer(await sessionCall('login', { username, password })));
}

export async function register(username, password, displayName) {
  const body = { username, password };
  if (displayName) body.display_name = displayName;
  adopt(await answer(await sessionCall('register', body)));
}

export async function logout() {
  try { await sessionCall('logout'); } finally { drop(); }
}

/** An authenticated API call; renews the token once on 401. */
export async function api(method, path, body) {
  let token = await freshToken();
  if (!token) throw new ApiError(401, { detail: 'Signed out.' });
  let resp = await send(method, path, body, token);
  if (resp.status === 401 && (await refresh())) {
    token = session.token;
    resp = await send(method, path, body, token);
  }
  return answer(resp);
}

/** `ws(s)://host/path` for a socket path. */
export function socketUrl(path) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}
