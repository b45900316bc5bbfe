//! Maps a method and path onto a route. Pure, so it is unit-tested on the host.

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`.
    Health,
    /// `POST /api/v1/auth/register`.
    Register,
    /// `POST /api/v1/auth/login`.
    Login,
    /// `POST /api/v1/auth/refresh`.
    Refresh,
    /// `POST /api/v1/auth/logout`.
    Logout,
    /// `GET /api/v1/me`.
    Me,
    /// `GET /api/v1/rooms/{room_id}/ws`.
    RoomSocket(String),
    /// A known path asked with a method it does not take; lists the allowed ones.
    MethodNotAllowed(&'static str),
    /// Nothing lives here.
    NotFound,
}

/// Routes `method` and `path` (without query).
#[must_use]
pub fn route(method: &str, path: &str) -> Route {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (allowed, found) = match segments.as_slice() {
        ["health"] => ("GET", Route::Health),
        ["api", "v1", "auth", "register"] => ("POST", Route::Register),
        ["api", "v1", "auth", "login"] => ("POST", Route::Login),
        ["api", "v1", "auth", "refresh"] => ("POST", Route::Refresh),
        ["api", "v1", "auth", "logout"] => ("POST", Route::Logout),
        ["api", "v1", "me"] => ("GET", Route::Me),
        ["api", "v1", "rooms", room_id, "ws"] if !room_id.is_empty() => {
            ("GET", Route::RoomSocket((*room_id).to_owned()))
        }
        _ => return Route::NotFound,
    };
    // HEAD is answered like GET by the runtime's HTTP layer.
    if method == allowed || (allowed == "GET" && method == "HEAD") {
        found
    } else {
        Route::MethodNotAllowed(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::{route, Route};

    #[test]
    fn known_paths() {
        assert_eq!(route("GET", "/health"), Route::Health);
        assert_eq!(route("POST", "/api/v1/auth/register"), Route::Register);
        assert_eq!(route("POST", "/api/v1/auth/login"), Route::Login);
        assert_eq!(route("POST", "/api/v1/auth/refresh"), Route::Refresh);
        assert_eq!(route("POST", "/api/v1/auth/logout"), Route::Logout);
        assert_eq!(route("GET", "/api/v1/me"), Route::Me);
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
            route("DELETE", "/api/v1/rooms/r1/ws"),
            Route::MethodNotAllowed("GET")
        );
        assert_eq!(route("GET", "/api/v1/rooms//ws"), Route::NotFound);
        assert_eq!(route("GET", "/api/v1/nope"), Route::NotFound);
        assert_eq!(route("GET", "/health/"), Route::NotFound);
        assert_eq!(route("GET", "/api/v1/rooms/r1/ws/x"), Route::NotFound);
    }
}
