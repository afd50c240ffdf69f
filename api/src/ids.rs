//! The opaque identifiers the API hands out.

/// An event's public id.
pub fn event_id(id: i64) -> String {
    format!("evt_{id}")
}
