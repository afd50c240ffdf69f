//! GraphQL cursors and ids as clients send them back: decoding never
//! panics, what decodes is what was encoded (one spelling per cursor), and
//! any key round-trips through its cursor.
#![no_main]

use api::{
    fuzzing::{after_id, after_key},
    ids::{self, CursorKind},
};
use libfuzzer_sys::fuzz_target;

const KINDS: [CursorKind; 5] = [
    CursorKind::Event,
    CursorKind::Account,
    CursorKind::RejectedDelivery,
    CursorKind::AuditEntry,
    CursorKind::CompanyRecord,
];

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let mut kinds_read = 0;
    for kind in KINDS {
        // Decoding: a key only from the one spelling its cursor has.
        let key = ids::parse_cursor(kind, text);
        assert_eq!(after_key(kind, Some(text)).ok().flatten(), key);
        if let Some(key) = &key {
            kinds_read += 1;
            assert_eq!(ids::cursor(kind, key), text.trim());
        }
        let id = ids::parse_id_cursor(kind, text);
        assert_eq!(after_id(kind, Some(text)).ok().flatten(), id);
        if let Some(id) = id {
            assert!(id > 0);
            assert_eq!(key, Some(id.to_string()));
        }
        // Encoding: any key comes back from its cursor, in its kind only.
        let cursor = ids::cursor(kind, text);
        assert_eq!(ids::parse_cursor(kind, &cursor).as_deref(), Some(text));
        for other in KINDS.into_iter().filter(|&other| other != kind) {
            assert_eq!(ids::parse_cursor(other, &cursor), None);
        }
    }
    assert!(kinds_read <= 1, "one cursor read by two lists");

    if let Some(id) = ids::parse_event_id(text) {
        assert!(id > 0);
        assert_eq!(ids::event_id(id), text);
        assert_eq!(
            ids::parse_id_cursor(CursorKind::Event, &ids::event_cursor(id)),
            Some(id)
        );
    }
});
