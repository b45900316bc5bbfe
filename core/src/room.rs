//! The room state machine: the single writer's decisions, without I/O.
//!
//! The Room Durable Object submits every write (send, edit, delete, read)
//! here. Writes queue while a batch is being stored; [`RoomMachine::start_batch`]
//! turns the queue into one batch (assigning `seq`s strictly +1) and
//! [`RoomMachine::finish_batch`] reports, per waiter, what became of its
//! write once the store answered. Nothing is acknowledged before its batch
//! is durable, and a failed batch assigns no `seq` for good: the next batch
//! starts again from the last committed one, so `seq`s never skip.

use std::collections::HashMap;

use crate::bucket::TokenBucket;
use crate::frames::ServerFrame;
use crate::identity::Identity;
use crate::mentions::mentions;
use crate::model::{Author, Message, Role, RoomKind, User};
use crate::validate::{ClientMsgId, MessageBody};
use crate::{ErrorCode, Timestamp};

/// The most writes stored in one batch.
pub const MAX_BATCH: usize = 128;

/// The per-user, per-room token bucket for sends, edits and deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bucket size.
    pub burst: u32,
    /// Refill per second.
    pub per_second: u32,
}

/// Who is writing, as the Worker verified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user.
    pub who: Identity,
    /// Their role in the room.
    pub role: Role,
}

/// A write a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Post a message.
    Send {
        /// Idempotency key.
        client_id: String,
        /// Text before trimming.
        body: String,
        /// The `seq` answered.
        reply_to: Option<u64>,
    },
    /// Replace one's own message's text.
    Edit {
        /// The message.
        seq: u64,
        /// New text before trimming.
        body: String,
    },
    /// Delete a message (author, or owner/admin).
    Delete {
        /// The message.
        seq: u64,
    },
    /// Move the actor's read position forward.
    Read {
        /// The newest `seq` read.
        seq: u64,
    },
}

/// Who a new message may notify. The store keeps only current members of
/// the room, never the author, and at most one notification per user (a
/// DM first, then a reply, then a mention).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    /// The author, as `Notification.from`.
    pub from: User,
    /// The room is a DM: the other party is notified of every message.
    pub dm: bool,
    /// The author of the message replied to.
    pub reply_to_author: Option<String>,
    /// Lowercase usernames mentioned in the body.
    pub mentions: Vec<String>,
}

/// One durable change, in the order its batch applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// A new message, and whom it may notify.
    Insert(Message, Box<Notify>),
    /// A message with its new body.
    Edit(Message),
    /// A message as deleted (`body: ""`, `deleted: true`).
    Delete(Message),
    /// A read position: `max(current, seq)`.
    Read {
        /// Whose.
        user_id: String,
        /// Up to where.
        seq: u64,
    },
}

/// A refused write: what the `error` frame or problem document says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Machine name.
    pub code: ErrorCode,
    /// Human-readable reason.
    pub message: String,
    /// The refused send's `client_id`.
    pub client_id: Option<String>,
    /// For `rate_limited`.
    pub retry_after_ms: Option<u64>,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>, client_id: Option<&str>) -> Self {
        Self {
            code,
            message: message.into(),
            client_id: client_id.map(str::to_owned),
            retry_after_ms: None,
        }
    }

    /// The `error` frame for this refusal.
    #[must_use]
    pub fn to_frame(&self) -> ServerFrame {
        ServerFrame::Error {
            code: self.code,
            message: self.message.clone(),
            client_id: self.client_id.clone(),
            retry_after_ms: self.retry_after_ms,
        }
    }
}

/// An answer given at once, without waiting for a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Immediate {
    /// A repeated `client_id`: the original message, acknowledged again.
    Duplicate(Box<Message>),
    /// Deleting a deleted message: nothing to do.
    AlreadyDeleted,
    /// Refused.
    Refused(Refusal),
}

/// What became of a queued write once its batch was stored (or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Durable; carry it out (ack, broadcast).
    Committed(Write),
    /// Not stored; the client may retry (the same `client_id` is safe).
    Refused(Refusal),
}

/// The committed state the machine consults: the room's stored messages.
pub trait History {
    /// The message `author_id` sent with `client_id`, if stored.
    fn by_client_id(&self, author_id: &str, client_id: &str) -> Option<Message>;
    /// The stored message at `seq`.
    fn by_seq(&self, seq: u64) -> Option<Message>;
}

