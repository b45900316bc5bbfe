//! The floor: the least a chat room can do on this platform. One Durable
//! Object accepts hibernatable sockets and sends every text frame it gets to
//! every socket, with no parsing, storage or checks. Benchmarks run it
//! beside edgechat so each report shows edgechat's cost over the platform.

use worker::{
    durable_object, event, Context, DurableObject, Env, Request, Response, Result, State,
    WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    if req.path() == "/health" {
        return Response::ok("ok");
    }
    let stub = env
        .durable_object("FLOOR")?
        .id_from_name("room")?
        .get_stub()?;
    stub.fetch_with_request(req).await
}

#[durable_object]
pub struct Floor {
    state: State,
}

impl DurableObject for Floor {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        Response::from_websocket(pair.client)
    }

    async fn websocket_message(
        &self,
        _ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        if let WebSocketIncomingMessage::String(text) = message {
            for ws in self.state.get_websockets() {
                let _ = ws.send_with_str(&text);
            }
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        _code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        let _ = ws.close(Some(1000), Some("bye"));
        Ok(())
    }
}
