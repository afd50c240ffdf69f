//! Embedded Funding's API (`EMBEDDED_FUNDING_API_URL`): the company state
//! its callbacks announce, read with `Authorization: Bearer
//! <EMBEDDED_FUNDING_API_KEY>` under `/v1/companies/{companyId}`.
//!
//! Calls are short (two quick attempts): the follow-up queue that makes
//! them retries for as long as it takes, so a call need not.
use std::{sync::Arc, time::Duration};

use anyhow::{Context as _, bail};
use reqwest::Url;
use serde_json::Value;

use super::{
    ClientError,
    retry::RetryPolicy,
    upstream::{Answer, Timing, Upstream},
};
use crate::{env::Env, event::CompanyRead, secret::Secret};

/// `EMBEDDED_FUNDING_API_URL`, `EMBEDDED_FUNDING_API_KEY`.
#[derive(Clone, Debug)]
pub struct EmbeddedFundingApiConfig {
    pub url: Url,
    pub api_key: Secret,
    pub timing: Timing,
}

impl EmbeddedFundingApiConfig {
    /// Two attempts within 20 s: the queue retries past that.
    pub const TIMING: Timing = Timing {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            attempts: 2,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(1),
            budget: Duration::from_secs(20),
        },
    };

    /// `None` when `EMBEDDED_FUNDING_API_URL` is unset: callbacks are then
    /// stored without reading what they announce.
    pub fn from_env(env: &Env<'_>) -> anyhow::Result<Option<Self>> {
        let Some(url) = env.get("EMBEDDED_FUNDING_API_URL") else {
            return Ok(None);
        };
        let url = Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .with_context(|| format!("EMBEDDED_FUNDING_API_URL is not an http(s) URL: {url:?}"))?;
        let Some(api_key) = env.get("EMBEDDED_FUNDING_API_KEY") else {
            bail!("EMBEDDED_FUNDING_API_URL is set, so EMBEDDED_FUNDING_API_KEY is needed");
        };
        Ok(Some(Self {
            url,
            api_key: Secret::new(api_key.trim()),
            timing: Self::TIMING,
        }))
    }
}

#[derive(Clone)]
pub struct EmbeddedFundingClient(Arc<Inner>);

struct Inner {
    upstream: Upstream,
    api_key: Secret,
}

impl EmbeddedFundingClient {
    /// Needs a rustls crypto provider installed (`main` installs ring).
    pub fn new(config: &EmbeddedFundingApiConfig) -> anyhow::Result<Self> {
        let upstream = Upstream::new(
            "Embedded Funding",
            "embedded_funding",
            config.url.clone(),
            config.timing,
        )?;
        Ok(Self(Arc::new(Inner {
            upstream,
            api_key: config.api_key.clone(),
        })))
    }

    /// One of the documented GETs under `/v1/companies/{company_id}`; its
    /// JSON answer.
    pub async fn read(&self, company_id: &str, read: &CompanyRead) -> Result<Value, ClientError> {
        let upstream = &self.0.upstream;
        let mut path = vec!["v1", "companies", company_id];
        path.extend(match read {
            CompanyRead::CreditStatus => vec!["status"],
            CompanyRead::Terms => vec!["terms"],
            CompanyRead::Withdrawal(id) => vec!["withdrawal", id],
            CompanyRead::LimitRequestStatus(id) => vec!["limit-requests", id, "status"],
            CompanyRead::Loan(id) => vec!["loans", id],
        });
        let url = upstream.url(&path);
        let label = format!("GET {}", url.path());
        let request = || {
            upstream
                .http
                .get(url.clone())
                .bearer_auth(self.0.api_key.expose())
        };
        match upstream
            .send(&label, &mut upstream.retries(), request)
            .await?
        {
            Answer::Success(text) => serde_json::from_str(&text)
                .map_err(|_| upstream.bad_response(&format!("{label} did not answer JSON"))),
            Answer::Refused(status, text) => Err(upstream.rejected(&label, status, &text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::{
        Mock, MockServer, ResponseTemplate,
        matchers::{header, method, path},
    };

    use super::*;
    use crate::test_metrics::Recorded;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Option<EmbeddedFundingApiConfig>> {
        Env::with_vars(vars, EmbeddedFundingApiConfig::from_env)
    }

    #[test]
    fn the_api_is_optional_but_needs_its_key_when_set() {
        assert!(
            config(&[("EMBEDDED_FUNDING_API_KEY", "k")])
                .unwrap()
                .is_none()
        );
        let set = config(&[
            ("EMBEDDED_FUNDING_API_URL", "https://api.example/base"),
            ("EMBEDDED_FUNDING_API_KEY", "hunter2"),
        ])
        .unwrap()
        .unwrap();
        assert!(!format!("{set:?}").contains("hunter2"));
        let missing = config(&[("EMBEDDED_FUNDING_API_URL", "https://api.example")]);
        assert!(format!("{:#}", missing.unwrap_err()).contains("EMBEDDED_FUNDING_API_KEY"));
        assert!(config(&[("EMBEDDED_FUNDING_API_URL", "ftp://x")]).is_err());
    }

    #[test]
    fn reads_are_the_documented_paths_with_the_key_and_are_counted() {
        let recorded = Recorded::default();
        let read = recorded.run(|| async {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let api = MockServer::start().await;
            let limit = "/base/v1/companies/c%2F1/limit-requests/r%201/status";
            Mock::given(method("GET"))
                .and(path(limit))
                .and(header("authorization", "Bearer k"))
                .respond_with(ResponseTemplate::new(503))
                .up_to_n_times(1)
                .mount(&api)
                .await;
            Mock::given(method("GET"))
                .and(path(limit))
                .and(header("authorization", "Bearer k"))
                .respond_with(
                    ResponseTemplate::new(200).set_body_json(json!({"status": "APPROVED"})),
                )
                .mount(&api)
                .await;
            let config = EmbeddedFundingApiConfig {
                url: format!("{}/base/", api.uri()).parse().unwrap(),
                api_key: Secret::new("k"),
                timing: EmbeddedFundingApiConfig::TIMING,
            };
            let client = EmbeddedFundingClient::new(&config).unwrap();
            let status = CompanyRead::LimitRequestStatus("r 1".into());
            let read = client.read("c/1", &status).await;
            let missing = client.read("c/1", &CompanyRead::Terms).await;
            assert!(matches!(
                missing,
                Err(ClientError::Rejected { status: 404, .. })
            ));
            read
        });
        assert_eq!(read.unwrap(), json!({"status": "APPROVED"}));
        let calls = |status: &str| {
            recorded.counter(&format!(
                "gateway_upstream_calls_total{{status={status},target=embedded_funding}}"
            ))
        };
        assert_eq!((calls("503"), calls("200"), calls("404")), (1, 1, 1));
    }
}
