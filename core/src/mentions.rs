//! `@username` mentions in a message body (API.md, "Notifications").
//!
//! A mention is `@` followed by the longest run of username characters,
//! with trailing `.` and `-` dropped, matched case-insensitively. An `@`
//! inside a longer word (`a@b.c`) is not a mention.

use crate::validate::Username;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The distinct lowercase usernames mentioned in `body`, in order of first
/// appearance. Runs that cannot be usernames (too short or long) are skipped.
#[must_use]
pub fn mentions(body: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let starts_mention = c == '@' && !prev.is_some_and(is_name_char);
        prev = Some(c);
        if !starts_mention {
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while let Some(&(j, d)) = chars.peek() {
            if !is_name_char(d) {
                break;
            }
            end = j + d.len_utf8();
            prev = Some(d);
            chars.next();
        }
        let run = body[start..end].trim_end_matches(['.', '-']);
        if let Ok(name) = Username::parse(run) {
            if !found.iter().any(|f| f == name.as_str()) {
                found.push(name.as_str().to_owned());
            }
        }
    }
    found
}

/// The first 140 characters of a body, for a notification's `preview`.
#[must_use]
pub fn preview(body: &str) -> String {
    body.chars().take(140).collect()
}

#[cfg(test)]
mod tests {
    use super::{mentions, preview};

    #[test]
    fn plain_mentions() {
        assert_eq!(mentions("hi @bob and @Carol_1"), ["bob", "carol_1"]);
        assert_eq!(mentions("@ann"), ["ann"]);
        assert_eq!(mentions("(@ann) [@bob], \"@eve\""), ["ann", "bob", "eve"]);
    }

    #[test]
    fn trailing_dots_and_dashes_dropped() {
        assert_eq!(mentions("thanks @bob."), ["bob"]);
        assert_eq!(mentions("ask @bob... later"), ["bob"]);
        assert_eq!(mentions("@bob-- ok"), ["bob"]);
        assert_eq!(mentions("@b.o.b."), ["b.o.b"]);
        assert_eq!(mentions("@x-y-z-"), ["x-y-z"]);
    }

    #[test]
    fn not_inside_words() {
        assert!(mentions("mail a@b.c please").is_empty());
        assert!(mentions("ann@example.com").is_empty());
        assert!(mentions("x_@bob").is_empty());
        assert_eq!(mentions("é@bob"), ["bob"], "only username characters glue");
    }

    #[test]
    fn case_insensitive_and_deduplicated() {
        assert_eq!(mentions("@Bob @BOB @bob"), ["bob"]);
    }

    #[test]
    fn invalid_names_are_not_mentions() {
        assert!(mentions("@ab").is_empty(), "too short");
        assert!(
            mentions(&format!("@{}", "a".repeat(33))).is_empty(),
            "too long"
        );
        assert!(mentions("@ @@ @.. @--").is_empty());
        assert_eq!(mentions("@@bob"), ["bob"]);
        assert!(mentions("@é").is_empty());
    }

    #[test]
    fn longest_run_is_taken() {
        // "@bob.smith" mentions bob.smith, not bob.
        assert_eq!(mentions("@bob.smith hi"), ["bob.smith"]);
        assert_eq!(mentions("@bob's"), ["bob"]);
    }

    #[test]
    fn preview_counts_characters() {
        assert_eq!(preview(&"é".repeat(200)).chars().count(), 140);
        assert_eq!(preview("short"), "short");
    }
}
