use chrono::{DateTime, SubsecRound, Utc};

/// Now, at the microsecond precision every store keeps, so a time read back
/// from the API selects exactly the row it came from.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