#[derive(Debug)]
enum Op {
    Send {
        author: User,
        client_id: String,
        body: String,
        reply_to: Option<u64>,
        at: Timestamp,
    },
    Edit {
        actor_id: String,
        seq: u64,
        body: String,
        at: Timestamp,
    },
    Delete {
        actor_id: String,
        moderator: bool,
        seq: u64,
    },
    Read {
        user_id: String,
        seq: u64,
    },
}

/// What a checked write becomes.
enum Checked {
    /// A new write for the queue.
    Queue(Op),
    /// A repeat of this `client_id`, already queued or in flight: wait with it.
    Join(String),
}

#[derive(Debug)]
struct Queued<W> {
    waiters: Vec<W>,
    op: Op,
}

#[derive(Debug)]
struct InFlight<W> {
    waiters: Vec<W>,
    result: Result<Write, Refusal>,
    /// For a send: who and which key, so repeats can join the waiters.
    key: Option<(String, String)>,
}

/// One room's ordering state. `W` is whatever the glue needs to answer a
/// writer (a socket, a pending HTTP response).
#[derive(Debug)]
pub struct RoomMachine<W> {
    room_id: String,
    kind: RoomKind,
    last_seq: u64,
    limits: Limits,
    buckets: HashMap<String, TokenBucket>,
    queue: Vec<Queued<W>>,
    in_flight: Vec<InFlight<W>>,
}

impl<W> RoomMachine<W> {
    /// A room of `kind` whose newest stored `seq` is `last_seq` (0 for a
    /// new room).
    #[must_use]
    pub fn new(room_id: impl Into<String>, kind: RoomKind, last_seq: u64, limits: Limits) -> Self {
        Self {
            room_id: room_id.into(),
            kind,
            last_seq,
            limits,
            buckets: HashMap::new(),
            queue: Vec::new(),
            in_flight: Vec::new(),
        }
    }

    /// The room's id.
    #[must_use]
    pub fn room_id(&self) -> &str {
        &self.room_id
    }

    /// The newest committed `seq`.
    #[must_use]
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Whether writes wait to be stored.
    #[must_use]
    pub fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    /// The newest `seq` handed out, stored or being stored.
    fn highest_assigned(&self) -> u64 {
        self.last_seq
            + self
                .in_flight
                .iter()
                .filter(|e| matches!(e.result, Ok(Write::Insert(..))))
                .count() as u64
    }

    fn take_token(
        &mut self,
        now: Timestamp,
        user_id: &str,
        client_id: Option<&str>,
    ) -> Result<(), Refusal> {
        let Limits { burst, per_second } = self.limits;
        let bucket = self
            .buckets
            .entry(user_id.to_owned())
            .or_insert_with(|| TokenBucket::full(burst, now.millis()));
        bucket
            .take(now.millis(), burst, per_second)
            .map_err(|ms| Refusal {
                retry_after_ms: Some(ms),
                ..Refusal::new(
                    ErrorCode::RateLimited,
                    format!("slow down: retry in {ms} ms"),
                    client_id,
                )
            })
    }

    /// Takes a write from `actor`. Returns the waiter with an immediate
    /// answer, or `None` when the write is queued for the next batch (or
    /// joined an identical send already queued or in flight).
    pub fn submit(
        &mut self,
        now: Timestamp,
        waiter: W,
        actor: &Actor,
        request: Request,
        history: &impl History,
    ) -> Option<(W, Immediate)> {
        let queued = match request {
            Request::Send {
                client_id,
                body,
                reply_to,
            } => self.check_send(now, actor, client_id, &body, reply_to, history),
            Request::Edit { seq, body } => self.check_edit(now, actor, seq, &body, history),
            Request::Delete { seq } => self.check_delete(now, actor, seq, history),
            Request::Read { seq } => Ok(Checked::Queue(Op::Read {
                user_id: actor.who.id.clone(),
                seq: seq.min(self.highest_assigned()),
            })),
        };
        match queued {
            Err(answer) => Some((waiter, answer)),
            Ok(Checked::Queue(op)) => {
                self.enqueue(waiter, op);
                None
            }
            Ok(Checked::Join(client_id)) => {
                if let Some(waiters) = self.pending_send(&actor.who.id, &client_id) {
                    waiters.push(waiter);
                }
                None
            }
        }
    }

