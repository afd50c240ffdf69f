//! The company view: Embedded Funding's state of each company, as its
//! follow-ups read it. Each part keeps the newest read (by when the read
//! was sent), whatever order the follow-ups finish in.
use chrono::{DateTime, Utc};
use entity::{companies, company_records};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, Iterable, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, OnConflict},
};

/// What a company holds several of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Withdrawal,
    LimitRequest,
    Loan,
}

impl RecordKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Withdrawal => "withdrawal",
            Self::LimitRequest => "limit_request",
            Self::Loan => "loan",
        }
    }
}

/// One withdrawal, limit request or loan as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub kind: RecordKind,
    pub id: String,
    /// JSON text.
    pub state: String,
}

/// What one follow-up read of a company; `None` is "not read".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyChange {
    pub company_id: String,
    /// When the reads were sent.
    pub fetched_at: DateTime<Utc>,
    /// JSON text of `GET /status`.
    pub credit_status: Option<String>,
    /// JSON text of `GET /terms`.
    pub terms: Option<String>,
    pub records: Vec<Record>,
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<companies::Model>, DbErr> {
    companies::Entity::find_by_id(id.to_owned()).one(db).await
}

/// Folds `change` into the stored company (creating it): a part read
/// before the stored one is not applied.
pub async fn apply(
    db: &impl ConnectionTrait,
    change: CompanyChange,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut company = find(db, &change.company_id)
        .await?
        .unwrap_or_else(|| companies::Model {
            id: change.company_id.clone(),
            credit_status: None,
            credit_status_fetched_at: None,
            terms: None,
            terms_fetched_at: None,
            updated_at: now,
        });
    let at = change.fetched_at;
    newest(
        (
            &mut company.credit_status,
            &mut company.credit_status_fetched_at,
        ),
        change.credit_status,
        at,
    );
    newest(
        (&mut company.terms, &mut company.terms_fetched_at),
        change.terms,
        at,
    );
    company.updated_at = now;
    let update = OnConflict::column(companies::Column::Id)
        .update_columns(companies::Column::iter().filter(|c| !matches!(c, companies::Column::Id)))
        .to_owned();
    companies::Entity::insert(company.into_active_model())
        .on_conflict(update)
        .exec_without_returning(db)
        .await?;
    upsert_records(db, &change.company_id, change.records, at).await
}

/// Sets the part to `read` unless what is stored was read later.
fn newest(
    (part, part_at): (&mut Option<String>, &mut Option<DateTime<Utc>>),
    read: Option<String>,
    at: DateTime<Utc>,
) {
    if read.is_some() && part_at.is_none_or(|stored| stored <= at) {
        *part = read;
        *part_at = Some(at);
    }
}

async fn upsert_records(
    db: &impl ConnectionTrait,
    company_id: &str,
    records: Vec<Record>,
    fetched_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    use company_records::Column;
    if records.is_empty() {
        return Ok(());
    }
    let rows = records
        .into_iter()
        .map(|record| company_records::ActiveModel {
            company_id: Set(company_id.to_owned()),
            kind: Set(record.kind.as_str().to_owned()),
            record_id: Set(record.id),
            state: Set(record.state),
            fetched_at: Set(fetched_at),
        });
    // A stored record read later than this one stays.
    let stored = Expr::col((company_records::Entity, Column::FetchedAt));
    let arriving = Expr::col((Alias::new("excluded"), Column::FetchedAt));
    let update = OnConflict::columns([Column::CompanyId, Column::Kind, Column::RecordId])
        .update_columns([Column::State, Column::FetchedAt])
        .action_and_where(stored.lte(arriving))
        .to_owned();
    company_records::Entity::insert_many(rows)
        .on_conflict(update)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// One page of a company's records of `kind`, in id order, after `after`.
pub async fn records(
    db: &impl ConnectionTrait,
    company_id: &str,
    kind: RecordKind,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<company_records::Model>, DbErr> {
    use company_records::Column;
    let mut query = company_records::Entity::find()
        .filter(Column::CompanyId.eq(company_id))
        .filter(Column::Kind.eq(kind.as_str()));
    if let Some(after) = after {
        query = query.filter(Column::RecordId.gt(after));
    }
    query
        .order_by_asc(Column::RecordId)
        .limit(limit)
        .all(db)
        .await
}
