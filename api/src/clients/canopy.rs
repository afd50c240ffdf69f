//! Canopy's API (`CANOPY_API_URL`): notification configs, accounts, the
//! dead-letter queue and the webhook secret.
//!
//! Every call carries a bearer token from `POST /auth/token` (client
//! credentials). The token is cached until shortly before it expires and
//! shared by all callers; callers that find none wait for the one request
//! that fetches it. A 401 fetches a new token once and retries. Timeouts,
//! 429 (after its `Retry-After`), 5xx and connection failures are retried
//! with backoff ([`super::retry`]) until the call's deadline. Logs name the
//! call and its outcome, never a token, a secret or a body.
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

pub use super::upstream::Timing;
use super::{
    ClientError,
    retry::Retries,
    upstream::{Answer, Upstream},
};
use crate::{env::Env, secret::Secret};

/// A token is renewed this long before Canopy says it expires (or a tenth
/// of its lifetime, when that is shorter).
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// `CANOPY_API_URL`, `CANOPY_CLIENT_ID`, `CANOPY_CLIENT_SECRET`.
#[derive(Clone, Debug)]
pub struct CanopyApiConfig {
    pub url: Url,
    pub client_id: String,
    pub client_secret: Secret,
    pub timing: Timing,
}

impl CanopyApiConfig {
    /// `None` when `CANOPY_API_URL` is unset: the gateway runs, and what
    /// needs Canopy's API says so.
    pub fn from_env(env: &Env<'_>) -> anyhow::Result<Option<Self>> {
        let Some(url) = env.get("CANOPY_API_URL") else {
            return Ok(None);
        };
        let url = Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .with_context(|| format!("CANOPY_API_URL is not an http(s) URL: {url:?}"))?;
        let (Some(client_id), Some(client_secret)) =
            (env.get("CANOPY_CLIENT_ID"), env.get("CANOPY_CLIENT_SECRET"))
        else {
            bail!("CANOPY_API_URL is set, so CANOPY_CLIENT_ID and CANOPY_CLIENT_SECRET are needed");
        };
        Ok(Some(Self {
            url,
            client_id: client_id.trim().to_owned(),
            client_secret: Secret::new(client_secret.trim()),
            timing: Timing::default(),
        }))
    }
}

/// The body of `PUT /accounts/{id}/notification_config`: only the fields
/// given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotificationConfigBody {
    pub notification_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_offset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub periodic_interval: Option<&'static str>,
}

#[derive(Clone)]
pub struct CanopyClient(Arc<Inner>);

struct Inner {
    upstream: Upstream,
    client_id: String,
    client_secret: Secret,
    /// Held while a token is fetched, so concurrent callers make one request.
    token: Mutex<Option<Token>>,
}

struct Token {
    bearer: Secret,
    renew_at: Instant,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    /// Seconds; a token without it is used for the call that fetched it only.
    #[serde(default)]
    expires_in: u64,
}

impl CanopyClient {
    /// Needs a rustls crypto provider installed (`main` installs ring).
    pub fn new(config: &CanopyApiConfig) -> anyhow::Result<Self> {
        Ok(Self(Arc::new(Inner {
            upstream: Upstream::new("Canopy", "canopy", config.url.clone(), config.timing)?,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            token: Mutex::new(None),
        })))
    }

    /// `PUT /accounts/{id}/notification_config`.
    pub async fn configure_notification(
        &self,
        account_id: &str,
        body: &NotificationConfigBody,
    ) -> Result<(), ClientError> {
        let body = serde_json::to_value(body).expect("plain strings serialize");
        let path = ["accounts", account_id, "notification_config"];
        self.call(Method::PUT, &path, Some(&body)).await?;
        Ok(())
    }

    /// `GET /accounts/{id}`: the account object, as webhooks carry it in
    /// `data.object`. Unknown accounts are `Rejected` with status 404.
    pub async fn account(&self, account_id: &str) -> Result<Value, ClientError> {
        let text = self
            .call(Method::GET, &["accounts", account_id], None)
            .await?;
        match serde_json::from_str(&text) {
            Ok(object @ Value::Object(_)) => Ok(object),
            _ => Err(self
                .0
                .upstream
                .bad_response("the account is not a JSON object")),
        }
    }

