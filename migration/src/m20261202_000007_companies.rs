use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The company view: Embedded Funding's state of each company as the
/// follow-ups last read it (credit status and terms, and one row per
/// withdrawal, limit request and loan).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Companies::Table)
                    .col(string(Companies::Id).primary_key())
                    .col(text_null(Companies::CreditStatus))
                    .col(timestamp_with_time_zone_null(
                        Companies::CreditStatusFetchedAt,
                    ))
                    .col(text_null(Companies::Terms))
                    .col(timestamp_with_time_zone_null(Companies::TermsFetchedAt))
                    .col(timestamp_with_time_zone(Companies::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CompanyRecords::Table)
                    .col(string(CompanyRecords::CompanyId))
                    // `withdrawal`, `limit_request` or `loan`.
                    .col(string(CompanyRecords::Kind))
                    .col(string(CompanyRecords::RecordId))
                    .col(text(CompanyRecords::State))
                    // When the read that gave `state` was sent: a later read wins.
                    .col(timestamp_with_time_zone(CompanyRecords::FetchedAt))
                    .primary_key(
                        Index::create()
                            .col(CompanyRecords::CompanyId)
                            .col(CompanyRecords::Kind)
                            .col(CompanyRecords::RecordId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CompanyRecords::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Companies::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    CreditStatus,
    CreditStatusFetchedAt,
    Terms,
    TermsFetchedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CompanyRecords {
    Table,
    CompanyId,
    Kind,
    RecordId,
    State,
    FetchedAt,
}
