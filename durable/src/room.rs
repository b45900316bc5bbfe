//! The Room Durable Object: the single writer of one room.
//!
//! Every write goes through [`RoomMachine`]: writes that arrive while a
//! batch is being stored in D1 queue up and go together in the next batch
//! (group commit), and each is acknowledged only after its own batch
//! commits. Sockets are hibernatable; each carries its user and role as an
//! attachment, so presence and permissions survive eviction.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use edgechat_core::auth::handshake::SUBPROTOCOL;
use edgechat_core::backlog::{Backlog, BacklogLimits};
use edgechat_core::frames::{binary_frame_error, parse_client_frame, ClientFrame, ServerFrame};
use edgechat_core::identity::{
    decode_header, Identity, IDENTITY_HEADER, ROLE_HEADER, ROOM_HEADER, ROOM_INFO_HEADER,
};
use edgechat_core::mentions::preview;
use edgechat_core::model::{Message, Notification, Role, Room as RoomInfo};
use edgechat_core::presence::{self, Online, PresenceBuffer};
use edgechat_core::problem::{status_of, Problem};
use edgechat_core::room::{
    Actor, Immediate, Limits, Outcome, Refusal, Request as Write_, RoomMachine, Write,
};
use edgechat_core::Timestamp;
use futures_channel::oneshot;
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Headers, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

use crate::faults::{self, StoreFault};
use crate::tail::Tail;
use crate::{hubs, journal};

/// At most one unread poke per room per this interval.
const UNREAD_INTERVAL_MS: i64 = 1000;
/// At most one `typing` frame per user per this interval.
const TYPING_INTERVAL_MS: i64 = 500;
/// Messages per step of a resume replay.
const REPLAY_PAGE: u32 = 500;
/// Close code for a socket whose user left or was removed from the room.
const CLOSE_REMOVED: u16 = 4403;
/// Close code for a socket that stopped reading (see `core::backlog`).
const CLOSE_NOT_READING: u16 = 4408;

/// What a socket carries through hibernation.
#[derive(Clone, Serialize, Deserialize)]
struct SocketMeta {
    who: Identity,
    role: Role,
    /// Tells this socket apart from the user's others (empty on sockets
    /// accepted before ids existed: those are never closed as stuck).
    #[serde(default)]
    sid: String,
    /// Closed by the room as not reading; its close event finds nothing to do.
    #[serde(default)]
    dropped: bool,
}

impl SocketMeta {
    fn actor(&self) -> Actor {
        Actor {
            who: self.who.clone(),
            role: self.role,
        }
    }
}

/// Who is waiting for a write's outcome.
enum Waiter {
    Socket(WebSocket),
    Http(oneshot::Sender<Answer>),
    Nobody,
}

/// What an HTTP writer gets back.
enum Answer {
    Created(Message),
    Existing(Message),
    Done(Option<Message>),
    Refused(Refusal),
}

struct Loaded {
    machine: RoomMachine<Waiter>,
    tail: Tail,
}

#[durable_object]
pub struct Room {
    state: State,
    env: Env,
    /// Loaded lazily: after hibernation the object is rebuilt by `new`,
    /// which cannot await.
    loaded: RefCell<Option<Loaded>>,
    flushing: Cell<bool>,
    presence: RefCell<PresenceBuffer>,
    /// Who is online; rebuilt from the sockets' attachments after a wake-up.
    online: RefCell<Option<Online>>,
    /// When the next alarm fires, if one is set.
    alarm_at: Cell<Option<i64>>,
    typing: RefCell<HashMap<String, i64>>,
    /// Member ids, loaded when first needed and kept current by the Worker.
    members: RefCell<Option<HashSet<String>>>,
    unread_dirty: Cell<bool>,
    unread_pushed_at: Cell<i64>,
    /// Share of batches that fail on purpose (local development only).
    fault_percent: Cell<u32>,
    /// Report each D1 batch's time (local development only).
    timings: Cell<bool>,
    /// What each socket was sent since it was last heard from.
    backlog: RefCell<Backlog>,
    /// The sockets are due a check for ones that stopped reading.
    sweep_due: Cell<bool>,
}

