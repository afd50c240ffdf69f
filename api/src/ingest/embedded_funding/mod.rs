//! Embedded Funding's status callbacks: no signature; the caller must be one
//! of Embedded Funding's addresses (and present `?token=` when one is
//! configured). The body only names what changed, so each callback is
//! followed by reads of the current state (`jobs/`).
mod normalize;
mod payload;

use std::net::IpAddr;

use ipnet::IpNet;

use crate::{
    env::Env,
    event::{NewEvent, SourceKind},
    ingest::{Delivery, Head, IngestError, Source, token},
    secret::Secret,
};

/// The addresses Embedded Funding's document (seed 004) says callbacks come from.
pub const DOCUMENTED_ADDRESSES: [[u8; 4]; 4] = [
    [20, 82, 192, 194],
    [20, 67, 208, 150],
    [20, 105, 65, 222],
    [20, 93, 102, 228],
];

/// `EMBEDDED_FUNDING_ALLOWED_IPS`, `EMBEDDED_FUNDING_CALLBACK_TOKEN`, and
/// whether `EMBEDDED_FUNDING_API_URL` is there to read the state with.
#[derive(Clone, Debug)]
pub struct EmbeddedFundingConfig {
    /// Callers taken (IPs and CIDRs); the documented addresses by default.
    pub allowed_ips: Vec<IpNet>,
    /// When set, required as `?token=`.
    pub callback_token: Option<Secret>,
    /// Whether callbacks are followed by reads of the state they announce
    /// (the API is configured).
    pub follow_ups: bool,
}

impl Default for EmbeddedFundingConfig {
    fn default() -> Self {
        Self {
            allowed_ips: DOCUMENTED_ADDRESSES
                .into_iter()
                .map(|ip| IpNet::from(IpAddr::from(ip)))
                .collect(),
            callback_token: None,
            follow_ups: false,
        }
    }
}

impl EmbeddedFundingConfig {
    pub fn from_env(env: &Env<'_>) -> anyhow::Result<Self> {
        let allowed_ips = env.networks("EMBEDDED_FUNDING_ALLOWED_IPS")?;
        let defaults = Self::default();
        Ok(Self {
            allowed_ips: if allowed_ips.is_empty() {
                defaults.allowed_ips
            } else {
                allowed_ips
            },
            callback_token: env.get("EMBEDDED_FUNDING_CALLBACK_TOKEN").map(Secret::new),
            follow_ups: env.get("EMBEDDED_FUNDING_API_URL").is_some(),
        })
    }
}

pub struct EmbeddedFunding {
    config: EmbeddedFundingConfig,
}

impl EmbeddedFunding {
    pub fn new(config: EmbeddedFundingConfig) -> Self {
        Self { config }
    }
}

/// Every `token` of the query string, decoded.
fn query_tokens(query: Option<&str>) -> Vec<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .collect()
}

impl Source for EmbeddedFunding {
    fn kind(&self) -> SourceKind {
        SourceKind::EmbeddedFunding
    }

    fn path(&self) -> &'static str {
        "/callbacks/embedded-funding"
    }

    fn admit(&self, head: &Head<'_>) -> Result<(), IngestError> {
        // An IPv4 caller on a dual-stack listener shows as ::ffff:a.b.c.d.
        let caller = head.remote.to_canonical();
        if !self
            .config
            .allowed_ips
            .iter()
            .any(|net| net.contains(&caller))
        {
            return Err(IngestError::IpNotAllowed(caller));
        }
        let Some(expected) = &self.config.callback_token else {
            return Ok(());
        };
        let presented = query_tokens(head.query);
        if presented.is_empty() {
            return Err(IngestError::InvalidToken(
                "no ?token= in the callback URL".into(),
            ));
        }
        if !token::matches_any(
            presented.iter().map(String::as_str),
            std::slice::from_ref(expected),
        ) {
            return Err(IngestError::InvalidToken(
                "?token= does not match EMBEDDED_FUNDING_CALLBACK_TOKEN".into(),
            ));
        }
        Ok(())
    }

    fn receive(&self, delivery: &Delivery<'_>) -> Result<NewEvent, IngestError> {
        let callback = payload::Callback::parse(delivery.body)?;
        normalize::normalize(callback, delivery, self.config.follow_ups)
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;

    fn admit(
        config: &EmbeddedFundingConfig,
        remote: &str,
        query: Option<&str>,
    ) -> Result<(), String> {
        let headers = HeaderMap::new();
        let head = Head {
            headers: &headers,
            query,
            remote: remote.parse().unwrap(),
        };
        EmbeddedFunding::new(config.clone())
            .admit(&head)
            .map_err(|e| e.code().to_owned())
    }

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<EmbeddedFundingConfig> {
        Env::with_vars(vars, EmbeddedFundingConfig::from_env)
    }

    #[test]
    fn the_documented_addresses_are_allowed_by_default() {
        let defaults = config(&[("EMBEDDED_FUNDING_ALLOWED_IPS", " ")]).unwrap();
        for ip in [
            "20.82.192.194",
            "20.67.208.150",
            "20.105.65.222",
            "20.93.102.228",
        ] {
            assert_eq!(admit(&defaults, ip, None), Ok(()), "{ip}");
        }
        assert_eq!(
            admit(&defaults, "::ffff:20.93.102.228", None),
            Ok(()),
            "an IPv4 caller seen through IPv6"
        );
        for ip in ["20.82.192.195", "127.0.0.1", "2001:db8::1"] {
            assert_eq!(
                admit(&defaults, ip, None),
                Err("IP_NOT_ALLOWED".into()),
                "{ip}"
            );
        }
        assert!(!defaults.follow_ups);
    }

    #[test]
    fn cidrs_and_addresses_are_read_and_bad_entries_refused() {
        let c = config(&[("EMBEDDED_FUNDING_ALLOWED_IPS", "10.1.0.0/16, 192.0.2.7")]).unwrap();
        assert_eq!(admit(&c, "10.1.255.3", None), Ok(()));
        assert_eq!(admit(&c, "192.0.2.7", None), Ok(()));
        assert_eq!(admit(&c, "10.2.0.1", None), Err("IP_NOT_ALLOWED".into()));
        assert_eq!(
            admit(&c, "20.82.192.194", None),
            Err("IP_NOT_ALLOWED".into())
        );
        assert!(config(&[("EMBEDDED_FUNDING_ALLOWED_IPS", "10.0.0.0/40")]).is_err());
    }

    #[test]
    fn the_token_is_required_once_configured_and_checked_after_the_address() {
        let c = config(&[
            ("EMBEDDED_FUNDING_ALLOWED_IPS", "127.0.0.1"),
            ("EMBEDDED_FUNDING_CALLBACK_TOKEN", "t o/k"),
        ])
        .unwrap();
        assert_eq!(admit(&c, "127.0.0.1", Some("token=t+o%2Fk")), Ok(()));
        assert_eq!(
            admit(&c, "127.0.0.1", Some("a=1&token=no&token=t%20o/k")),
            Ok(())
        );
        for query in [
            None,
            Some(""),
            Some("token="),
            Some("token=t+o"),
            Some("tok=t+o%2Fk"),
        ] {
            assert_eq!(
                admit(&c, "127.0.0.1", query),
                Err("INVALID_TOKEN".into()),
                "{query:?}"
            );
        }
        assert_eq!(
            admit(&c, "127.0.0.2", Some("token=t+o%2Fk")),
            Err("IP_NOT_ALLOWED".into())
        );
    }
}
