//! `POST /graphql` (authenticated) and `GET /graphql` (the console's query
//! page, open), as the GraphQL-over-HTTP spec says: `application/json`
//! requests, responses in `application/graphql-response+json` or
//! `application/json` as the client's `Accept` chooses, with the status
//! codes of that media type.
use async_graphql::{Extensions, Variables};
use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequestParts, Query, State, rejection::BytesRejection},
    http::{
        HeaderMap, HeaderValue, StatusCode,
        header::{ACCEPT, ALLOW, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE},
        request::Parts,
    },
    response::{IntoResponse, Response},
    routing::get,
};
use std::time::Duration;

use serde::Deserialize;

use crate::{
    auth::Caller,
    graphql::{self, error::GqlError, limits::MAX_REQUEST_BYTES},
    state::AppState,
};

/// GraphQL requests a node executes at once; more wait up to [`SLOT_WAIT`],
/// then are answered 503 `OVERLOADED` with `Retry-After`.
pub const MAX_CONCURRENT_REQUESTS: usize = 32;
const SLOT_WAIT: Duration = Duration::from_secs(2);
/// A page of events is a few tens of KiB; starting there spares the
/// doublings on the way.
const RESPONSE_CAPACITY: usize = 16 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/graphql", get(page).post(execute))
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
                let mut response = refused(StatusCode::UNAUTHORIZED, Media::Json, error.into());
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            })
    }
}

/// The media type a response is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Media {
    GraphQLResponse,
    /// The legacy type: every well-formed request is answered 200.
    Json,
}

impl Media {
    const fn essence(self) -> &'static str {
        match self {
            Self::GraphQLResponse => "application/graphql-response+json",
            Self::Json => "application/json",
        }
    }

    fn content_type(self) -> HeaderValue {
        match self {
            Self::GraphQLResponse => {
                HeaderValue::from_static("application/graphql-response+json; charset=utf-8")
            }
            Self::Json => HeaderValue::from_static("application/json; charset=utf-8"),
        }
    }

    /// The type `Accept` ranks highest; `application/json` without the
    /// header (legacy clients), for `*/*` and on ties between wildcards;
    /// `None` when the client takes neither.
    fn negotiate(accept: &str) -> Option<Self> {
        if accept.trim().is_empty() {
            return Some(Self::Json);
        }
        let ranges: Vec<(mime::Mime, u16)> = accept
            .split(',')
            .filter_map(|range| {
                let range: mime::Mime = range.trim().parse().ok()?;
                let q = match range.get_param("q") {
                    Some(q) => weight(q.as_str())?,
                    None => 1000,
                };
                Some((range, q))
            })
            .collect();
        // For each type: the most specific range naming it, and where it is.
        let rank = |media: Self| {
            let essence = media.essence();
            let (top, _) = essence.split_once('/').expect("type/subtype");
            ranges
                .iter()
                .enumerate()
                .filter_map(|(position, (range, q))| {
                    let specific = match (range.type_().as_str(), range.subtype().as_str()) {
                        _ if range.essence_str() == essence => 2,
                        (ty, "*") if ty == top => 1,
                        ("*", "*") => 0,
                        _ => return None,
                    };
                    Some((specific, std::cmp::Reverse(position), *q))
                })
                .max_by_key(|(specific, position, _)| (*specific, *position))
                .filter(|(_, _, q)| *q > 0)
                .map(|(specific, position, q)| (q, specific, position))
        };
        let json = rank(Self::Json).map(|rank| (rank, Self::Json));
        let graphql = rank(Self::GraphQLResponse).map(|rank| (rank, Self::GraphQLResponse));
        match (json, graphql) {
            (Some(json), Some(graphql)) if graphql.0 > json.0 => Some(graphql.1),
            (Some(json), _) => Some(json.1),
            (None, graphql) => graphql.map(|(_, media)| media),
        }
    }
}

/// A `q` value in thousandths (`0.5` → 500); `None` when it is not one.
fn weight(q: &str) -> Option<u16> {
    let q: f32 = q.parse().ok()?;
    // Within 0..=1000 once scaled, so the cast loses nothing.
    (0.0..=1.0)
        .contains(&q)
        .then(|| (q * 1000.0).round() as u16)
}

/// The response type from `Accept` (406 when the client takes neither).
impl<S: Sync> FromRequestParts<S> for Media {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let media = match parts.headers.get(ACCEPT) {
            None => Some(Self::Json),
            Some(accept) => accept.to_str().ok().and_then(Self::negotiate),
        };
        media.ok_or_else(|| {
            let message = "the response is application/graphql-response+json or application/json; \
                           Accept takes neither";
            refused(
                StatusCode::NOT_ACCEPTABLE,
                Self::Json,
                GqlError::bad_input(message),
            )
        })
    }
}

/// `Content-Type: application/json` (UTF-8, the only charset allowed), or 415:
/// a browser cannot send that cross-origin without a CORS preflight.
struct JsonContentType;

