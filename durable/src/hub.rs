//! The user hub Durable Object: one per user, the user's notification stream.

use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

/// Declared with its binding now so that the deployed class exists from the
/// first migration on; the notification stream is served from here.
#[durable_object]
pub struct UserHub {
    _state: State,
}

impl DurableObject for UserHub {
    fn new(state: State, _env: Env) -> Self {
        Self { _state: state }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        Response::error("not found", 404)
    }
}
