//! The contract's notification rules (section 3), checked before anything
//! is sent to Canopy. Every violation is reported, each naming its field.
use super::notifications::ConfigureNotificationInput;
use crate::{
    clients::canopy::NotificationConfigBody,
    graphql::{error::GqlError, types::NotificationType},
};

/// Canopy's body for `input`, or every rule it breaks.
pub fn check(input: &ConfigureNotificationInput) -> Result<NotificationConfigBody, Vec<GqlError>> {
    let mut violations = Vec::new();
    let mut violation = |field: &'static str, message: String| {
        violations.push(GqlError::InvalidField { field, message });
    };
    let kind = input.notification_type;
    // Canopy's names, upper-cased, are the GraphQL ones.
    let kind_name = kind.canopy_name().to_ascii_uppercase();
    if input.account_id.trim().is_empty() {
        violation("accountId", "must not be empty".to_owned());
    }
    if input.periodic_interval.is_some() {
        if kind != NotificationType::AccountDelinquency {
            violation(
                "periodicInterval",
                format!("only ACCOUNT_DELINQUENCY takes a periodicInterval, not {kind_name}"),
            );
        }
        for (field, given) in [("timeOffset", &input.time_offset), ("time", &input.time)] {
            if given.is_some() {
                violation(field, "cannot be combined with periodicInterval".to_owned());
            }
        }
    } else {
        match input.time_offset.as_deref().map(|o| (o, offset_sign(o))) {
            None => violation(
                "timeOffset",
                "is required without periodicInterval (e.g. \"-2 days\")".to_owned(),
            ),
            Some((offset, None)) => violation(
                "timeOffset",
                format!(
                    "must be \"<integer> days\" or \"<integer> hours\" (e.g. \"-2 days\"), not {offset:?}"
                ),
            ),
            Some((offset, Some(Sign::Negative))) if !takes_negative_offsets(kind) => violation(
                "timeOffset",
                format!("cannot be negative for {kind_name}, not {offset:?}"),
            ),
            Some(_) => {}
        }
        if let Some(time) = input.time.as_deref()
            && !is_time_of_day(time)
        {
            violation(
                "time",
                format!(
                    "must be a 24-hour time H:MM:SS or HH:MM:SS (e.g. \"7:30:00\"), not {time:?}"
                ),
            );
        }
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    Ok(NotificationConfigBody {
        notification_type: kind.canopy_name(),
        time_offset: input.time_offset.clone(),
        time: input.time.clone(),
        periodic_interval: input.periodic_interval.map(|p| p.canopy_name()),
    })
}

/// Before or after the event it counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sign {
    Negative,
    NotNegative,
}

/// The offset's sign when it matches `^-?[0-9]+ (day|days|hour|hours)$`.
fn offset_sign(offset: &str) -> Option<Sign> {
    let (sign, rest) = match offset.strip_prefix('-') {
        Some(rest) => (Sign::Negative, rest),
        None => (Sign::NotNegative, offset),
    };
    let (amount, unit) = rest.split_once(' ')?;
    let counted = !amount.is_empty() && amount.bytes().all(|b| b.is_ascii_digit());
    let unit_known = matches!(unit, "day" | "days" | "hour" | "hours");
    (counted && unit_known).then_some(sign)
}

/// Only the due dates can be announced ahead: the others count from
/// something that has happened (a missed payment, delinquency).
fn takes_negative_offsets(kind: NotificationType) -> bool {
    matches!(
        kind,
        NotificationType::PaymentDueDate | NotificationType::MinimumPaymentDue
    )
}

