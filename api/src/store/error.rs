/// Why a store operation failed. Every variant means nothing was committed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(#[from] sea_orm::DbErr),
    #[error("the store writer has stopped")]
    WriterStopped,
    #[error("not committed within {0:?}")]
    TimedOut(std::time::Duration),
}
