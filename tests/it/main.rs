//! Integration tests against the real runtime.
//!
//! One `wrangler dev` (workerd, local D1, real Durable Objects) is started
//! for the whole run on a free port with fresh state; every test talks to it
//! over real HTTP and WebSocket connections, in parallel, with unique names.
//! The server is stopped at the end whatever happens, and its log is printed
//! when a test failed.

// Host-side test code: the clock works here, and panicking is how a test fails.
#![allow(clippy::disallowed_methods, clippy::missing_panics_doc)]

mod client;
mod server;
mod tokens;
mod tools;

mod auth;
mod browser;
mod browser_session;
mod consumers;
mod crash;
mod health;
mod messages;
mod notifications;
mod openapi;
mod resilience;
mod room_socket;
mod rooms;
mod socket_auth;

use std::future::Future;
use std::sync::OnceLock;

use libtest_mimic::{Arguments, Failed, Trial};

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
static BASE_URL: OnceLock<String> = OnceLock::new();

/// `http://127.0.0.1:<port>` of the server under test.
pub fn base_url() -> &'static str {
    BASE_URL.get().expect("server not started")
}

/// A name no other test (or run) uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}x{n}", std::process::id() % 100_000)
}

fn trial<F, Fut>(name: &str, test: F) -> Trial
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    Trial::test(name, move || {
        RUNTIME.get().expect("runtime").block_on(test());
        Ok::<(), Failed>(())
    })
}

macro_rules! trials {
    ($($module:ident :: $test:ident),* $(,)?) => {
        vec![$(trial(concat!(stringify!($module), "::", stringify!($test)), $module::$test)),*]
    };
}

fn main() {
    let args = Arguments::from_args();
    let tests = trials![
        openapi::lists_every_operation_of_the_contract,
        openapi::unknown_methods_are_405_not_get,
        openapi::optional_fields_are_absent_not_null,
        consumers::schemathesis_finds_no_server_error_or_schema_mismatch,
        consumers::guide_example_chats_over_a_socket,
        browser::client_in_chromium,
        browser::static_client_has_strict_csp,
        health::health_answers_ok,
        health::unknown_api_path_is_problem_404,
        health::wrong_method_is_problem_405,
        health::static_client_is_served,
        auth::full_session_lifecycle,
        auth::register_validation_rules,
        auth::malformed_bodies_are_4xx,
        auth::taken_username_is_409_case_insensitively,
        auth::unknown_user_and_wrong_password_answer_the_same,
        auth::login_limit_per_ip,
        auth::login_limit_per_username,
        auth::me_refuses_bad_tokens,
        browser_session::cookie_session_registers_rotates_and_detects_reuse,
        browser_session::cookie_login_and_logout_clear_the_session,
        browser_session::cross_site_requests_cannot_use_the_cookie,
        socket_auth::socket_needs_a_valid_token,
        socket_auth::subprotocol_auth_selects_edgechat_v1,
        socket_auth::header_wins_over_subprotocol,
        socket_auth::hostile_origins_are_refused,
        rooms::create_and_get_a_room,
        rooms::room_validation,
        rooms::lists_paginate_newest_first_and_search,
        rooms::private_rooms_do_not_exist_for_outsiders,
        rooms::public_rooms_need_membership_to_write,
        rooms::members_roles_kick_and_leave,
        rooms::dms_are_one_room_per_pair,
        messages::concurrent_senders_share_one_order,
        messages::duplicate_client_ids_make_one_message,
        messages::acked_means_in_history,
        messages::resume_after_30_missed,
        messages::resume_after_1000_missed,
        messages::rate_limit_refuses_and_loses_nothing_acked,
        messages::edits_and_deletes_are_stored_and_broadcast,
        messages::presence_announces_joins_and_leaves,
        messages::read_frames_move_unread_counts,
        messages::http_send_and_history_rules,
        notifications::mention_arrives_on_the_stream,
        notifications::every_open_stream_gets_it,
        notifications::dms_and_replies_notify,
        notifications::offline_mentions_wait_in_the_list,
        notifications::no_one_for_yourself_or_outsiders,
        notifications::list_pages_newest_first,
        notifications::unread_frames_follow_messages_and_reads,
        notifications::a_slow_hub_does_not_slow_the_room,
        notifications::stream_needs_auth_and_an_allowed_origin,
        resilience::storage_faults_still_exactly_once,
        resilience::abrupt_clients_leave_the_room_working,
        resilience::a_client_that_never_reads_is_closed,
        crash::kill_9_mid_stream_loses_nothing,
        room_socket::plain_get_is_426,
        room_socket::two_clients_chat_and_other_rooms_hear_nothing,
        room_socket::welcome_lists_who_is_online,
        room_socket::forged_identity_header_is_ignored,
        room_socket::bad_frames_get_error_frames_and_socket_stays_open,
        room_socket::typing_goes_to_others_only,
        room_socket::ordering_survives_hibernation,
    ];
    // Listing or filtering everything away needs no server.
    if args.list {
        libtest_mimic::run(&args, tests).exit();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let server = runtime.block_on(server::Server::start());
    BASE_URL.set(server.base_url()).expect("set once");
    let _ = RUNTIME.set(runtime);

    // Chromium keeps both cores busy; the browser tests run after the
    // others, so tests that depend on timing never share the CPU with it.
    let (browser, others): (Vec<Trial>, Vec<Trial>) = tests
        .into_iter()
        .partition(|t| t.name().starts_with("browser::"));
    let first = libtest_mimic::run(&args, others);
    let second = libtest_mimic::run(&args, browser);
    let failed = first.has_failed() || second.has_failed();
    if failed {
        server.print_log();
    }
    drop(server);
    std::process::exit(if failed { 101 } else { 0 });
}