    fn enqueue(&mut self, waiter: W, op: Op) {
        // Reads are coalesced: one queued position per user, the highest.
        if let Op::Read { user_id, seq } = &op {
            for q in &mut self.queue {
                if let Op::Read { user_id: u, seq: s } = &mut q.op {
                    if u == user_id {
                        *s = (*s).max(*seq);
                        q.waiters.push(waiter);
                        return;
                    }
                }
            }
        }
        self.queue.push(Queued {
            waiters: vec![waiter],
            op,
        });
    }

    fn check_send(
        &mut self,
        now: Timestamp,
        actor: &Actor,
        client_id: String,
        body: &str,
        reply_to: Option<u64>,
        history: &impl History,
    ) -> Result<Checked, Immediate> {
        let cid = Some(client_id.as_str());
        let refuse = |code, msg: String| Immediate::Refused(Refusal::new(code, msg, cid));
        if let Err(e) = ClientMsgId::parse(&client_id) {
            return Err(refuse(ErrorCode::InvalidRequest, e.0));
        }
        // A repeat is answered with the original, whatever its body.
        if let Some(m) = history.by_client_id(&actor.who.id, &client_id) {
            return Err(Immediate::Duplicate(Box::new(m)));
        }
        if self.pending_send(&actor.who.id, &client_id).is_some() {
            return Ok(Checked::Join(client_id));
        }
        let body = match MessageBody::parse(body) {
            Ok(b) => b,
            Err(e) => return Err(refuse(ErrorCode::InvalidRequest, e.0)),
        };
        if let Some(r) = reply_to {
            if r == 0 || r > self.highest_assigned() {
                return Err(refuse(
                    ErrorCode::InvalidRequest,
                    format!("reply_to {r} is not a message in this room"),
                ));
            }
        }
        self.take_token(now, &actor.who.id, cid)
            .map_err(Immediate::Refused)?;
        Ok(Checked::Queue(Op::Send {
            author: actor.who.to_user(),
            client_id,
            body: body.into_string(),
            reply_to,
            at: now,
        }))
    }

    fn check_edit(
        &mut self,
        now: Timestamp,
        actor: &Actor,
        seq: u64,
        body: &str,
        history: &impl History,
    ) -> Result<Checked, Immediate> {
        let refused = Immediate::Refused;
        let body = MessageBody::parse(body)
            .map_err(|e| refused(Refusal::new(ErrorCode::InvalidRequest, e.0, None)))?;
        check_edit(history.by_seq(seq).as_ref(), seq, &actor.who.id).map_err(refused)?;
        self.take_token(now, &actor.who.id, None).map_err(refused)?;
        Ok(Checked::Queue(Op::Edit {
            actor_id: actor.who.id.clone(),
            seq,
            body: body.into_string(),
            at: now,
        }))
    }

    fn check_delete(
        &mut self,
        now: Timestamp,
        actor: &Actor,
        seq: u64,
        history: &impl History,
    ) -> Result<Checked, Immediate> {
        let refused = Immediate::Refused;
        let moderator = actor.role >= Role::Admin;
        if !check_delete(history.by_seq(seq).as_ref(), seq, &actor.who.id, moderator)
            .map_err(refused)?
        {
            return Err(Immediate::AlreadyDeleted);
        }
        self.take_token(now, &actor.who.id, None).map_err(refused)?;
        Ok(Checked::Queue(Op::Delete {
            actor_id: actor.who.id.clone(),
            moderator,
            seq,
        }))
    }

    fn pending_send(&mut self, author_id: &str, client_id: &str) -> Option<&mut Vec<W>> {
        let key = (author_id.to_owned(), client_id.to_owned());
        if let Some(e) = self
            .in_flight
            .iter_mut()
            .find(|e| e.key.as_ref() == Some(&key))
        {
            return Some(&mut e.waiters);
        }
        self.queue.iter_mut().find_map(|q| match &q.op {
            Op::Send {
                author,
                client_id: c,
                ..
            } if author.id == author_id && c == client_id => Some(&mut q.waiters),
            _ => None,
        })
    }

