//! Maps a method and path onto a route. Pure, so it is unit-tested on the host.

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`.
    Health,
    /// `GET /openapi.json`.
    OpenApi,
    /// `POST /api/v1/auth/register`.
    Register,
    /// `POST /api/v1/auth/login`.
    Login,
    /// `POST /api/v1/auth/refresh`.
    Refresh,
    /// `POST /api/v1/auth/logout`.
    Logout,
    /// `POST /api/v1/auth/session/register`: register, refresh token in a cookie.
    BrowserRegister,
    /// `POST /api/v1/auth/session/login`: log in, refresh token in a cookie.
    BrowserLogin,
    /// `POST /api/v1/auth/session/refresh`: rotate the cookie's refresh token.
    BrowserRefresh,
    /// `POST /api/v1/auth/session/logout`: end the cookie's session.
    BrowserLogout,
    /// `GET /api/v1/me`.
    Me,
    /// `POST /api/v1/rooms`.
    CreateRoom,
    /// `GET /api/v1/rooms`.
    ListRooms,
    /// `GET /api/v1/rooms/{room_id}`.
    GetRoom(String),
    /// `POST /api/v1/rooms/{room_id}/join`.
    JoinRoom(String),
    /// `POST /api/v1/rooms/{room_id}/members`.
    AddMember(String),
    /// `DELETE /api/v1/rooms/{room_id}/members/{user_id}`.
    RemoveMember(String, String),
    /// `PATCH /api/v1/rooms/{room_id}/members/{user_id}`.
    SetRole(String, String),
    /// `POST /api/v1/dms`.
    OpenDm,
    /// `GET /api/v1/rooms/{room_id}/messages`.
    History(String),
    /// `POST /api/v1/rooms/{room_id}/messages`.
    PostMessage(String),
    /// `PATCH /api/v1/rooms/{room_id}/messages/{seq}`.
    EditMessage(String, String),
    /// `DELETE /api/v1/rooms/{room_id}/messages/{seq}`.
    DeleteMessage(String, String),
    /// `GET /api/v1/rooms/{room_id}/ws`.
    RoomSocket(String),
    /// `GET /api/v1/notifications`.
    Notifications,
    /// `POST /api/v1/notifications/read`.
    MarkNotificationsRead,
    /// `GET /api/v1/notifications/ws`.
    NotificationSocket,
    /// A known path asked with a method it does not take; lists the allowed ones.
    MethodNotAllowed(&'static str),
    /// Nothing lives here.
    NotFound,
}

/// Routes `method` and `path` (without query).
#[must_use]
pub fn route(method: &str, path: &str) -> Route {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if segments.iter().skip(1).any(|s| s.is_empty()) {
        return Route::NotFound;
    }
    let s = |v: &&str| (*v).to_owned();
    // HEAD is answered like GET by the runtime's HTTP layer.
    let m = if method == "HEAD" { "GET" } else { method };
    let (allow, found) = match segments.as_slice() {
        ["health"] => ("GET", (m == "GET").then_some(Route::Health)),
        ["openapi.json"] => ("GET", (m == "GET").then_some(Route::OpenApi)),
        ["api", "v1", "auth", "register"] => ("POST", (m == "POST").then_some(Route::Register)),
        ["api", "v1", "auth", "login"] => ("POST", (m == "POST").then_some(Route::Login)),
        ["api", "v1", "auth", "refresh"] => ("POST", (m == "POST").then_some(Route::Refresh)),
        ["api", "v1", "auth", "logout"] => ("POST", (m == "POST").then_some(Route::Logout)),
        ["api", "v1", "auth", "session", action] => (
            "POST",
            match (m, *action) {
                ("POST", "register") => Some(Route::BrowserRegister),
                ("POST", "login") => Some(Route::BrowserLogin),
                ("POST", "refresh") => Some(Route::BrowserRefresh),
                ("POST", "logout") => Some(Route::BrowserLogout),
                (_, "register" | "login" | "refresh" | "logout") => None,
                _ => return Route::NotFound,
            },
        ),
        ["api", "v1", "me"] => ("GET", (m == "GET").then_some(Route::Me)),
        ["api", "v1", "notifications"] => ("GET", (m == "GET").then_some(Route::Notifications)),
        ["api", "v1", "notifications", "read"] => (
            "POST",
            (m == "POST").then_some(Route::MarkNotificationsRead),
        ),
        ["api", "v1", "notifications", "ws"] => {
            ("GET", (m == "GET").then_some(Route::NotificationSocket))
        }
        ["api", "v1", "dms"] => ("POST", (m == "POST").then_some(Route::OpenDm)),
        ["api", "v1", "rooms"] => (
            "GET, POST",
            match m {
                "GET" => Some(Route::ListRooms),
                "POST" => Some(Route::CreateRoom),
                _ => None,
            },
        ),
        ["api", "v1", "rooms", id] => ("GET", (m == "GET").then(|| Route::GetRoom(s(id)))),
        ["api", "v1", "rooms", id, "join"] => {
            ("POST", (m == "POST").then(|| Route::JoinRoom(s(id))))
        }
        ["api", "v1", "rooms", id, "members"] => {
            ("POST", (m == "POST").then(|| Route::AddMember(s(id))))
        }
        ["api", "v1", "rooms", id, "members", uid] => (
            "DELETE, PATCH",
            match m {
                "DELETE" => Some(Route::RemoveMember(s(id), s(uid))),
                "PATCH" => Some(Route::SetRole(s(id), s(uid))),
                _ => None,
            },
        ),
        ["api", "v1", "rooms", id, "messages"] => (
            "GET, POST",
            match m {
                "GET" => Some(Route::History(s(id))),
                "POST" => Some(Route::PostMessage(s(id))),
                _ => None,
            },
        ),
        ["api", "v1", "rooms", id, "messages", seq] => (
            "DELETE, PATCH",
            match m {
                "DELETE" => Some(Route::DeleteMessage(s(id), s(seq))),
                "PATCH" => Some(Route::EditMessage(s(id), s(seq))),
                _ => None,
            },
        ),
        ["api", "v1", "rooms", id, "ws"] => ("GET", (m == "GET").then(|| Route::RoomSocket(s(id)))),
        _ => return Route::NotFound,
    };
    found.unwrap_or(Route::MethodNotAllowed(allow))
}

#[cfg(test)]
mod tests {
    use super::{route, Route};

    #[test]
    fn known_paths() {
        assert_eq!(route("GET", "/health"), Route::Health);
        assert_eq!(route("HEAD", "/health"), Route::Health);
        assert_eq!(route("POST", "/api/v1/auth/register"), Route::Register);
        assert_eq!(route("POST", "/api/v1/auth/login"), Route::Login);
        assert_eq!(route("POST", "/api/v1/auth/refresh"), Route::Refresh);
        assert_eq!(route("POST", "/api/v1/auth/logout"), Route::Logout);
        assert_eq!(
            route("POST", "/api/v1/auth/session/register"),
            Route::BrowserRegister
        );
        assert_eq!(
            route("POST", "/api/v1/auth/session/login"),
            Route::BrowserLogin
        );
        assert_eq!(
            route("POST", "/api/v1/auth/session/refresh"),
            Route::BrowserRefresh
        );
        assert_eq!(
            route("POST", "/api/v1/auth/session/logout"),
            Route::BrowserLogout
        );
        assert_eq!(route("GET", "/api/v1/me"), Route::Me);
        assert_eq!(route("POST", "/api/v1/rooms"), Route::CreateRoom);
        assert_eq!(route("GET", "/api/v1/rooms"), Route::ListRooms);
        assert_eq!(
            route("GET", "/api/v1/rooms/r1"),
            Route::GetRoom("r1".into())
        );
        assert_eq!(
            route("POST", "/api/v1/rooms/r1/join"),
            Route::JoinRoom("r1".into())
        );
        assert_eq!(
            route("POST", "/api/v1/rooms/r1/members"),
            Route::AddMember("r1".into())
        );
        assert_eq!(
            route("DELETE", "/api/v1/rooms/r1/members/u1"),
            Route::RemoveMember("r1".into(), "u1".into())
        );
        assert_eq!(
            route("PATCH", "/api/v1/rooms/r1/members/u1"),
            Route::SetRole("r1".into(), "u1".into())
        );
        assert_eq!(route("POST", "/api/v1/dms"), Route::OpenDm);
        assert_eq!(route("GET", "/api/v1/notifications"), Route::Notifications);
        assert_eq!(
            route("POST", "/api/v1/notifications/read"),
            Route::MarkNotificationsRead
        );
        assert_eq!(
            route("GET", "/api/v1/notifications/ws"),
            Route::NotificationSocket
        );
        assert_eq!(
            route("GET", "/api/v1/rooms/r/messages"),
            Route::History("r".into())
        );
        assert_eq!(
            route("POST", "/api/v1/rooms/r/messages"),
            Route::PostMessage("r".into())
        );
        assert_eq!(
            route("PATCH", "/api/v1/rooms/r/messages/3"),
            Route::EditMessage("r".into(), "3".into())
        );
        assert_eq!(
            route("DELETE", "/api/v1/rooms/r/messages/3"),
            Route::DeleteMessage("r".into(), "3".into())
        );
        assert_eq!(
            route("GET", "/api/v1/rooms/r1/ws"),
            Route::RoomSocket("r1".into())
        );
    }

    #[test]
    fn wrong_method_is_405_unknown_is_404() {
        assert_eq!(route("POST", "/health"), Route::MethodNotAllowed("GET"));
        assert_eq!(
            route("GET", "/api/v1/auth/login"),
            Route::MethodNotAllowed("POST")
        );
        assert_eq!(
            route("DELETE", "/api/v1/me"),
            Route::MethodNotAllowed("GET")
        );
        assert_eq!(
            route("PUT", "/api/v1/rooms"),
            Route::MethodNotAllowed("GET, POST")
        );
        assert_eq!(
            route("GET", "/api/v1/rooms/r/members/u"),
            Route::MethodNotAllowed("DELETE, PATCH")
        );
        assert_eq!(
            route("DELETE", "/api/v1/rooms/r1/ws"),
            Route::MethodNotAllowed("GET")
        );
        assert_eq!(
            route("GET", "/api/v1/auth/session/refresh"),
            Route::MethodNotAllowed("POST")
        );
        assert_eq!(route("POST", "/api/v1/auth/session/nope"), Route::NotFound);
        assert_eq!(route("GET", "/api/v1/rooms//ws"), Route::NotFound);
        assert_eq!(route("GET", "/api/v1/nope"), Route::NotFound);
        assert_eq!(route("GET", "/health/"), Route::NotFound);
        assert_eq!(route("GET", "/api/v1/rooms/r1/ws/x"), Route::NotFound);
    }

    #[test]
    fn openapi_document() {
        assert_eq!(route("GET", "/openapi.json"), Route::OpenApi);
        assert_eq!(
            route("POST", "/openapi.json"),
            Route::MethodNotAllowed("GET")
        );
    }
}
