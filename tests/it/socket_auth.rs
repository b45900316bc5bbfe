//! Who may open a room socket: tokens, subprotocols, Origins.

use crate::client::{try_connect, try_connect_with_response, TestUser};
use crate::tokens;

/// The socket path of a fresh room that `user` owns.
async fn path_for(user: &TestUser) -> String {
    format!("/api/v1/rooms/{}/ws", user.create_room("public").await)
}

/// A socket path no token check gets past: the room does not matter.
fn any_path() -> String {
    "/api/v1/rooms/00000000-0000-4000-8000-000000000000/ws".to_owned()
}

async fn refused_at(path: &str, headers: &[(&str, &str)]) -> u16 {
    match try_connect(path, headers).await {
        Ok(_) => panic!("socket opened with {headers:?}"),
        Err((status, _)) => status,
    }
}

async fn refused(headers: &[(&str, &str)]) -> u16 {
    refused_at(&any_path(), headers).await
}

pub async fn socket_needs_a_valid_token() {
    let user = TestUser::new("sock").await;
    assert_eq!(refused(&[]).await, 401);
    for (what, token) in tokens::attacks(user.id()) {
        let bearer = format!("Bearer {token}");
        assert_eq!(refused(&[("authorization", &bearer)]).await, 401, "{what}");
        let proto = format!("edgechat.v1, bearer.{token}");
        assert_eq!(
            refused(&[("sec-websocket-protocol", &proto)]).await,
            401,
            "{what} (subprotocol)"
        );
    }
}

pub async fn subprotocol_auth_selects_edgechat_v1() {
    let user = TestUser::new("proto").await;
    let proto = format!("edgechat.v1, bearer.{}", user.token());
    let (mut socket, headers) = try_connect_with_response(
        &path_for(&user).await,
        &[("sec-websocket-protocol", &proto)],
    )
    .await
    .unwrap_or_else(|e| panic!("refused: {e:?}"));
    assert_eq!(headers["sec-websocket-protocol"], "edgechat.v1");
    let welcome = socket.next_frame().await;
    assert_eq!(welcome["me"]["username"], user.username.as_str());

    let only_bearer = format!("bearer.{}", user.token());
    assert_eq!(
        refused(&[("sec-websocket-protocol", &only_bearer)]).await,
        400
    );
}

pub async fn header_wins_over_subprotocol() {
    let user = TestUser::new("both").await;
    let good_header = format!("Bearer {}", user.token());
    let good_proto = format!("edgechat.v1, bearer.{}", user.token());
    let path = path_for(&user).await;
    let socket = try_connect(
        &path,
        &[
            ("authorization", &good_header),
            ("sec-websocket-protocol", "edgechat.v1, bearer.junk"),
        ],
    )
    .await;
    assert!(socket.is_ok(), "a valid header opens the socket");
    assert_eq!(
        refused_at(
            &path,
            &[
                ("authorization", "Bearer junk"),
                ("sec-websocket-protocol", &good_proto)
            ]
        )
        .await,
        401
    );
}

pub async fn hostile_origins_are_refused() {
    let user = TestUser::new("origin").await;
    let bearer = format!("Bearer {}", user.token());
    let path = path_for(&user).await;
    for origin in [
        "https://evil.example",
        "http://127.0.0.1:8787.evil.example",
        "http://127.0.0.1",
        "null",
    ] {
        assert_eq!(
            refused_at(&path, &[("authorization", &bearer), ("origin", origin)]).await,
            403,
            "{origin}"
        );
    }
    for origin in ["http://127.0.0.1:8787", "http://localhost:8787"] {
        assert!(
            try_connect(&path, &[("authorization", &bearer), ("origin", origin)])
                .await
                .is_ok(),
            "{origin}"
        );
    }
}
