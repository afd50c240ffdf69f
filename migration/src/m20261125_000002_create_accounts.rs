use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(string(Accounts::Id).primary_key())
                    .col(string_null(Accounts::CustomerId))
                    .col(string_null(Accounts::Status))
                    .col(string_null(Accounts::StatusSubtype))
                    .col(big_integer_null(Accounts::CreditLimitCents))
                    .col(big_integer_null(Accounts::AvailableCreditCents))
                    .col(big_integer_null(Accounts::TotalBalanceCents))
                    .col(big_integer_null(Accounts::MinPayDueCents))
                    .col(timestamp_with_time_zone_null(Accounts::MinPayDueAt))
                    .col(integer_null(Accounts::DaysPastDue))
                    .col(timestamp_with_time_zone_null(Accounts::DelinquentAsOf))
                    .col(text_null(Accounts::Snapshot))
                    // `changed_at` of the full object last applied: an older
                    // account object never rolls the account back.
                    .col(timestamp_with_time_zone_null(Accounts::SnapshotChangedAt))
                    .col(timestamp_with_time_zone(Accounts::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Accounts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    CustomerId,
    Status,
    StatusSubtype,
    CreditLimitCents,
    AvailableCreditCents,
    TotalBalanceCents,
    MinPayDueCents,
    MinPayDueAt,
    DaysPastDue,
    DelinquentAsOf,
    Snapshot,
    SnapshotChangedAt,
    UpdatedAt,
}
