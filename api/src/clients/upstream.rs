//! What every outside API client shares: its HTTP client (no redirects:
//! they would carry a credential elsewhere), URLs under a base, one attempt
//! loop with timeouts and retries ([`super::retry`]), the
//! `gateway_upstream_calls_total` metric, and errors that name the call but
//! never a credential or a body.
use std::time::Duration;

use anyhow::Context as _;
use reqwest::{RequestBuilder, StatusCode, Url};
use serde_json::Value;

use super::{
    ClientError,
    retry::{Retries, RetryPolicy, retry_after},
};
use crate::series;

/// How long a call may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub connect_timeout: Duration,
    /// One attempt, from sending to the last byte of the answer.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for Timing {
    /// At least 3 attempts; a call gives up within 50 s whatever happens.
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            retry: RetryPolicy {
                attempts: 4,
                first_delay: Duration::from_millis(500),
                max_delay: Duration::from_secs(8),
                budget: Duration::from_secs(50),
            },
        }
    }
}

/// How an attempt that was not retried ended.
pub enum Answer {
    Success(String),
    Refused(StatusCode, String),
}

/// One outside API.
pub struct Upstream {
    /// Its name in errors and logs (`Canopy`).
    name: &'static str,
    /// The `target` label of `gateway_upstream_calls_total` (`canopy`).
    target: &'static str,
    pub http: reqwest::Client,
    base: Url,
    pub timing: Timing,
}

impl Upstream {
    /// Needs a rustls crypto provider installed (`main` installs ring).
    pub fn new(
        name: &'static str,
        target: &'static str,
        base: Url,
        timing: Timing,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(timing.connect_timeout)
            // A redirect would carry the credential somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("lending-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .with_context(|| format!("building the {name} HTTP client"))?;
        Ok(Self {
            name,
            target,
            http,
            base,
            timing,
        })
    }

    /// The base URL with `path`'s segments appended, each escaped.
    pub fn url(&self, path: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("the base is an http(s) URL")
            .pop_if_empty()
            .extend(path);
        url
    }

    /// A fresh retry budget for one call.
    pub fn retries(&self) -> Retries {
        Retries::start(self.timing.retry)
    }

    /// Sends `request` until an answer is not worth retrying; `Unavailable`
    /// when the retries or the deadline run out.
    pub async fn send(
        &self,
        label: &str,
        retries: &mut Retries,
        request: impl Fn() -> RequestBuilder,
    ) -> Result<Answer, ClientError> {
        loop {
            let timeout = self.timing.request_timeout.min(retries.remaining());
            let (reason, asked_wait) = match request().timeout(timeout).send().await {
                Ok(response) => {
                    let status = response.status();
                    self.count(status.as_str());
                    let asked_wait = retry_after(response.headers());
                    match response.text().await {
                        Ok(text) if status.is_success() => return Ok(Answer::Success(text)),
                        Ok(text) if !worth_retrying(status) => {
                            return Ok(Answer::Refused(status, text));
                        }
                        Ok(_) => (format!("answered {status}"), asked_wait),
                        Err(error) => (describe(&error, timeout), None),
                    }
                }
                Err(error) => {
                    self.count(if error.is_timeout() {
                        "timeout"
                    } else {
                        "error"
                    });
                    (describe(&error, timeout), None)
                }
            };
            let upstream = self.name;
            let Some(wait) = retries.after_failure(asked_wait) else {
                let attempts = retries.failures();
                tracing::warn!(upstream, call = %label, %reason, attempts, "upstream unavailable; giving up");
                return Err(self.unavailable(format!(
                    "{label} {reason}; gave up after {attempts} attempt(s)"
                )));
            };
            tracing::warn!(upstream, call = %label, %reason, wait_ms = wait.as_millis(), "upstream call failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    fn count(&self, status: &str) {
        metrics::counter!(
            series::UPSTREAM_CALLS,
            "target" => self.target,
            "status" => status.to_owned()
        )
        .increment(1);
    }

    pub fn rejected(&self, label: &str, status: StatusCode, text: &str) -> ClientError {
        tracing::warn!(upstream = self.name, call = %label, %status, "upstream refused the request");
        ClientError::Rejected {
            upstream: self.name,
            call: label.to_owned(),
            status: status.as_u16(),
            message: message_in(text),
        }
    }

    pub fn unavailable(&self, reason: String) -> ClientError {
        ClientError::Unavailable {
            upstream: self.name,
            reason,
        }
    }

    pub fn bad_response(&self, reason: &str) -> ClientError {
        ClientError::BadResponse {
            upstream: self.name,
            reason: reason.to_owned(),
        }
    }
}

/// Timeouts, rate limits and server errors pass; other answers would not change.
fn worth_retrying(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// What went wrong, without the URL or anything else reqwest might print.
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("did not answer within {:.1} s", timeout.as_secs_f64());
    }
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    if error.is_connect() {
        format!("could not connect: {cause}")
    } else {
        format!("failed: {cause}")
    }
}

/// The provider's explanation in an error answer: its `message` (or
/// `error`…) when the body is JSON, else the text itself, cut short.
fn message_in(text: &str) -> String {
    const MAX_CHARS: usize = 500;
    let json = serde_json::from_str::<Value>(text).ok();
    let field = json.as_ref().and_then(|body| {
        ["message", "error_description", "error", "detail"]
            .iter()
            .find_map(|key| body.get(key)?.as_str())
    });
    let message = field.unwrap_or(text).trim();
    if message.is_empty() {
        return "(no message)".to_owned();
    }
    message.chars().take(MAX_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_timing_tries_three_times_at_least_and_ends_within_a_minute() {
        let timing = Timing::default();
        assert!(timing.retry.attempts >= 3);
        assert!(timing.retry.budget <= Duration::from_secs(60));
        assert!(timing.request_timeout < timing.retry.budget);
    }

    fn upstream(base: &str) -> Upstream {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Upstream::new("Test", "test", Url::parse(base).unwrap(), Timing::default()).unwrap()
    }

    #[test]
    fn paths_are_appended_to_the_base_with_ids_escaped() {
        let path = ["accounts", "a/b c", "notification_config"];
        assert_eq!(
            upstream("https://h").url(&path).as_str(),
            "https://h/accounts/a%2Fb%20c/notification_config"
        );
        assert_eq!(
            upstream("https://h/api/").url(&["auth", "token"]).as_str(),
            "https://h/api/auth/token"
        );
    }

    #[test]
    fn error_messages_are_read_from_json_or_text() {
        assert_eq!(message_in(r#"{"message": "bad offset"}"#), "bad offset");
        assert_eq!(message_in(r#"{"error": "nope", "x": 1}"#), "nope");
        assert_eq!(message_in("plain words\n"), "plain words");
        assert_eq!(message_in(""), "(no message)");
        assert_eq!(message_in(&"x".repeat(2000)).len(), 500);
    }
}
