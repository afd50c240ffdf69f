use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub customer_id: Option<String>,
    pub status: Option<String>,
    pub status_subtype: Option<String>,
    pub credit_limit_cents: Option<i64>,
    pub available_credit_cents: Option<i64>,
    pub total_balance_cents: Option<i64>,
    pub min_pay_due_cents: Option<i64>,
    pub min_pay_due_at: Option<DateTimeUtc>,
    pub days_past_due: Option<i32>,
    pub delinquent_as_of: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub snapshot: Option<String>,
    pub snapshot_changed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
