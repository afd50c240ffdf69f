//! `POST /graphql` (authenticated) and `GET /graphql` (the console's query
//! page, open).
use async_graphql_axum::GraphQLResponse;
use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequestParts, State, rejection::BytesRejection},
    http::{HeaderValue, StatusCode, header::WWW_AUTHENTICATE, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{
    auth::Caller,
    graphql::{error::GqlError, limits::MAX_REQUEST_BYTES},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/graphql", get(super::console::query_page).post(execute))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
}

/// The caller of an HTTP request, from `Authorization: Bearer <key>`;
/// checked before the body is read.
impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        state
            .auth
            .authenticate_headers(&parts.headers)
            .map_err(|error| {
                let mut response = refused(StatusCode::UNAUTHORIZED, error.into());
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            })
    }
}

async fn execute(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = match body {
        Ok(body) => serde_json::from_slice::<async_graphql::Request>(&body).map_err(|e| {
            GqlError::bad_input(format!(
                "the body is not a GraphQL request ({{\"query\": …}}): {e}"
            ))
        }),
        Err(rejection) => Err(GqlError::bad_input(rejection.body_text())),
    };
    let request = match request {
        Ok(request) => request,
        Err(error) => return refused(StatusCode::BAD_REQUEST, error),
    };
    GraphQLResponse::from(state.schema.execute(request.data(caller)).await).into_response()
}

/// A request refused before execution, in GraphQL's response shape.
fn refused(status: StatusCode, error: GqlError) -> Response {
    let response = async_graphql::Response::from_errors(vec![error.into_server_error()]);
    (status, Json(response)).into_response()
}