    /// Turns the queue into the next batch: assigns `seq`s and checks edits
    /// and deletes against the messages as they will be once the earlier
    /// writes of the batch are applied. Returns the writes to store, in
    /// order, or `None` when there is nothing to do or a batch is in flight.
    pub fn start_batch(&mut self, history: &impl History) -> Option<Vec<Write>> {
        if !self.in_flight.is_empty() || self.queue.is_empty() {
            return None;
        }
        let take = self.queue.len().min(MAX_BATCH);
        let ops: Vec<Queued<W>> = self.queue.drain(..take).collect();
        let mut next_seq = self.last_seq;
        // Messages changed earlier in this batch, by seq.
        let mut changed: HashMap<u64, Message> = HashMap::new();
        for Queued { waiters, op } in ops {
            let mut key = None;
            let result = match op {
                Op::Send {
                    author,
                    client_id,
                    body,
                    reply_to,
                    at,
                } => {
                    next_seq += 1;
                    key = Some((author.id.clone(), client_id.clone()));
                    let notify = Notify {
                        dm: self.kind == RoomKind::Dm,
                        reply_to_author: reply_to.and_then(|r| {
                            changed
                                .get(&r)
                                .cloned()
                                .or_else(|| history.by_seq(r))
                                .map(|m| m.author.id)
                        }),
                        mentions: mentions(&body),
                        from: author,
                    };
                    let message = Message {
                        id: format!("{}:{next_seq}", self.room_id),
                        room_id: self.room_id.clone(),
                        seq: next_seq,
                        client_id,
                        author: Author::from(&notify.from),
                        body,
                        created_at: at,
                        edited_at: None,
                        deleted: false,
                        reply_to,
                    };
                    changed.insert(next_seq, message.clone());
                    Ok(Write::Insert(message, Box::new(notify)))
                }
                Op::Edit {
                    actor_id,
                    seq,
                    body,
                    at,
                } => {
                    let current = changed.get(&seq).cloned().or_else(|| history.by_seq(seq));
                    check_edit(current.as_ref(), seq, &actor_id).map(|()| {
                        let mut m = current.unwrap_or_else(|| unreachable_message(seq));
                        m.body = body;
                        m.edited_at = Some(at);
                        changed.insert(seq, m.clone());
                        Write::Edit(m)
                    })
                }
                Op::Delete {
                    actor_id,
                    moderator,
                    seq,
                } => {
                    let current = changed.get(&seq).cloned().or_else(|| history.by_seq(seq));
                    match check_delete(current.as_ref(), seq, &actor_id, moderator) {
                        Err(r) => Err(r),
                        // Deleted earlier in this batch: the first delete answers for both.
                        Ok(false) => Ok(Write::Delete(
                            current.unwrap_or_else(|| unreachable_message(seq)),
                        )),
                        Ok(true) => {
                            let mut m = current.unwrap_or_else(|| unreachable_message(seq));
                            m.body = String::new();
                            m.deleted = true;
                            changed.insert(seq, m.clone());
                            Ok(Write::Delete(m))
                        }
                    }
                }
                Op::Read { user_id, seq } => Ok(Write::Read { user_id, seq }),
            };
            self.in_flight.push(InFlight {
                waiters,
                result,
                key,
            });
        }
        // Possibly empty when every write was refused: the waiters still get
        // their answers from `finish_batch`.
        Some(
            self.in_flight
                .iter()
                .filter_map(|e| e.result.as_ref().ok().cloned())
                .collect(),
        )
    }

    /// Reports the stored (`committed`) or failed batch: one outcome per
    /// waiter. A failed batch's sends get no `seq`: they are refused as
    /// `internal`, and a retry with the same `client_id` is safe.
    pub fn finish_batch(&mut self, committed: bool) -> Vec<(Vec<W>, Outcome)> {
        let entries = std::mem::take(&mut self.in_flight);
        if committed {
            for e in &entries {
                if let Ok(Write::Insert(m, _)) = &e.result {
                    self.last_seq = self.last_seq.max(m.seq);
                }
            }
        }
        entries
            .into_iter()
            .map(|e| {
                let outcome = match e.result {
                    Err(r) => Outcome::Refused(r),
                    Ok(w) if committed => Outcome::Committed(w),
                    Ok(w) => {
                        let client_id = match &w {
                            Write::Insert(m, _) => Some(m.client_id.as_str()),
                            _ => None,
                        };
                        Outcome::Refused(Refusal::new(
                            ErrorCode::Internal,
                            "the message could not be stored; retry (the same client_id is safe)",
                            client_id,
                        ))
                    }
                };
                (e.waiters, outcome)
            })
            .collect()
    }
}