/// `H:MM:SS` or `HH:MM:SS`, 24-hour.
fn is_time_of_day(time: &str) -> bool {
    let number = |part: &str, digits: &[usize], max: u32| {
        digits.contains(&part.len())
            && part.bytes().all(|b| b.is_ascii_digit())
            && part.parse::<u32>().is_ok_and(|n| n <= max)
    };
    let parts: Vec<&str> = time.split(':').collect();
    matches!(parts.as_slice(), [h, m, s]
        if number(h, &[1, 2], 23) && number(m, &[2], 59) && number(s, &[2], 59))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::types::PeriodicInterval;

    #[test]
    fn offsets_match_the_contract_pattern() {
        for (offset, sign) in [
            ("-2 days", Some(Sign::Negative)),
            ("7 days", Some(Sign::NotNegative)),
            ("0 days", Some(Sign::NotNegative)),
            ("1 day", Some(Sign::NotNegative)),
            ("12 hours", Some(Sign::NotNegative)),
            ("-1 hour", Some(Sign::Negative)),
            ("2 weeks", None),
            ("+2 days", None),
            ("2days", None),
            ("2  days", None),
            (" 2 days", None),
            ("- 2 days", None),
            ("days", None),
            ("-", None),
            ("", None),
            ("2 Days", None),
            ("٣ days", None),
        ] {
            assert_eq!(offset_sign(offset), sign, "{offset:?}");
        }
    }

    #[test]
    fn times_are_24_hour_h_mm_ss() {
        for good in ["7:30:00", "00:00:00", "23:59:59", "0:00:00", "09:05:07"] {
            assert!(is_time_of_day(good), "{good}");
        }
        for bad in [
            "25:00:00",
            "24:00:00",
            "7:60:00",
            "7:30:60",
            "7:30",
            "123:00:00",
            "7:3:00",
            "07:30:00:00",
            "7:30:0a",
            "+7:30:00",
            "",
            "7:30:00 ",
        ] {
            assert!(!is_time_of_day(bad), "{bad}");
        }
    }

    fn input(
        kind: NotificationType,
        offset: Option<&str>,
        time: Option<&str>,
        periodic: Option<PeriodicInterval>,
    ) -> ConfigureNotificationInput {
        ConfigureNotificationInput {
            account_id: "acc".into(),
            notification_type: kind,
            time_offset: offset.map(str::to_owned),
            time: time.map(str::to_owned),
            periodic_interval: periodic,
        }
    }

    fn fields(input: &ConfigureNotificationInput) -> Vec<&'static str> {
        match check(input) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(|e| e.field().unwrap()).collect(),
        }
    }

    #[test]
    fn every_broken_rule_is_named() {
        use NotificationType::*;
        let daily = Some(PeriodicInterval::Daily);
        assert!(fields(&input(PaymentDueDate, Some("-2 days"), None, None)).is_empty());
        assert!(fields(&input(AccountDelinquency, None, None, daily)).is_empty());
        assert_eq!(
            fields(&input(AccountDelinquency, Some("7 days"), None, daily)),
            ["timeOffset"]
        );
        assert_eq!(
            fields(&input(
                PaymentDueDate,
                Some("1 day"),
                Some("7:30:00"),
                daily
            )),
            ["periodicInterval", "timeOffset", "time"]
        );
        assert_eq!(
            fields(&input(
                MinimumPaymentMissed,
                Some("-1 days"),
                Some("25:00:00"),
                None
            )),
            ["timeOffset", "time"]
        );
        assert_eq!(
            fields(&input(MinimumPaymentDue, None, None, None)),
            ["timeOffset"]
        );
        let mut blank = input(PaymentDueDate, Some("1 day"), None, None);
        blank.account_id = " ".into();
        assert_eq!(fields(&blank), ["accountId"]);
    }

    #[test]
    fn the_body_carries_canopys_names_and_only_the_fields_given() {
        let body = check(&input(
            NotificationType::AccountDelinquency,
            None,
            None,
            Some(PeriodicInterval::Weekly),
        ))
        .unwrap();
        assert_eq!(
            body,
            NotificationConfigBody {
                notification_type: "account_delinquency",
                time_offset: None,
                time: None,
                periodic_interval: Some("WEEKLY"),
            }
        );
    }
}