    /// `PUT /organization/subscribe/replay_failed_events`: Canopy sends its
    /// dead-letter queue to the webhook URL again.
    pub async fn replay_failed_events(&self) -> Result<(), ClientError> {
        let path = ["organization", "subscribe", "replay_failed_events"];
        self.call(Method::PUT, &path, None).await?;
        Ok(())
    }

    /// `GET /organization/subscribe/get_webhook_secret`.
    pub async fn webhook_secret(&self) -> Result<Secret, ClientError> {
        let path = ["organization", "subscribe", "get_webhook_secret"];
        let text = self.call(Method::GET, &path, None).await?;
        secret_in(&text).map(Secret::new).ok_or_else(|| {
            self.0
                .upstream
                .bad_response("no webhook secret in the answer")
        })
    }

    /// An authenticated call: one token refresh on 401, retries within the
    /// call's deadline. Returns the body of a 2xx answer.
    async fn call(
        &self,
        method: Method,
        path: &[&str],
        body: Option<&Value>,
    ) -> Result<String, ClientError> {
        let upstream = &self.0.upstream;
        let url = upstream.url(path);
        let label = format!("{method} {}", url.path());
        let mut retries = upstream.retries();
        let mut refreshed = false;
        loop {
            let bearer = self.token(&mut retries).await?;
            let request = || {
                let request = upstream
                    .http
                    .request(method.clone(), url.clone())
                    .bearer_auth(bearer.expose());
                match body {
                    Some(body) => request.json(body),
                    None => request,
                }
            };
            match upstream.send(&label, &mut retries, request).await? {
                Answer::Success(text) => return Ok(text),
                Answer::Refused(StatusCode::UNAUTHORIZED, _) if !refreshed => {
                    tracing::info!(call = %label, "Canopy refused the token; fetching a new one");
                    refreshed = true;
                    self.forget(&bearer).await;
                }
                Answer::Refused(status, text) => {
                    return Err(upstream.rejected(&label, status, &text));
                }
            }
        }
    }

    /// The cached token, or a new one fetched by this caller while the
    /// others wait for it.
    async fn token(&self, retries: &mut Retries) -> Result<Secret, ClientError> {
        let deadline = tokio::time::Instant::from_std(retries.deadline());
        let upstream = &self.0.upstream;
        let mut cached = tokio::time::timeout_at(deadline, self.0.token.lock())
            .await
            .map_err(|_| upstream.unavailable("no token before the call's deadline".to_owned()))?;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.bearer.clone());
        }
        let asked_at = Instant::now();
        let url = upstream.url(&["auth", "token"]);
        let label = format!("POST {}", url.path());
        let credentials = json!({
            "client_id": self.0.client_id,
            "client_secret": self.0.client_secret.expose(),
        });
        let request = || upstream.http.post(url.clone()).json(&credentials);
        let text = match upstream.send(&label, retries, request).await? {
            Answer::Success(text) => text,
            Answer::Refused(status, text) => return Err(upstream.rejected(&label, status, &text)),
        };
        let answer: TokenAnswer = serde_json::from_str(&text)
            .map_err(|_| upstream.bad_response("the token answer has no access_token"))?;
        let lifetime = Duration::from_secs(answer.expires_in);
        let token = Token {
            bearer: Secret::new(answer.access_token),
            renew_at: asked_at + lifetime - TOKEN_MARGIN.min(lifetime / 10),
        };
        let bearer = token.bearer.clone();
        *cached = Some(token);
        Ok(bearer)
    }

    /// Drops the cached token if it is still the one Canopy refused (another
    /// caller may have replaced it already).
    async fn forget(&self, refused: &Secret) {
        let mut cached = self.0.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.bearer == *refused) {
            *cached = None;
        }
    }
}