fn now() -> Timestamp {
    Timestamp(worker::Date::now().as_millis() as i64)
}

fn send(ws: &WebSocket, text: &str) {
    // A socket that closed meanwhile is skipped; its close event cleans up.
    let _ = ws.send_with_str(text);
}

/// A number from the environment, if `name` holds one.
fn env_number<T: std::str::FromStr>(env: &Env, name: &str) -> Option<T> {
    env.var(name)
        .ok()
        .and_then(|v| v.to_string().trim().parse().ok())
}

fn limits(env: &Env) -> Limits {
    Limits {
        burst: env_number(env, "LIMIT_MSG_BURST").unwrap_or(10),
        per_second: env_number(env, "LIMIT_MSG_PER_SECOND").unwrap_or(5),
    }
}

fn backlog_limits(env: &Env) -> BacklogLimits {
    let defaults = BacklogLimits::default();
    BacklogLimits {
        // Zero or less would close every socket: such a value is ignored.
        max_frames: env_number(env, "LIMIT_SOCKET_BACKLOG_FRAMES")
            .filter(|n: &u64| *n > 0)
            .unwrap_or(defaults.max_frames),
        max_silence_ms: env_number(env, "LIMIT_SOCKET_SILENCE_SECONDS")
            .filter(|s: &i64| *s > 0)
            .map_or(defaults.max_silence_ms, |s| s.saturating_mul(1000)),
    }
}

