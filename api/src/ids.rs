//! The opaque identifiers and cursors the API hands out, and their parsing.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

const EVENT_ID_PREFIX: &str = "evt_";

/// An event's public id.
pub fn event_id(id: i64) -> String {
    format!("{EVENT_ID_PREFIX}{id}")
}

/// The row id behind a public event id; `None` for anything no event has.
pub fn parse_event_id(id: &str) -> Option<i64> {
    positive(id.strip_prefix(EVENT_ID_PREFIX)?)
}

/// What a cursor points into. Each list tags its cursors, so a cursor from
/// one list is refused by another instead of silently meaning something else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CursorKind {
    Event,
    Account,
    RejectedDelivery,
    AuditEntry,
    CompanyRecord,
}

impl CursorKind {
    const fn tag(self) -> &'static str {
        match self {
            Self::Event => "evt",
            Self::Account => "acct",
            Self::RejectedDelivery => "rej",
            Self::AuditEntry => "audit",
            Self::CompanyRecord => "rec",
        }
    }
}

/// A cursor: unpadded URL-safe base64 of `<tag>:<key>`. Opaque to clients;
/// only its round trip is promised.
pub fn cursor(kind: CursorKind, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{key}", kind.tag()))
}

/// The key inside a cursor of `kind`; `None` when it is not one.
pub fn parse_cursor(kind: CursorKind, cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (tag, key) = text.split_once(':')?;
    (tag == kind.tag()).then(|| key.to_owned())
}

/// The cursor of the event with row id `id` (lists, subscriptions' `after`).
pub fn event_cursor(id: i64) -> String {
    cursor(CursorKind::Event, &id.to_string())
}

/// A cursor of a list ordered by a numeric row id.
pub fn parse_id_cursor(kind: CursorKind, cursor: &str) -> Option<i64> {
    positive(&parse_cursor(kind, cursor)?)
}

fn positive(digits: &str) -> Option<i64> {
    // `parse` alone takes "+5", "-5" and "007"; an id has one spelling only.
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_round_trip_and_nothing_else_parses() {
        assert_eq!(parse_event_id(&event_id(42)), Some(42));
        for bad in [
            "42", "evt_", "evt_0", "evt_-1", "evt_+1", "evt_01", "evt_x", "acct_1",
        ] {
            assert_eq!(parse_event_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_within_their_kind_only() {
        let c = event_cursor(7);
        assert_eq!(parse_id_cursor(CursorKind::Event, &c), Some(7));
        assert_eq!(parse_id_cursor(CursorKind::RejectedDelivery, &c), None);
        let a = cursor(CursorKind::Account, "31mN:prz");
        assert_eq!(
            parse_cursor(CursorKind::Account, &a).as_deref(),
            Some("31mN:prz")
        );
        assert_eq!(parse_cursor(CursorKind::Event, &a), None);
    }

    #[test]
    fn malformed_cursors_are_refused() {
        for bad in [
            "",
            "!!",
            "ZXZ0",
            "evt:1",
            &URL_SAFE_NO_PAD.encode("evt:abc"),
        ] {
            assert_eq!(parse_id_cursor(CursorKind::Event, bad), None, "{bad}");
        }
    }
}
