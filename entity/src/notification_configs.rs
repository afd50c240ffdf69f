use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_configs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: String,
    pub notification_type: String,
    pub time_offset: Option<String>,
    pub time: Option<String>,
    pub periodic_interval: Option<String>,
    /// What sets it apart from the account's other configs of its type:
    /// its time offset, or `periodic`.
    pub slot: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
