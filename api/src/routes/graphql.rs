//! `POST /graphql` (authenticated) and `GET /graphql` (GraphiQL, open).
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::GraphQLResponse;
use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header::WWW_AUTHENTICATE},
    response::{Html, IntoResponse, Response},
    routing::get,
};

use crate::{app::AppState, graphql::error::GqlError};

/// A query within the limits is a few kilobytes; this leaves room for
/// variables without letting a body tie up memory.
pub const MAX_GRAPHQL_BODY_BYTES: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/graphql", get(graphiql).post(execute))
        .layer(DefaultBodyLimit::max(MAX_GRAPHQL_BODY_BYTES))
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn execute(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let caller = match state.auth.authenticate_headers(&headers) {
        Ok(caller) => caller,
        Err(error) => {
            let mut response = refused(StatusCode::UNAUTHORIZED, error.into());
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    };
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