/// Canopy's documents do not show this answer: a JSON string, a JSON
/// object's string member whose name says `secret`, or plain text.
fn secret_in(text: &str) -> Option<String> {
    let secret = match serde_json::from_str::<Value>(text) {
        Ok(Value::String(secret)) => secret,
        Ok(Value::Object(members)) => {
            members.into_iter().find_map(|(name, value)| match value {
                Value::String(s) if name.to_ascii_lowercase().contains("secret") => Some(s),
                _ => None,
            })?
        }
        Ok(_) => return None,
        Err(_) => text.to_owned(),
    };
    let secret = secret.trim();
    (!secret.is_empty()).then(|| secret.to_owned())
}

#[cfg(test)]
mod tests {
    use wiremock::{
        Mock, MockServer, ResponseTemplate,
        matchers::{method, path},
    };

    use super::*;
    use crate::test_metrics::Recorded;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Option<CanopyApiConfig>> {
        Env::with_vars(vars, CanopyApiConfig::from_env)
    }

    #[test]
    fn the_api_is_optional_but_needs_credentials_when_set() {
        assert!(config(&[]).unwrap().is_none());
        assert!(config(&[("CANOPY_CLIENT_ID", "id")]).unwrap().is_none());
        let set = config(&[
            ("CANOPY_API_URL", "https://sandbox-api.canopyservicing.com"),
            ("CANOPY_CLIENT_ID", "id"),
            ("CANOPY_CLIENT_SECRET", "hunter2"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(set.client_id, "id");
        assert!(!format!("{set:?}").contains("hunter2"));
        let error = config(&[("CANOPY_API_URL", "https://x"), ("CANOPY_CLIENT_ID", "i")]);
        assert!(format!("{:#}", error.unwrap_err()).contains("CANOPY_CLIENT_SECRET"));
        assert!(config(&[("CANOPY_API_URL", "ftp://x")]).is_err());
        assert!(config(&[("CANOPY_API_URL", "not a url")]).is_err());
    }

    fn client(base: &str) -> CanopyClient {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut timing = Timing::default();
        timing.retry.first_delay = Duration::from_millis(10);
        let config = CanopyApiConfig {
            url: Url::parse(base).unwrap(),
            client_id: "id".into(),
            client_secret: Secret::new("s"),
            timing,
        };
        CanopyClient::new(&config).unwrap()
    }

    #[test]
    fn every_attempt_is_counted_by_target_and_status() {
        let recorded = Recorded::default();
        recorded.run(|| async {
            let canopy = MockServer::start().await;
            let token = json!({"access_token": "t", "expires_in": 3600});
            Mock::given(method("POST"))
                .and(path("/auth/token"))
                .respond_with(ResponseTemplate::new(200).set_body_json(token))
                .mount(&canopy)
                .await;
            let replay = "/organization/subscribe/replay_failed_events";
            Mock::given(method("PUT"))
                .and(path(replay))
                .respond_with(ResponseTemplate::new(503))
                .up_to_n_times(1)
                .mount(&canopy)
                .await;
            Mock::given(method("PUT"))
                .and(path(replay))
                .respond_with(ResponseTemplate::new(200))
                .mount(&canopy)
                .await;
            client(&canopy.uri()).replay_failed_events().await.unwrap();
        });
        let calls = |status: &str| {
            recorded.counter(&format!(
                "gateway_upstream_calls_total{{status={status},target=canopy}}"
            ))
        };
        assert_eq!((calls("200"), calls("503")), (2, 1));
    }

    #[test]
    fn bodies_carry_only_the_fields_given() {
        let body = NotificationConfigBody {
            notification_type: "payment_due_date",
            time_offset: Some("-2 days".into()),
            time: None,
            periodic_interval: None,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"notification_type": "payment_due_date", "time_offset": "-2 days"})
        );
    }

    #[test]
    fn the_webhook_secret_is_found_in_json_or_text() {
        assert_eq!(
            secret_in(r#"{"webhook_secret": "s1"}"#).as_deref(),
            Some("s1")
        );
        assert_eq!(
            secret_in(r#"{"id": 3, "Secret": "s2"}"#).as_deref(),
            Some("s2")
        );
        assert_eq!(secret_in(r#""s3""#).as_deref(), Some("s3"));
        assert_eq!(secret_in("s4\n").as_deref(), Some("s4"));
        assert_eq!(secret_in(r#"{"id": 3}"#), None);
        assert_eq!(secret_in("  "), None);
    }
}
