use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub source: String,
    pub event_type: String,
    pub account_id: Option<String>,
    pub dedup_key: Option<String>,
    pub occurred_at: Option<DateTimeUtc>,
    pub received_at: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub content_type: Option<String>,
    pub deliveries: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub follow_up: Option<String>,
    /// When retention purged the payload (then `{}`); null while kept.
    pub purged_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
