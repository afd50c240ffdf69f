use async_graphql::{Context, Guard};

use super::error::GqlError;
use crate::auth::{AuthError, Caller, Role};

/// Lets a GraphQL field through for callers with at least this role.
pub struct RoleGuard(pub Role);

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        // No caller means no route authenticated this request: refuse it.
        let error = match ctx.data_opt::<Caller>() {
            Some(caller) if caller.can(self.0) => return Ok(()),
            Some(_) => GqlError::Forbidden(self.0),
            None => GqlError::Unauthenticated(AuthError::MissingKey),
        };
        Err(error.into())
    }
}
