//! SeaORM entities, one module per table. No logic lives here.
pub mod accounts;
pub mod events;
pub mod rejected_deliveries;
