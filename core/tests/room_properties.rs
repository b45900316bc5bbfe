//! Property tests of the room state machine: whatever arrives, in whatever
//! order, with whatever storage failures, the stored history has contiguous
//! seqs, one message per (author, `client_id`), and every acknowledgement
//! names a stored message.

use std::collections::HashMap;

use edgechat_core::identity::Identity;
use edgechat_core::model::{Message, Role, RoomKind};
use edgechat_core::room::{
    Actor, History, Immediate, Limits, Outcome, Request, RoomMachine, Write,
};
use edgechat_core::Timestamp;
use proptest::prelude::*;

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

#[derive(Debug, Clone)]
enum Step {
    /// User `u` sends client id `c` (small ranges make repeats likely).
    Send {
        u: u8,
        c: u8,
    },
    /// User `u` edits or deletes message `seq`.
    Edit {
        u: u8,
        seq: u8,
    },
    Delete {
        u: u8,
        seq: u8,
    },
    /// The glue starts a batch; the store then commits it or fails.
    Flush {
        commit: bool,
    },
    /// Time passes (refills buckets).
    Wait {
        ms: u16,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..4, 0u8..12).prop_map(|(u, c)| Step::Send { u, c }),
        1 => (0u8..4, 0u8..20).prop_map(|(u, seq)| Step::Edit { u, seq }),
        1 => (0u8..4, 0u8..20).prop_map(|(u, seq)| Step::Delete { u, seq }),
        3 => any::<bool>().prop_map(|commit| Step::Flush { commit }),
        1 => (0u16..3000).prop_map(|ms| Step::Wait { ms }),
    ]
}

fn actor(u: u8) -> Actor {
    Actor {
        who: Identity {
            id: format!("u{u}"),
            username: format!("user{u}"),
            display_name: format!("User {u}"),
            created_at_ms: 0,
        },
        role: if u == 0 { Role::Owner } else { Role::Member },
    }
}

/// Runs one batch, committing it to `store` or failing it, and records the
/// acknowledgements it produces.
fn drain(
    room: &mut RoomMachine<u32>,
    store: &mut Store,
    commit: bool,
    acks: &mut Vec<(String, String, u64)>,
    sent: &HashMap<u32, (String, String)>,
) {
    let Some(writes) = room.start_batch(store) else {
        return;
    };
    if commit {
        for w in &writes {
            match w {
                Write::Insert(m, _) => store.0.push(m.clone()),
                Write::Edit(m) | Write::Delete(m) => {
                    if let Some(slot) = store.0.iter_mut().find(|x| x.seq == m.seq) {
                        *slot = m.clone();
                    }
                }
                Write::Read { .. } => {}
            }
        }
    }
    for (waiters, outcome) in room.finish_batch(commit) {
        if let Outcome::Committed(Write::Insert(m, _)) = outcome {
            for w in waiters {
                if let Some((a, c)) = sent.get(&w) {
                    assert_eq!((&m.author.id, &m.client_id), (a, c));
                    acks.push((a.clone(), c.clone(), m.seq));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn history_stays_contiguous_and_deduplicated(steps in prop::collection::vec(step(), 1..120)) {
        let mut store = Store::default();
        let limits = Limits { burst: 5, per_second: 2 };
        let mut room: RoomMachine<u32> = RoomMachine::new("r", RoomKind::Room, 0, limits);
        let mut now = 0i64;
        // Every acknowledgement: waiter → (author, client_id, seq).
        let mut acks: Vec<(String, String, u64)> = Vec::new();
        let mut sent: HashMap<u32, (String, String)> = HashMap::new();
        for (w, s) in (1u32..).zip(steps) {
            match s {
                Step::Send { u, c } => {
                    let a = actor(u);
                    let cid = format!("c{c}");
                    sent.insert(w, (a.who.id.clone(), cid.clone()));
                    let req = Request::Send { client_id: cid.clone(), body: format!("m{c}"), reply_to: None };
                    if let Some((_, Immediate::Duplicate(m))) = room.submit(Timestamp(now), w, &a, req, &store) {
                        acks.push((a.who.id.clone(), cid, m.seq));
                    }
                }
                Step::Edit { u, seq } => {
                    let req = Request::Edit { seq: u64::from(seq), body: "edited".into() };
                    room.submit(Timestamp(now), w, &actor(u), req, &store);
                }
                Step::Delete { u, seq } => {
                    room.submit(Timestamp(now), w, &actor(u), Request::Delete { seq: u64::from(seq) }, &store);
                }
                Step::Flush { commit } => {
                    drain(&mut room, &mut store, commit, &mut acks, &sent);
                }
                Step::Wait { ms } => now += i64::from(ms),
            }
        }
        // Whatever is still queued commits in the end.
        while room.has_queued() {
            drain(&mut room, &mut store, true, &mut acks, &sent);
        }
        let seqs: Vec<u64> = store.0.iter().map(|m| m.seq).collect();
        let expected: Vec<u64> = (1..=store.0.len() as u64).collect();
        prop_assert_eq!(&seqs, &expected, "contiguous from 1");
        prop_assert_eq!(room.last_seq(), store.0.len() as u64);
        let mut keys: Vec<(&str, &str)> = store.0.iter().map(|m| (m.author.id.as_str(), m.client_id.as_str())).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        prop_assert_eq!(keys.len(), n, "one message per (author, client_id)");
        for (a, c, seq) in &acks {
            let m = store.by_seq(*seq).expect("acked seq is stored");
            prop_assert_eq!((&m.author.id, &m.client_id), (a, c), "ack names the stored message");
        }
        for m in &store.0 {
            prop_assert!(!m.deleted || m.body.is_empty(), "deleted messages keep no body");
        }
    }
}