fn unreachable_message(seq: u64) -> Message {
    // Only called after a check proved the message exists.
    Message {
        id: String::new(),
        room_id: String::new(),
        seq,
        client_id: String::new(),
        author: Author {
            id: String::new(),
            username: String::new(),
            display_name: String::new(),
        },
        body: String::new(),
        created_at: Timestamp(0),
        edited_at: None,
        deleted: false,
        reply_to: None,
    }
}

fn not_found(seq: u64) -> Refusal {
    Refusal::new(
        ErrorCode::NotFound,
        format!("no message {seq} in this room"),
        None,
    )
}

fn check_edit(current: Option<&Message>, seq: u64, actor_id: &str) -> Result<(), Refusal> {
    let m = current.ok_or_else(|| not_found(seq))?;
    if m.author.id != actor_id {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            "only the author edits a message",
            None,
        ));
    }
    if m.deleted {
        return Err(Refusal::new(
            ErrorCode::Conflict,
            "a deleted message cannot be edited",
            None,
        ));
    }
    Ok(())
}

/// `Ok(true)` to delete, `Ok(false)` if already deleted.
fn check_delete(
    current: Option<&Message>,
    seq: u64,
    actor_id: &str,
    moderator: bool,
) -> Result<bool, Refusal> {
    let m = current.ok_or_else(|| not_found(seq))?;
    if m.author.id != actor_id && !moderator {
        return Err(Refusal::new(
            ErrorCode::Forbidden,
            "only the author or a room owner or admin deletes a message",
            None,
        ));
    }
    Ok(!m.deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Store(Vec<Message>);

    impl History for Store {
        fn by_client_id(&self, author_id: &str, client_id: &str) -> Option<Message> {
            self.0
                .iter()
                .find(|m| m.author.id == author_id && m.client_id == client_id)
                .cloned()
        }
        fn by_seq(&self, seq: u64) -> Option<Message> {
            self.0.iter().find(|m| m.seq == seq).cloned()
        }
    }

    impl Store {
        fn apply(&mut self, writes: &[Write]) {
            for w in writes {
                match w {
                    Write::Insert(m, _) => self.0.push(m.clone()),
                    Write::Edit(m) | Write::Delete(m) => {
                        let slot = self.0.iter_mut().find(|x| x.seq == m.seq).unwrap();
                        *slot = m.clone();
                    }
                    Write::Read { .. } => {}
                }
            }
        }
    }

    const LIMITS: Limits = Limits {
        burst: 10,
        per_second: 5,
    };

    fn actor(name: &str, role: Role) -> Actor {
        Actor {
            who: Identity {
                id: format!("id-{name}"),
                username: name.into(),
                display_name: name.into(),
                created_at_ms: 0,
            },
            role,
        }
    }

    fn send(cid: &str, body: &str) -> Request {
        Request::Send {
            client_id: cid.into(),
            body: body.into(),
            reply_to: None,
        }
    }

    /// Runs one batch to completion against `store`; returns outcomes per waiter.
    fn commit(room: &mut RoomMachine<u32>, store: &mut Store) -> Vec<(Vec<u32>, Outcome)> {
        let writes = room.start_batch(store).expect("a batch");
        store.apply(&writes);
        room.finish_batch(true)
    }

    fn seqs(outcomes: &[(Vec<u32>, Outcome)]) -> Vec<u64> {
        outcomes
            .iter()
            .filter_map(|(_, o)| match o {
                Outcome::Committed(Write::Insert(m, _)) => Some(m.seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn queued_sends_commit_together_with_consecutive_seqs() {
        let mut store = Store::default();
        let mut room = RoomMachine::new("r", RoomKind::Room, 0, LIMITS);
        let ann = actor("ann", Role::Member);
        for i in 0..3 {
            assert!(room
                .submit(
                    Timestamp(1),
                    i,
                    &ann,
                    send(&format!("c{i}"), " hi "),
                    &store
                )
                .is_none());
        }
        let out = commit(&mut room, &mut store);
        assert_eq!(seqs(&out), [1, 2, 3]);
        assert_eq!(
            out.iter().map(|(w, _)| w.clone()).collect::<Vec<_>>(),
            [vec![0], vec![1], vec![2]]
        );
        assert_eq!(room.last_seq(), 3);
        let Outcome::Committed(Write::Insert(m, _)) = &out[0].1 else {
            panic!()
        };
        assert_eq!((m.body.as_str(), m.author.username.as_str()), ("hi", "ann"));
        room.submit(Timestamp(2), 9, &ann, send("c9", "next"), &store);
        assert_eq!(seqs(&commit(&mut room, &mut store)), [4]);
    }

    #[test]
    fn nothing_to_do_means_no_batch() {
        let store = Store::default();
        let mut room: RoomMachine<u32> = RoomMachine::new("r", RoomKind::Room, 5, LIMITS);
        assert!(room.start_batch(&store).is_none());
    }

    #[test]
    fn one_batch_at_a_time_and_arrivals_wait_for_the_next() {
        let mut store = Store::default();
        let mut room = RoomMachine::new("r", RoomKind::Room, 0, LIMITS);
        let ann = actor("ann", Role::Member);
        room.submit(Timestamp(1), 1, &ann, send("a", "x"), &store);
        let first = room.start_batch(&store).unwrap();
        room.submit(Timestamp(1), 2, &ann, send("b", "y"), &store);
        assert!(room.start_batch(&store).is_none(), "a batch is in flight");
        store.apply(&first);
        assert_eq!(seqs(&room.finish_batch(true)), [1]);
        assert_eq!(seqs(&commit(&mut room, &mut store)), [2]);
    }

    #[test]
    fn duplicates_never_make_a_second_message() {
        let mut store = Store::default();
        let mut room = RoomMachine::new("r", RoomKind::Room, 0, LIMITS);
        let ann = actor("ann", Role::Member);
        let bob = actor("bob", Role::Member);
        room.submit(Timestamp(1), 1, &ann, send("same", "first"), &store);
        // While queued: joins the same write.
        assert!(room
            .submit(Timestamp(1), 2, &ann, send("same", "other body"), &store)
            .is_none());
        let writes = room.start_batch(&store).unwrap();
        // While in flight: joins too.
        assert!(room
            .submit(Timestamp(1), 3, &ann, send("same", "x"), &store)
            .is_none());
        store.apply(&writes);
        let out = room.finish_batch(true);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, [1, 2, 3]);
        // Once stored: answered at once with the original.
        match room.submit(Timestamp(1), 4, &ann, send("same", ""), &store) {
            Some((4, Immediate::Duplicate(m))) => {
                assert_eq!((m.seq, m.body.as_str()), (1, "first"));
            }
            other => panic!("{other:?}"),
        }
        // Another author may reuse the key.
        assert!(room
            .submit(Timestamp(1), 5, &bob, send("same", "mine"), &store)
            .is_none());
        assert_eq!(seqs(&commit(&mut room, &mut store)), [2]);
    }

    #[test]
    fn a_failed_batch_consumes_no_seq() {
        let mut store = Store::default();
        let mut room = RoomMachine::new("r", RoomKind::Room, 7, LIMITS);
        let ann = actor("ann", Role::Member);
        room.submit(Timestamp(1), 1, &ann, send("a", "x"), &store);
        room.start_batch(&store).unwrap();
        let out = room.finish_batch(false);
        match &out[0].1 {
            Outcome::Refused(r) => {
                assert_eq!(r.code, ErrorCode::Internal);
                assert_eq!(r.client_id.as_deref(), Some("a"));
            }
            other @ Outcome::Committed(_) => panic!("{other:?}"),
        }
        assert_eq!(room.last_seq(), 7);
        room.submit(Timestamp(2), 2, &ann, send("a", "x"), &store);
        assert_eq!(seqs(&commit(&mut room, &mut store)), [8]);
    }

    #[test]
    fn rate_limit_refuses_with_retry_and_repeats_are_free() {
        let mut store = Store::default();
        let mut room = RoomMachine::new("r", RoomKind::Room, 0, LIMITS);
        let ann = actor("ann", Role::Member);
        for i in 0..10 {
            assert!(room
                .submit(Timestamp(0), i, &ann, send(&format!("c{i}"), "x"), &store)
                .is_none());
        }
        match room.submit(Timestamp(0), 10, &ann, send("c10", "x"), &store) {
            Some((10, Immediate::Refused(r))) => {
                assert_eq!(r.code, ErrorCode::RateLimited);
                assert_eq!(r.retry_after_ms, Some(200));
                assert_eq!(r.client_id.as_deref(), Some("c10"));
            }
            other => panic!("{other:?}"),
        }
        // A repeat of a queued send costs nothing.
        assert!(room
            .submit(Timestamp(0), 11, &ann, send("c3", "x"), &store)
            .is_none());
        // Others have their own bucket.
        assert!(room
            .submit(
                Timestamp(0),
                12,
                &actor("bob", Role::Member),
                send("b", "x"),
                &store
            )
            .is_none());
        assert_eq!(commit(&mut room, &mut store).len(), 11);
        assert!(room
            .submit(Timestamp(200), 13, &ann, send("c10", "x"), &store)
            .is_none());
    }

    #[test]
    fn invalid_sends_are_refused_with_their_client_id() {
        let store = Store::default();
        let mut room = RoomMachine::new("r", RoomKind::Room, 0, LIMITS);
        let ann = actor("ann", Role::Member);
        let reply = Request::Send {
            client_id: "r".into(),
            body: "x".into(),
            reply_to: Some(1),
        };
        for (req, cid) in [
            (send("c", "   "), Some("c")),
            (send("", "x"), Some("")),
            (send("c", &"a".repeat(4001)), Some("c")),
            (reply, Some("r")),
        ] {
            match room.submit(Timestamp(0), 0, &ann, req, &store) {
                Some((_, Immediate::Refused(r))) => {
                    assert_eq!(r.code, ErrorCode::InvalidRequest);
                    assert_eq!(r.client_id.as_deref(), cid);
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(!room.has_queued());
    }

    #[test]
    fn edits_and_deletes() {
        let mut store = Store::default();
        let mut room = RoomMachine::new("r", RoomKind::Room, 0, LIMITS);
        let (ann, bob, boss) = (
            actor("ann", Role::Member),
            actor("bob", Role::Member),
            actor("boss", Role::Admin),
        );
        room.submit(Timestamp(1), 0, &ann, send("a", "original"), &store);
        commit(&mut room, &mut store);

        let refused = |r: Option<(u32, Immediate)>| match r {
            Some((_, Immediate::Refused(r))) => r.code,
            other => panic!("{other:?}"),
        };
        let edit = |body: &str| Request::Edit {
            seq: 1,
            body: body.into(),
        };
        assert_eq!(
            refused(room.submit(Timestamp(2), 1, &bob, edit("hijack"), &store)),
            ErrorCode::Forbidden
        );
        assert_eq!(
            refused(room.submit(
                Timestamp(2),
                1,
                &ann,
                Request::Edit {
                    seq: 9,
                    body: "x".into()
                },
                &store
            )),
            ErrorCode::NotFound
        );
        assert_eq!(
            refused(room.submit(Timestamp(2), 1, &bob, Request::Delete { seq: 1 }, &store)),
            ErrorCode::Forbidden
        );

        assert!(room
            .submit(Timestamp(3), 2, &ann, edit(" better "), &store)
            .is_none());
        let out = commit(&mut room, &mut store);
        let Outcome::Committed(Write::Edit(m)) = &out[0].1 else {
            panic!("{out:?}")
        };
        assert_eq!(
            (m.body.as_str(), m.edited_at),
            ("better", Some(Timestamp(3)))
        );

        // An edit queued behind a delete of the same message is refused at batch time.
        assert!(room
            .submit(Timestamp(4), 3, &boss, Request::Delete { seq: 1 }, &store)
            .is_none());
        assert!(room
            .submit(Timestamp(4), 4, &ann, edit("too late"), &store)
            .is_none());
        let out = commit(&mut room, &mut store);
        assert!(
            matches!(&out[0].1, Outcome::Committed(Write::Delete(m)) if m.deleted && m.body.is_empty())
        );
        assert!(matches!(&out[1].1, Outcome::Refused(r) if r.code == ErrorCode::Conflict));
        // Deleting twice is fine; editing a deleted message is a conflict.
        assert!(matches!(
            room.submit(Timestamp(5), 5, &ann, Request::Delete { seq: 1 }, &store),
            Some((5, Immediate::AlreadyDeleted))
        ));
        assert_eq!(
            refused(room.submit(Timestamp(5), 6, &ann, edit("x"), &store)),
            ErrorCode::Conflict
        );
        assert_eq!(room.last_seq(), 1, "edits and deletes take no seq");
    }

    #[test]
    fn reads_coalesce_per_user_and_stay_within_the_room() {
        let mut store = Store::default();
        let mut room = RoomMachine::new("r", RoomKind::Room, 3, LIMITS);
        let ann = actor("ann", Role::Member);
        room.submit(Timestamp(0), 1, &ann, Request::Read { seq: 2 }, &store);
        room.submit(Timestamp(0), 2, &ann, Request::Read { seq: 1 }, &store);
        room.submit(
            Timestamp(0),
            3,
            &actor("bob", Role::Member),
            Request::Read { seq: 99 },
            &store,
        );
        let writes = room.start_batch(&store).unwrap();
        assert_eq!(
            writes,
            [
                Write::Read {
                    user_id: "id-ann".into(),
                    seq: 2
                },
                Write::Read {
                    user_id: "id-bob".into(),
                    seq: 3
                }
            ]
        );
        store.apply(&writes);
        assert_eq!(room.finish_batch(true)[0].0, [1, 2]);
    }

    #[test]
    fn sends_say_whom_they_may_notify() {
        let mut store = Store::default();
        let mut room = RoomMachine::new("r", RoomKind::Room, 0, LIMITS);
        let (ann, bob) = (actor("ann", Role::Member), actor("bob", Role::Member));
        let hello = send("a", "hello @Bob and @carol.");
        room.submit(Timestamp(0), 0, &ann, hello, &store);
        let writes = room.start_batch(&store).unwrap();
        let Write::Insert(_, first) = &writes[0] else {
            panic!()
        };
        assert_eq!(first.mentions, ["bob", "carol"]);
        assert_eq!((first.dm, first.reply_to_author.as_deref()), (false, None));
        assert_eq!(first.from.username, "ann");
        store.apply(&writes);
        room.finish_batch(true);
        let reply = Request::Send {
            client_id: "b".into(),
            body: "@ann yes".into(),
            reply_to: Some(1),
        };
        room.submit(Timestamp(0), 1, &bob, reply, &store);
        let writes = room.start_batch(&store).unwrap();
        let Write::Insert(_, second) = &writes[0] else {
            panic!()
        };
        assert_eq!(second.reply_to_author.as_deref(), Some("id-ann"));
        assert_eq!(second.mentions, ["ann"]);

        let fresh = Store::default();
        let mut dm = RoomMachine::new("d", RoomKind::Dm, 0, LIMITS);
        dm.submit(Timestamp(0), 0, &ann, send("a", "psst"), &fresh);
        let writes = dm.start_batch(&fresh).unwrap();
        assert!(matches!(&writes[0], Write::Insert(_, n) if n.dm));
    }

    #[test]
    fn big_queues_split_into_batches() {
        let mut store = Store::default();
        let mut room = RoomMachine::new(
            "r",
            RoomKind::Room,
            0,
            Limits {
                burst: 1000,
                per_second: 1000,
            },
        );
        let ann = actor("ann", Role::Member);
        for i in 0..(MAX_BATCH as u32 + 5) {
            room.submit(Timestamp(0), i, &ann, send(&format!("c{i}"), "x"), &store);
        }
        assert_eq!(commit(&mut room, &mut store).len(), MAX_BATCH);
        let rest = commit(&mut room, &mut store);
        assert_eq!(
            seqs(&rest),
            ((MAX_BATCH as u64 + 1)..=(MAX_BATCH as u64 + 5)).collect::<Vec<_>>()
        );
    }
}
