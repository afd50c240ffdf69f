use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    // `id` is assigned by the writer while it holds the store's
                    // commit lock, so id order is commit order (the cursor order).
                    .col(big_integer(Events::Id).primary_key())
                    .col(string(Events::Source))
                    .col(string(Events::EventType))
                    .col(string_null(Events::AccountId))
                    .col(string_null(Events::DedupKey))
                    .col(timestamp_with_time_zone_null(Events::OccurredAt))
                    .col(timestamp_with_time_zone(Events::ReceivedAt))
                    .col(text(Events::Payload))
                    .col(string_null(Events::ContentType))
                    .col(integer(Events::Deliveries).default(1))
                    .col(text_null(Events::FollowUp))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("events_source_dedup_key")
                    .table(Events::Table)
                    .col(Events::Source)
                    .col(Events::DedupKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("events_account_id")
                    .table(Events::Table)
                    .col(Events::AccountId)
                    .col(Events::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Events::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    Source,
    EventType,
    AccountId,
    DedupKey,
    OccurredAt,
    ReceivedAt,
    Payload,
    ContentType,
    Deliveries,
    FollowUp,
}
