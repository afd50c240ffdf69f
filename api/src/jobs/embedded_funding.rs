//! An Embedded Funding callback's follow-up: the documented GETs, their
//! answers as the event's `followUp` and as the company view's state.
use chrono::{DateTime, Utc};
use futures::future::try_join_all;
use serde_json::{Map, Value};

use super::rfc3339;
use crate::{
    clients::{ClientError, embedded_funding::EmbeddedFundingClient},
    event::CompanyRead,
    store::companies::{CompanyChange, Record, RecordKind},
};

/// All of `reads` (at once), or the first failure: a follow-up stores all
/// its reads or none. The `followUp` names each answer (`creditStatus`,
/// `terms`, `withdrawal`, `limitRequestStatus`, `loan`) and when the reads
/// were sent (`fetchedAt`, RFC 3339).
pub async fn read(
    client: &EmbeddedFundingClient,
    company_id: &str,
    reads: &[CompanyRead],
    at: DateTime<Utc>,
) -> Result<(String, CompanyChange), ClientError> {
    let answers = try_join_all(reads.iter().map(|read| client.read(company_id, read))).await?;
    let mut follow_up = Map::new();
    let mut company = CompanyChange {
        company_id: company_id.to_owned(),
        fetched_at: at,
        credit_status: None,
        terms: None,
        records: Vec::new(),
    };
    for (read, answer) in reads.iter().zip(answers) {
        let state = answer.to_string();
        let mut record = |kind, id: &String| {
            company.records.push(Record {
                kind,
                id: id.clone(),
                state: state.clone(),
            });
        };
        let name = match read {
            CompanyRead::CreditStatus => {
                company.credit_status = Some(state.clone());
                "creditStatus"
            }
            CompanyRead::Terms => {
                company.terms = Some(state.clone());
                "terms"
            }
            CompanyRead::Withdrawal(id) => {
                record(RecordKind::Withdrawal, id);
                "withdrawal"
            }
            CompanyRead::LimitRequestStatus(id) => {
                record(RecordKind::LimitRequest, id);
                "limitRequestStatus"
            }
            CompanyRead::Loan(id) => {
                record(RecordKind::Loan, id);
                "loan"
            }
        };
        follow_up.insert(name.to_owned(), answer);
    }
    follow_up.insert("fetchedAt".to_owned(), Value::String(rfc3339(at)));
    Ok((Value::Object(follow_up).to_string(), company))
}
