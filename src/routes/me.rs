//! `GET /api/v1/me`.

use worker::{Env, Request};

use super::json;
use crate::errors::ApiResult;
use crate::{auth, config};

pub async fn get(req: &Request, env: &Env) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(req, env, &cfg).await?;
    json(200, &me.to_user())
}
