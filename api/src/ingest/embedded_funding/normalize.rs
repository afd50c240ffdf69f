//! A callback as a [`NewEvent`], and the reads it calls for.
use super::payload::Callback;
use crate::{
    event::{CompanyRead, FollowUp, NewEvent, SourceKind},
    ingest::{Delivery, IngestError, idempotency_key},
};

/// The type names of seed 004's message codes.
fn type_name(message: i64) -> String {
    match message {
        0 => "CreditLimitUpdated".into(),
        1 => "WithdrawalRequestStatusChanged".into(),
        2 => "CreditBalanceUpdated".into(),
        3 => "LimitRequestStatusChanged".into(),
        4 => "LoanPaymentRegistered".into(),
        other => format!("Unknown({other})"),
    }
}

/// Seed 004's mapping from a message to the GETs that read what changed.
/// None for an unknown message, or when the identifier a read needs is
/// missing (the callback is kept; there is nothing to read).
fn reads(callback: &Callback<'_>) -> Vec<CompanyRead> {
    let with = |id: &Option<String>, read: fn(String) -> CompanyRead| {
        id.clone().map(read).into_iter().collect()
    };
    match callback.message {
        0 | 2 => vec![CompanyRead::CreditStatus, CompanyRead::Terms],
        1 => with(&callback.withdrawal_id, CompanyRead::Withdrawal),
        3 => with(&callback.limit_request_id, CompanyRead::LimitRequestStatus),
        4 => with(&callback.loan_id, CompanyRead::Loan),
        _ => Vec::new(),
    }
}

/// `accountId` is `companyId`. Identical callbacks can be legitimate (a
/// status that changed twice), so only an `Idempotency-Key` dedups.
pub fn normalize(
    callback: Callback<'_>,
    delivery: &Delivery<'_>,
    follow_ups: bool,
) -> Result<NewEvent, IngestError> {
    let reads = reads(&callback);
    let follow_up = match &callback.company_id {
        Some(company_id) if follow_ups && !reads.is_empty() => Some(FollowUp::EmbeddedFunding {
            company_id: company_id.clone(),
            reads,
        }),
        _ => None,
    };
    Ok(NewEvent {
        source: SourceKind::EmbeddedFunding,
        event_type: type_name(callback.message),
        account_id: callback.company_id,
        dedup_key: idempotency_key(delivery.head.headers)?,
        occurred_at: None,
        payload: callback.text.to_owned(),
        content_type: None,
        account_change: None,
        follow_up,
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/../../shared/fixtures/embedded-funding/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(path).unwrap()
    }

    fn event(body: &str) -> NewEvent {
        event_with(body, true)
    }

    fn event_with(body: &str, follow_ups: bool) -> NewEvent {
        let headers = HeaderMap::new();
        let delivery = Delivery::local(&headers, body.as_bytes());
        normalize(
            Callback::parse(body.as_bytes()).unwrap(),
            &delivery,
            follow_ups,
        )
        .unwrap()
    }

    #[test]
    fn each_documented_message_reads_what_it_announces() {
        let company = "83203410-df0e-4bff-bb79-cd94535a4cbe";
        let status_and_terms = vec![CompanyRead::CreditStatus, CompanyRead::Terms];
        for (name, type_name, reads) in [
            (
                "0_credit_limit_updated",
                "CreditLimitUpdated",
                status_and_terms.clone(),
            ),
            (
                "1_withdrawal_request_status_changed",
                "WithdrawalRequestStatusChanged",
                vec![CompanyRead::Withdrawal(
                    "39770189-a190-438d-8210-e425181157c4".into(),
                )],
            ),
            (
                "2_credit_balance_updated",
                "CreditBalanceUpdated",
                status_and_terms,
            ),
            (
                "3_limit_request_status_changed",
                "LimitRequestStatusChanged",
                vec![CompanyRead::LimitRequestStatus(
                    "23203210-af0e-sadf-9079-1157c45a4cbe".into(),
                )],
            ),
            (
                "4_loan_payment_registered",
                "LoanPaymentRegistered",
                vec![CompanyRead::Loan(
                    "34503210-af0b-sadf-9079-2252c45a4cbe".into(),
                )],
            ),
        ] {
            let body = fixture(name);
            let event = event(&body);
            assert_eq!(event.event_type, type_name);
            assert_eq!(event.account_id.as_deref(), Some(company));
            assert_eq!(event.payload, body);
            assert_eq!(event.dedup_key, None);
            assert_eq!(
                event.follow_up,
                Some(FollowUp::EmbeddedFunding {
                    company_id: company.into(),
                    reads
                })
            );
        }
    }

    #[test]
    fn unknown_messages_and_missing_identifiers_read_nothing() {
        let unknown = event(r#"{"message": 7, "companyId": "c"}"#);
        assert_eq!(
            (unknown.event_type.as_str(), unknown.follow_up),
            ("Unknown(7)", None)
        );
        assert_eq!(
            event(r#"{"message": 1, "companyId": "c", "withdrawalId": null}"#).follow_up,
            None
        );
        assert_eq!(
            event(r#"{"message": 0, "companyId": null}"#).follow_up,
            None
        );
    }
}