impl<S: Sync> FromRequestParts<S> for JsonContentType {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        if is_json(&parts.headers) {
            return Ok(Self);
        }
        let message = "POST /graphql takes Content-Type: application/json";
        Err(refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Media::Json,
            GqlError::bad_input(message),
        ))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    content_type
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|mime| {
            mime.essence_str() == mime::APPLICATION_JSON.essence_str()
                && mime
                    .get_param(mime::CHARSET)
                    .is_none_or(|charset| charset == mime::UTF_8)
        })
}

#[derive(Deserialize)]
struct GetParams {
    query: Option<String>,
}

/// The console's query page; a GraphQL request sent as GET is refused
/// (405): operations run from POST only, which a browser cannot send
/// cross-origin unasked.
async fn page(Query(params): Query<GetParams>, headers: HeaderMap) -> Response {
    if params.query.is_some() {
        let message = "GET /graphql serves the query page; send operations as POST with \
                       Content-Type: application/json";
        let mut response = refused(
            StatusCode::METHOD_NOT_ALLOWED,
            Media::Json,
            GqlError::bad_input(message),
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, POST"));
        return response;
    }
    super::console::query_page(headers).await
}

/// A GraphQL-over-HTTP request encoded in JSON. `null` stands for an
/// omitted parameter; a parameter of the wrong type is not a request.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    query: String,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Variables,
    #[serde(default)]
    extensions: Extensions,
}

async fn execute(
    State(state): State<AppState>,
    caller: Caller,
    media: Media,
    _: JsonContentType,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => serde_json::from_slice::<Body>(&body).map_err(|e| {
            GqlError::bad_input(format!(
                "the body is not a GraphQL request ({{\"query\": …}}): {e}"
            ))
        }),
        Err(rejection) => Err(GqlError::bad_input(rejection.body_text())),
    };
    let body = match body {
        Ok(body) => body,
        Err(error) => return refused(StatusCode::BAD_REQUEST, media, error),
    };
    // Bounded GraphQL work per node: ingest and subscriptions keep their
    // share of the CPU and memory however many queries arrive.
    let Ok(Ok(_slot)) = tokio::time::timeout(SLOT_WAIT, state.graphql_slots.acquire()).await else {
        let mut response = refused(
            StatusCode::SERVICE_UNAVAILABLE,
            media,
            GqlError::Overloaded(format!(
                "{MAX_CONCURRENT_REQUESTS} GraphQL requests are running; retry shortly"
            )),
        );
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    let mut request = async_graphql::Request::new(body.query).variables(body.variables);
    request.operation_name = body.operation_name;
    request.extensions = body.extensions;
    respond(media, state.schema.execute(request.data(caller)).await)
}

/// A GraphQL response in `media`. A request error (the document did not
/// parse or validate, was over the limits, or its variables did not
/// coerce) happens before execution: no error of it has a path, and the
/// response has no `data`; `application/graphql-response+json` answers it
/// 400, `application/json` 200 as the spec advises for legacy clients.
fn respond(media: Media, response: async_graphql::Response) -> Response {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty());
    let status = match media {
        Media::GraphQLResponse if request_error => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let mut body = Vec::with_capacity(RESPONSE_CAPACITY);
    graphql::response::write(&mut body, &response, !request_error);
    (status, [(CONTENT_TYPE, media.content_type())], body).into_response()
}

/// A request refused before execution, in GraphQL's response shape (no `data`).
pub(super) fn refused(status: StatusCode, media: Media, error: GqlError) -> Response {
    let body = serde_json::json!({ "errors": [error.into_server_error()] });
    (
        status,
        [(CONTENT_TYPE, media.content_type())],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_picks_the_highest_ranked_type() {
        use Media::{GraphQLResponse as Gql, Json};
        let cases = [
            ("", Some(Json)),
            ("application/json", Some(Json)),
            ("application/graphql-response+json", Some(Gql)),
            (
                "application/graphql-response+json, application/json",
                Some(Gql),
            ),
            (
                "application/json, application/graphql-response+json",
                Some(Json),
            ),
            (
                "application/json;q=0.9, application/graphql-response+json",
                Some(Gql),
            ),
            (
                "application/graphql-response+json;q=0.5, application/json;q=0.8",
                Some(Json),
            ),
            ("*/*", Some(Json)),
            ("application/*", Some(Json)),
            ("app/*", None),
            ("*/*, application/graphql-response+json", Some(Gql)),
            ("*/*;q=0.1, application/json;q=0", Some(Gql)),
            (
                "application/graphql-response+json; charset=utf-8, application/json; charset=utf-8",
                Some(Gql),
            ),
            ("APPLICATION/JSON", Some(Json)),
            ("text/html", None),
            ("application/json;q=0", None),
            ("application/json;q=x", None),
        ];
        for (accept, want) in cases {
            assert_eq!(Media::negotiate(accept), want, "{accept:?}");
        }
    }

    #[test]
    fn only_utf8_json_bodies_are_taken() {
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            headers
        };
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON; charset=UTF-8",
        ] {
            assert!(is_json(&headers(ok)), "{ok}");
        }
        for refused in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/graphql",
            "application/json; charset=latin1",
            "application/jsonx",
        ] {
            assert!(!is_json(&headers(refused)), "{refused}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