/// A socket id: unique enough among one room's sockets.
fn socket_id() -> String {
    let part = || (worker::js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    format!("{:08x}{:08x}", part(), part())
}

fn problem(r: &Refusal) -> Result<Response> {
    let status = status_of(r.code);
    let headers = Headers::new();
    headers.set("content-type", "application/problem+json")?;
    if let Some(ms) = r.retry_after_ms {
        let secs = edgechat_core::auth::rate_limit::retry_after_secs(ms);
        headers.set("retry-after", &secs.to_string())?;
    }
    let body = Problem::new(status, r.code, r.message.clone()).to_json();
    Ok(Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(body.into_bytes()))
}

impl Room {
    /// Loads the room: its local store, reconciled with D1 in case a batch
    /// committed there but the object stopped before copying it.
    async fn load(&self, known: Option<(&str, &RoomInfo)>) -> Result<()> {
        if self.loaded.borrow().is_some() {
            return Ok(());
        }
        let sql = self.state.storage().sql();
        let (room_id, kind, name) = match known {
            Some((id, info)) => (id.to_owned(), info.kind, info.name.clone()),
            None => Tail::remembered(&sql)?.ok_or("room has no id yet")?,
        };
        let tail = Tail::open(sql, &room_id)?;
        tail.remember(kind, &name)?;
        self.fault_percent
            .set(faults::store_fault_percent(&self.env, &name));
        self.timings.set(faults::timings(&self.env));
        let db = self.env.d1("DB")?;
        let mut local = tail.last_seq()?;
        let committed = journal::committed_seq(&db, &room_id).await?;
        while local < committed {
            let missing = journal::after(&db, &room_id, local, REPLAY_PAGE).await?;
            let Some(last) = missing.last().map(|m| m.seq) else {
                break;
            };
            for m in &missing {
                tail.put(m)?;
            }
            local = last;
        }
        let mut slot = self.loaded.borrow_mut();
        if slot.is_none() {
            *slot = Some(Loaded {
                machine: RoomMachine::new(room_id, kind, local, limits(&self.env)),
                tail,
            });
        }
        Ok(())
    }

    fn sockets(&self) -> Vec<(WebSocket, SocketMeta)> {
        self.state
            .get_websockets()
            .into_iter()
            .filter_map(|ws| {
                let meta = ws.deserialize_attachment::<SocketMeta>().ok().flatten()?;
                (!meta.dropped).then_some((ws, meta))
            })
            .collect()
    }

    /// Runs `f` on the online index, building it from the open sockets
    /// (all but `closing`) if the room just woke up.
    fn with_online<R>(&self, closing: Option<&WebSocket>, f: impl FnOnce(&mut Online) -> R) -> R {
        let mut slot = self.online.borrow_mut();
        let online = slot.get_or_insert_with(|| {
            let who: Vec<Identity> = self
                .sockets()
                .into_iter()
                .filter(|(ws, _)| Some(ws) != closing)
                .map(|(_, m)| m.who)
                .collect();
            Online::from_sockets(&who)
        });
        f(online)
    }

    fn broadcast(&self, frame: &ServerFrame, except: Option<&WebSocket>) {
        let text = frame.to_json();
        for ws in self.state.get_websockets() {
            if except != Some(&ws) {
                send(&ws, &text);
            }
        }
        if self.backlog.borrow_mut().sent() {
            self.sweep_due.set(true);
        }
    }

    /// Closes the sockets that stopped reading, when a check is due, so
    /// what the runtime queues for them stops growing; the room goes on.
    async fn sweep_stuck(&self) -> Result<()> {
        if !self.sweep_due.replace(false) {
            return Ok(());
        }
        let t = now();
        for (ws, mut meta) in self.sockets() {
            if meta.sid.is_empty() || !self.backlog.borrow_mut().stuck(&meta.sid, t) {
                continue;
            }
            let _ = ws.close(
                Some(CLOSE_NOT_READING),
                Some("not reading: read your frames, and ping when idle"),
            );
            // Its close event, if one ever comes, then finds nothing to do.
            self.forget_socket(&ws, &meta);
            meta.dropped = true;
            ws.serialize_attachment(&meta)?;
        }
        self.schedule_presence().await
    }

    /// Takes a write; answers at once or queues it and drives the batches.
    async fn submit(&self, waiter: Waiter, actor: &Actor, write: Write_) -> Result<()> {
        let immediate = {
            let mut loaded = self.loaded.borrow_mut();
            let Some(l) = loaded.as_mut() else {
                return Err("room not loaded".into());
            };
            l.machine.submit(now(), waiter, actor, write, &l.tail)
        };
        match immediate {
            Some((waiter, answer)) => {
                answer_now(waiter, answer);
                Ok(())
            }
            None => self.drive().await,
        }
    }

    /// Stores batches until the queue is empty. Only one call drives at a
    /// time; writes arriving meanwhile join the next batch.
    async fn drive(&self) -> Result<()> {
        if self.flushing.replace(true) {
            return Ok(());
        }
        let result = self.drive_batches().await;
        self.flushing.set(false);
        result
    }

    async fn drive_batches(&self) -> Result<()> {
        let db = self.env.d1("DB")?;
        loop {
            let (writes, room_id) = {
                let mut loaded = self.loaded.borrow_mut();
                let Some(l) = loaded.as_mut() else {
                    return Ok(());
                };
                match l.machine.start_batch(&l.tail) {
                    Some(w) => (w, l.machine.room_id().to_owned()),
                    None => return Ok(()),
                }
            };
            let (committed, notified) = if writes.is_empty() {
                (true, Vec::new())
            } else {
                let started = now().millis();
                let stored = self.store(&db, &room_id, &writes).await;
                if self.timings.get() {
                    worker::console_warn!(
                        "edgechat-timing d1-batch writes={} ms={}",
                        writes.len(),
                        now().millis() - started
                    );
                }
                stored
            };
            let outcomes = {
                let mut loaded = self.loaded.borrow_mut();
                let Some(l) = loaded.as_mut() else {
                    return Ok(());
                };
                if committed {
                    if let Err(e) = l.tail.apply(&writes) {
                        // D1 has the batch; the next wake-up copies it again.
                        worker::console_error!("room store write failed: {e}");
                    }
                }
                l.machine.finish_batch(committed)
            };
            // Writers hear first; what follows (hub pushes, the unread
            // alarm) must never keep an ack from going out.
            self.deliver(outcomes);
            if let Err(e) = self.sweep_stuck().await {
                worker::console_error!("checking for stuck sockets: {e}");
            }
            if committed {
                if let Err(e) = self.after_commit(&room_id, &writes, notified).await {
                    worker::console_error!("after a commit: {e}");
                }
            }
        }
    }

    /// Tells the hubs what a committed batch means for their users: new
    /// notifications, and unread counts (coalesced per room per second).
    async fn after_commit(
        &self,
        room_id: &str,
        writes: &[Write],
        notified: Vec<(u64, journal::Notified)>,
    ) -> Result<()> {
        for (seq, n) in notified {
            let Some((m, notify)) = writes.iter().find_map(|w| match w {
                Write::Insert(m, notify) if m.seq == seq => Some((m, notify)),
                _ => None,
            }) else {
                continue;
            };
            let notification = Notification {
                id: n.id,
                kind: n.kind,
                room_id: room_id.to_owned(),
                seq,
                from: notify.from.clone(),
                preview: preview(&m.body),
                created_at: m.created_at,
                read: false,
            };
            hubs::notify(&self.env, &n.user_id, &notification);
        }
        for w in writes {
            if let Write::Read { user_id, .. } = w {
                hubs::unread(&self.env, user_id, room_id);
            }
        }
        if writes.iter().any(|w| matches!(w, Write::Insert(..))) {
            self.unread_dirty.set(true);
            let due = self.unread_pushed_at.get() + UNREAD_INTERVAL_MS;
            self.schedule_alarm(due.max(now().millis())).await?;
        }
        Ok(())
    }

    /// Pokes the hub of every member: the room got messages. At most once a
    /// second, however busy the room is.
    async fn push_unread(&self) -> Result<()> {
        let room_id = {
            let loaded = self.loaded.borrow();
            match loaded.as_ref() {
                Some(l) => l.machine.room_id().to_owned(),
                None => return Ok(()),
            }
        };
        if self.members.borrow().is_none() {
            let db = self.env.d1("DB")?;
            let ids = journal::member_ids(&db, &room_id).await?;
            self.members
                .borrow_mut()
                .get_or_insert_with(|| ids.into_iter().collect());
        }
        self.unread_dirty.set(false);
        self.unread_pushed_at.set(now().millis());
        if let Some(members) = self.members.borrow().as_ref() {
            for user_id in members {
                hubs::unread(&self.env, user_id, &room_id);
            }
        }
        Ok(())
    }

    /// Makes sure an alarm fires by `at` (ms since the epoch).
    async fn schedule_alarm(&self, at: i64) -> Result<()> {
        if self.alarm_at.get().is_some_and(|t| t <= at) {
            return Ok(());
        }
        self.alarm_at.set(Some(at));
        let delay = (at - now().millis()).max(0) as u64;
        // An offset from now (an i64 here would also be read as one).
        self.state
            .storage()
            .set_alarm(std::time::Duration::from_millis(delay))
            .await
    }

    /// Stores a batch in D1. When the call fails, D1 is asked whether the
    /// batch committed anyway (a lost answer), so nothing committed is
    /// refused and nothing refused is kept.
    async fn store(
        &self,
        db: &worker::D1Database,
        room_id: &str,
        writes: &[Write],
    ) -> (bool, Vec<(u64, journal::Notified)>) {
        let fault = faults::roll(self.fault_percent.get());
        let result = match fault {
            StoreFault::FailBefore => Err("injected fault: batch not stored".into()),
            StoreFault::None | StoreFault::LoseAnswer => {
                journal::store(db, room_id, writes, now()).await
            }
        };
        let e = match result {
            Ok(notified) if fault == StoreFault::None => return (true, notified),
            Ok(_) => "injected fault: answer lost after commit".into(),
            Err(e) => e,
        };
        worker::console_error!("storing a batch failed: {e}");
        let newest = journal::newest_insert(writes);
        // Committed after all: the notifications were stored, but which
        // ones is unknown, so no pushes; users catch up from D1.
        let committed = match (newest, journal::committed_seq(db, room_id).await) {
            (Some(seq), Ok(committed)) => committed >= seq,
            _ => false,
        };
        (committed, Vec::new())
    }

    fn deliver(&self, outcomes: Vec<(Vec<Waiter>, Outcome)>) {
        for (waiters, outcome) in outcomes {
            match outcome {
                Outcome::Committed(Write::Insert(m, _)) => {
                    let ack = ServerFrame::Ack {
                        client_id: m.client_id.clone(),
                        seq: m.seq,
                    }
                    .to_json();
                    let mut answered_http = false;
                    for w in waiters {
                        match w {
                            Waiter::Socket(ws) => send(&ws, &ack),
                            Waiter::Http(tx) => {
                                let answer = if answered_http {
                                    Answer::Existing(m.clone())
                                } else {
                                    Answer::Created(m.clone())
                                };
                                answered_http = true;
                                let _ = tx.send(answer);
                            }
                            Waiter::Nobody => {}
                        }
                    }
                    self.broadcast(&ServerFrame::Message { message: m }, None);
                }
                Outcome::Committed(Write::Edit(m)) => {
                    for w in waiters {
                        if let Waiter::Http(tx) = w {
                            let _ = tx.send(Answer::Done(Some(m.clone())));
                        }
                    }
                    self.broadcast(&ServerFrame::Edited { message: m }, None);
                }
                Outcome::Committed(Write::Delete(m)) => {
                    for w in waiters {
                        if let Waiter::Http(tx) = w {
                            let _ = tx.send(Answer::Done(None));
                        }
                    }
                    self.broadcast(&ServerFrame::Deleted { seq: m.seq }, None);
                }
                Outcome::Committed(Write::Read { .. }) => {
                    for w in waiters {
                        if let Waiter::Http(tx) = w {
                            let _ = tx.send(Answer::Done(None));
                        }
                    }
                }
                Outcome::Refused(r) => {
                    for w in waiters {
                        answer_now(w, Immediate::Refused(r.clone()));
                    }
                }
            }
        }
    }

    async fn schedule_presence(&self) -> Result<()> {
        if self.presence.borrow().is_empty() {
            return Ok(());
        }
        let interval = presence::interval_ms(self.with_online(None, |o| o.count()));
        self.schedule_alarm(now().millis() + interval).await
    }

    async fn upgrade(&self, req: &Request, who: Identity, room_id: &str) -> Result<Response> {
        let info: Option<RoomInfo> = req
            .headers()
            .get(ROOM_INFO_HEADER)?
            .and_then(|h| decode_header(Some(&h)));
        let Some(info) = info else {
            return Response::error("missing room details", 400);
        };
        let role = info.my_role.unwrap_or(Role::Member);
        let after_seq: Option<u64> = req
            .url()?
            .query_pairs()
            .find(|(k, _)| k == "after_seq")
            .and_then(|(_, v)| v.parse().ok());
        self.load(Some((room_id, &info))).await?;

        // The index is built (if needed) before the new socket is accepted,
        // so the new socket is counted exactly once.
        self.with_online(None, |_| ());
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        let meta = SocketMeta {
            who: who.clone(),
            role,
            sid: socket_id(),
            dropped: false,
        };
        pair.server.serialize_attachment(&meta)?;
        let first_socket = self.with_online(None, |o| o.connect(&who));

        // Welcome, then the replay, in one synchronous stretch: nothing can
        // be broadcast in between, so the replay joins live traffic with no
        // gap and no duplicate.
        {
            let loaded = self.loaded.borrow();
            let Some(l) = loaded.as_ref() else {
                return Response::error("room not loaded", 500);
            };
            let last_seq = l.machine.last_seq();
            let welcome = ServerFrame::Welcome {
                room: RoomInfo { last_seq, ..info },
                me: who.to_user(),
                last_seq,
                online: self.with_online(None, |o| o.welcome_list()),
                online_count: self.with_online(None, |o| o.count()),
            };
            send(&pair.server, &welcome.to_json());
            if let Some(mut after) = after_seq {
                while after < last_seq {
                    let page = l.tail.after(after, REPLAY_PAGE)?;
                    let Some(last) = page.last().map(|m| m.seq) else {
                        break;
                    };
                    for m in page {
                        send(&pair.server, &ServerFrame::Message { message: m }.to_json());
                    }
                    after = last;
                }
            }
        }
        if first_socket {
            self.presence.borrow_mut().joined(who.to_user());
            self.schedule_presence().await?;
        }

        let resp = Response::from_websocket(pair.client)?;
        if req.headers().get("sec-websocket-protocol")?.is_some() {
            let headers = Headers::new();
            headers.set("sec-websocket-protocol", SUBPROTOCOL)?;
            return Ok(resp.with_headers(headers));
        }
        Ok(resp)
    }

    /// An HTTP write from the Worker (`POST /send`, `/edit`, `/delete`).
    async fn http_write(
        &self,
        mut req: Request,
        who: Identity,
        room_id: &str,
        kind: &str,
    ) -> Result<Response> {
        #[derive(Deserialize)]
        struct Input {
            #[serde(default)]
            client_id: String,
            #[serde(default)]
            body: String,
            #[serde(default)]
            reply_to: Option<u64>,
            #[serde(default)]
            seq: u64,
        }
        let role = req
            .headers()
            .get(ROLE_HEADER)?
            .and_then(|r| Role::parse(&r))
            .unwrap_or(Role::Member);
        let info: Option<RoomInfo> = req
            .headers()
            .get(ROOM_INFO_HEADER)?
            .and_then(|h| decode_header(Some(&h)));
        let b: Input = req.json().await?;
        let write = match kind {
            "send" => Write_::Send {
                client_id: b.client_id,
                body: b.body,
                reply_to: b.reply_to,
            },
            "edit" => Write_::Edit {
                seq: b.seq,
                body: b.body,
            },
            _ => Write_::Delete { seq: b.seq },
        };
        self.load(info.as_ref().map(|i| (room_id, i))).await?;
        let (tx, rx) = oneshot::channel();
        self.submit(Waiter::Http(tx), &Actor { who, role }, write)
            .await?;
        match rx.await {
            Ok(Answer::Created(m)) => Ok(Response::from_json(&m)?.with_status(201)),
            Ok(Answer::Existing(m) | Answer::Done(Some(m))) => {
                Ok(Response::from_json(&m)?.with_status(200))
            }
            Ok(Answer::Done(None)) => Ok(Response::empty()?.with_status(204)),
            Ok(Answer::Refused(r)) => problem(&r),
            Err(_) => problem(&Refusal {
                code: edgechat_core::ErrorCode::Internal,
                message: "the room could not finish the write; retry".into(),
                client_id: None,
                retry_after_ms: None,
            }),
        }
    }

    /// A page of history from the room's own copy: no D1 round trip while
    /// the room is awake. The Worker has checked the caller may read it.
    async fn history(&self, req: &Request, room_id: &str) -> Result<Response> {
        #[derive(Serialize)]
        struct Page {
            messages: Vec<Message>,
            has_more: bool,
        }
        let info: Option<RoomInfo> = req
            .headers()
            .get(ROOM_INFO_HEADER)?
            .and_then(|h| decode_header(Some(&h)));
        let url = req.url()?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        let page = match (param("before"), param("after")) {
            (Some(b), _) => journal::Page::Before(b),
            (None, Some(a)) => journal::Page::After(a),
            (None, None) => journal::Page::Newest,
        };
        let limit = param("limit").map_or(50, |l| l.clamp(1, 100) as u32);
        self.load(info.as_ref().map(|i| (room_id, i))).await?;
        let loaded = self.loaded.borrow();
        let Some(l) = loaded.as_ref() else {
            return Response::error("room not loaded", 500);
        };
        let (messages, has_more) = l.tail.page(page, limit)?;
        Response::from_json(&Page { messages, has_more })
    }

    /// Closes `user_id`'s sockets: they left or were removed.
    fn remove_user(&self, user_id: &str) {
        for (ws, meta) in self.sockets() {
            if meta.who.id == user_id {
                let _ = ws.close(Some(CLOSE_REMOVED), Some("no longer a member of this room"));
            }
        }
        if let Some(user) = self.with_online(None, |o| o.remove(user_id)) {
            self.presence.borrow_mut().left(user);
        }
    }

    async fn on_frame(&self, ws: WebSocket, meta: &SocketMeta, text: &str) -> Result<()> {
        let frame = match parse_client_frame(text) {
            Ok(f) => f,
            Err(e) => {
                send(&ws, &e.to_frame().to_json());
                return Ok(());
            }
        };
        let write = match frame {
            ClientFrame::Ping => {
                send(&ws, &ServerFrame::Pong.to_json());
                return Ok(());
            }
            ClientFrame::Typing => {
                let t = now().millis();
                let due = {
                    let mut typing = self.typing.borrow_mut();
                    let last = typing.get(&meta.who.id).copied().unwrap_or(i64::MIN);
                    let due = t.saturating_sub(last) >= TYPING_INTERVAL_MS;
                    if due {
                        typing.insert(meta.who.id.clone(), t);
                    }
                    due
                };
                if due {
                    self.broadcast(
                        &ServerFrame::Typing {
                            user: meta.who.to_user(),
                        },
                        Some(&ws),
                    );
                }
                return Ok(());
            }
            ClientFrame::Send {
                client_id,
                body,
                reply_to,
            } => Write_::Send {
                client_id,
                body,
                reply_to,
            },
            ClientFrame::Edit { seq, body } => Write_::Edit { seq, body },
            ClientFrame::Delete { seq } => Write_::Delete { seq },
            ClientFrame::Read { seq } => {
                return self
                    .submit(Waiter::Nobody, &meta.actor(), Write_::Read { seq })
                    .await;
            }
        };
        self.submit(Waiter::Socket(ws), &meta.actor(), write).await
    }
}

fn answer_now(waiter: Waiter, answer: Immediate) {
    match (waiter, answer) {
        (Waiter::Socket(ws), Immediate::Duplicate(m)) => {
            send(
                &ws,
                &ServerFrame::Ack {
                    client_id: m.client_id,
                    seq: m.seq,
                }
                .to_json(),
            );
        }
        (Waiter::Socket(ws), Immediate::Refused(r)) => send(&ws, &r.to_frame().to_json()),
        (Waiter::Http(tx), Immediate::Duplicate(m)) => {
            let _ = tx.send(Answer::Existing(*m));
        }
        (Waiter::Http(tx), Immediate::AlreadyDeleted) => {
            let _ = tx.send(Answer::Done(None));
        }
        (Waiter::Http(tx), Immediate::Refused(r)) => {
            let _ = tx.send(Answer::Refused(r));
        }
        (Waiter::Socket(_) | Waiter::Nobody, _) => {}
    }
}

impl DurableObject for Room {
    fn new(state: State, env: Env) -> Self {
        let backlog = Backlog::new(backlog_limits(&env));
        Self {
            state,
            env,
            loaded: RefCell::new(None),
            flushing: Cell::new(false),
            presence: RefCell::new(PresenceBuffer::default()),
            online: RefCell::new(None),
            alarm_at: Cell::new(None),
            typing: RefCell::new(HashMap::new()),
            members: RefCell::new(None),
            unread_dirty: Cell::new(false),
            unread_pushed_at: Cell::new(0),
            fault_percent: Cell::new(0),
            timings: Cell::new(false),
            backlog: RefCell::new(backlog),
            sweep_due: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        // Only the Worker reaches this object; it always names the room.
        let Some(room_id) = req.headers().get(ROOM_HEADER)? else {
            return Response::error("missing room", 400);
        };
        let path = req.path();
        if path == "/kick" {
            #[derive(Deserialize)]
            struct Kick {
                user_id: String,
            }
            let kick: Kick = req.json().await?;
            if let Some(members) = self.members.borrow_mut().as_mut() {
                members.remove(&kick.user_id);
            }
            self.remove_user(&kick.user_id);
            self.schedule_presence().await?;
            return Response::empty().map(|r| r.with_status(204));
        }
        if path == "/member" {
            #[derive(Deserialize)]
            struct Joined {
                user_id: String,
            }
            let joined: Joined = req.json().await?;
            if let Some(members) = self.members.borrow_mut().as_mut() {
                members.insert(joined.user_id);
            }
            return Response::empty().map(|r| r.with_status(204));
        }
        let Some(who) = Identity::from_header(req.headers().get(IDENTITY_HEADER)?.as_deref())
        else {
            return Response::error("missing identity", 400);
        };
        match path.as_str() {
            "/ws" => self.upgrade(&req, who, &room_id).await,
            "/history" => self.history(&req, &room_id).await,
            "/send" => self.http_write(req, who, &room_id, "send").await,
            "/edit" => self.http_write(req, who, &room_id, "edit").await,
            "/delete" => self.http_write(req, who, &room_id, "delete").await,
            _ => Response::error("not found", 404),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        self.alarm_at.set(None);
        let frame = if self.presence.borrow().is_empty() {
            None
        } else {
            let count = self.with_online(None, |o| o.count());
            self.presence.borrow_mut().take_frame(count)
        };
        if let Some(frame) = frame {
            self.broadcast(&frame, None);
        }
        if self.unread_dirty.get() {
            let due = self.unread_pushed_at.get() + UNREAD_INTERVAL_MS;
            if now().millis() >= due {
                self.load(None).await?;
                self.push_unread().await?;
            } else {
                self.schedule_alarm(due).await?;
            }
        }
        Response::empty()
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let Some(meta) = ws.deserialize_attachment::<SocketMeta>()? else {
            ws.close(Some(1011), Some("socket lost its identity"))?;
            return Ok(());
        };
        if meta.dropped {
            return Ok(());
        }
        self.backlog.borrow_mut().heard(&meta.sid, now());
        match message {
            WebSocketIncomingMessage::String(text) => {
                self.load(None).await?;
                self.on_frame(ws, &meta, &text).await
            }
            WebSocketIncomingMessage::Binary(bytes) => {
                send(&ws, &binary_frame_error(bytes.len()).to_frame().to_json());
                Ok(())
            }
        }
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        crate::answer_close(&ws, code);
        self.socket_gone(&ws).await
    }

    async fn websocket_error(&self, ws: WebSocket, _error: worker::Error) -> Result<()> {
        self.socket_gone(&ws).await
    }
}

impl Room {
    async fn socket_gone(&self, ws: &WebSocket) -> Result<()> {
        let Some(meta) = ws.deserialize_attachment::<SocketMeta>().ok().flatten() else {
            return Ok(());
        };
        if meta.dropped {
            return Ok(());
        }
        self.forget_socket(ws, &meta);
        self.schedule_presence().await
    }

    /// Takes a closing socket out of the online index and the backlog, and
    /// queues a `left` presence change if it was its user's last socket.
    fn forget_socket(&self, ws: &WebSocket, meta: &SocketMeta) {
        self.backlog.borrow_mut().forget(&meta.sid);
        let woke_now = self.online.borrow().is_none();
        let left = if woke_now {
            // Rebuilt without this socket: the user left if nothing of theirs remains.
            let still_here = self.with_online(Some(ws), |o| o.contains(&meta.who.id));
            (!still_here).then(|| meta.who.to_user())
        } else {
            self.with_online(Some(ws), |o| o.disconnect(&meta.who.id))
        };
        if let Some(user) = left {
            self.presence.borrow_mut().left(user);
        }
    }
}
