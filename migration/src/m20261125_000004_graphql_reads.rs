use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Indexes behind the GraphQL filters, and the tables the GraphQL API reads
/// that later mutations write (notification configs, audit log).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Lists are newest first by id, so each filter column is paired with
        // `id`: the index then gives rows in the order the page needs.
        for (name, column) in [
            ("events_source_id", Events::Source),
            ("events_event_type_id", Events::EventType),
            ("events_received_at_id", Events::ReceivedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Events::Table)
                        .col(column)
                        .col(Events::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("accounts_status_id")
                    .table(Accounts::Table)
                    .col(Accounts::Status)
                    .col(Accounts::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(NotificationConfigs::Table)
                    .col(big_pk_auto(NotificationConfigs::Id))
                    .col(string(NotificationConfigs::AccountId))
                    // Canopy's name, e.g. `payment_due_date`.
                    .col(string(NotificationConfigs::NotificationType))
                    .col(string_null(NotificationConfigs::TimeOffset))
                    .col(string_null(NotificationConfigs::Time))
                    .col(string_null(NotificationConfigs::PeriodicInterval))
                    .col(timestamp_with_time_zone(NotificationConfigs::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Canopy keeps one config per account and notification type; a new
        // PUT replaces it.
        manager
            .create_index(
                Index::create()
                    .name("notification_configs_account_type")
                    .table(NotificationConfigs::Table)
                    .col(NotificationConfigs::AccountId)
                    .col(NotificationConfigs::NotificationType)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(string(AuditLog::KeyId))
                    .col(string(AuditLog::Action))
                    .col(text(AuditLog::Input))
                    .col(string(AuditLog::Outcome))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(NotificationConfigs::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("accounts_status_id")
                    .table(Accounts::Table)
                    .to_owned(),
            )
            .await?;
        for name in [
            "events_source_id",
            "events_event_type_id",
            "events_received_at_id",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Events::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    Source,
    EventType,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Status,
}

#[derive(DeriveIden)]
enum NotificationConfigs {
    Table,
    Id,
    AccountId,
    NotificationType,
    TimeOffset,
    Time,
    PeriodicInterval,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    KeyId,
    Action,
    Input,
    Outcome,
    At,
}
