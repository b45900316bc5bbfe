//! Sockets that stop reading.
//!
//! The runtime queues every frame sent to a socket until the client reads
//! it, with no bound and no way to ask how much is queued. So the room bounds
//! the queue by what it can see: a socket that was sent more than
//! `max_frames` room frames since it last sent a frame itself, and has been
//! silent for longer than `max_silence_ms`, is presumed not to read and is
//! closed. A client that only listens keeps its socket by sending a `ping`
//! now and then (every 30 s is plenty).
//!
//! The room checks its sockets every [`SWEEP_EVERY`] frames, so a stuck
//! socket is sent at most `max_frames + SWEEP_EVERY` frames after it fell
//! silent (more only while it is within `max_silence_ms`).

use std::collections::HashMap;

use crate::Timestamp;

/// Room frames between two checks of the sockets.
pub const SWEEP_EVERY: u64 = 64;

/// When a silent socket is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklogLimits {
    /// Room frames sent to a socket since it was last heard from.
    pub max_frames: u64,
    /// Milliseconds since it was last heard from.
    pub max_silence_ms: i64,
}

impl Default for BacklogLimits {
    /// About 1.5 MB of typical frames, and a minute.
    fn default() -> Self {
        Self {
            max_frames: 5_000,
            max_silence_ms: 60_000,
        }
    }
}

/// The last time a socket was heard from, in frames and in time.
#[derive(Debug, Clone, Copy)]
struct Heard {
    at_frame: u64,
    at: Timestamp,
}

/// Room frames sent, and when each socket (by its id) was last heard from.
#[derive(Debug)]
pub struct Backlog {
    limits: BacklogLimits,
    sent: u64,
    heard: HashMap<String, Heard>,
}

impl Backlog {
    /// No frames sent and no socket heard yet.
    #[must_use]
    pub fn new(limits: BacklogLimits) -> Self {
        Self {
            limits,
            sent: 0,
            heard: HashMap::new(),
        }
    }

    /// The socket `sid` sent a frame at `now`.
    pub fn heard(&mut self, sid: &str, now: Timestamp) {
        let at_frame = self.sent;
        self.heard
            .insert(sid.to_owned(), Heard { at_frame, at: now });
    }

    /// A frame went to every socket; true when the sockets are due a check.
    pub fn sent(&mut self) -> bool {
        self.sent += 1;
        self.sent.is_multiple_of(SWEEP_EVERY)
    }

    /// Whether `sid` is over both limits at `now`. A socket never heard from
    /// (new, or the room just woke up) starts counting now.
    pub fn stuck(&mut self, sid: &str, now: Timestamp) -> bool {
        let sent = self.sent;
        let heard = *self.heard.entry(sid.to_owned()).or_insert(Heard {
            at_frame: sent,
            at: now,
        });
        sent - heard.at_frame > self.limits.max_frames
            && now.0.saturating_sub(heard.at.0) > self.limits.max_silence_ms
    }

    /// The socket is gone.
    pub fn forget(&mut self, sid: &str) {
        self.heard.remove(sid);
    }

    /// How many sockets are tracked.
    #[must_use]
    pub fn tracked(&self) -> usize {
        self.heard.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: BacklogLimits = BacklogLimits {
        max_frames: 10,
        max_silence_ms: 1_000,
    };

    fn at(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    fn send(b: &mut Backlog, n: u64) {
        for _ in 0..n {
            b.sent();
        }
    }

    #[test]
    fn silent_and_behind_is_stuck() {
        let mut b = Backlog::new(LIMITS);
        b.heard("s", at(0));
        send(&mut b, 11);
        assert!(b.stuck("s", at(1_001)));
    }

    #[test]
    fn needs_both_limits() {
        let mut b = Backlog::new(LIMITS);
        b.heard("s", at(0));
        send(&mut b, 11);
        assert!(!b.stuck("s", at(1_000)), "behind but not silent for long");
        let mut b = Backlog::new(LIMITS);
        b.heard("s", at(0));
        send(&mut b, 10);
        assert!(!b.stuck("s", at(60_000)), "silent but not behind");
    }

    #[test]
    fn hearing_from_a_socket_resets_it() {
        let mut b = Backlog::new(LIMITS);
        b.heard("s", at(0));
        send(&mut b, 50);
        b.heard("s", at(5_000));
        send(&mut b, 10);
        assert!(!b.stuck("s", at(9_000)));
        send(&mut b, 1);
        assert!(b.stuck("s", at(9_000)));
    }

    #[test]
    fn unknown_sockets_start_counting_when_first_checked() {
        let mut b = Backlog::new(LIMITS);
        send(&mut b, 100);
        assert!(!b.stuck("new", at(50_000)));
        send(&mut b, 11);
        assert!(b.stuck("new", at(51_001)));
        b.forget("new");
        assert_eq!(b.tracked(), 0);
        assert!(!b.stuck("new", at(90_000)), "forgotten, counts afresh");
    }

    #[test]
    fn a_sweep_is_due_every_so_many_frames() {
        let mut b = Backlog::new(LIMITS);
        let due = (0..SWEEP_EVERY * 3).filter(|_| b.sent()).count();
        assert_eq!(due, 3);
    }
}
