use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The durable follow-up queue: one row per event that owes a read of
/// provider state, inserted in the event's own transaction.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FollowUps::Table)
                    .col(big_pk_auto(FollowUps::Id))
                    .col(big_integer(FollowUps::EventId))
                    // What to do (`embedded_funding`, `canopy_account`) and its input (JSON).
                    .col(string(FollowUps::Kind))
                    .col(text(FollowUps::Input))
                    // `pending`, `done` or `failed` (given up).
                    .col(string(FollowUps::State))
                    // Claims so far; the claim's token, so only its holder finishes it.
                    .col(integer(FollowUps::Attempts).default(0))
                    // When a pending job may be claimed: its next attempt, or
                    // the end of the current claim's lease.
                    .col(timestamp_with_time_zone(FollowUps::DueAt))
                    .col(text_null(FollowUps::LastError))
                    .col(timestamp_with_time_zone(FollowUps::CreatedAt))
                    .col(timestamp_with_time_zone(FollowUps::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("follow_ups_event_id")
                    .table(FollowUps::Table)
                    .col(FollowUps::EventId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Claims look for pending jobs that are due, soonest first.
        manager
            .create_index(
                Index::create()
                    .name("follow_ups_state_due_at")
                    .table(FollowUps::Table)
                    .col(FollowUps::State)
                    .col(FollowUps::DueAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FollowUps::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum FollowUps {
    Table,
    Id,
    EventId,
    Kind,
    Input,
    State,
    Attempts,
    DueAt,
    LastError,
    CreatedAt,
    UpdatedAt,
}
