//! Typed configuration, read once from the environment (and `.env`).
use std::{net::SocketAddr, time::Duration};

use anyhow::bail;
use ipnet::IpNet;

use crate::{
    auth::{self, ApiKey},
    clients::{canopy::CanopyApiConfig, embedded_funding::EmbeddedFundingApiConfig},
    env::Env,
    ingest::SourcesConfig,
    jobs, retention,
};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://gateway.db?mode=rwc";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
pub const DEFAULT_REDIS_CHANNEL: &str = "gateway:events";
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;
pub const DEFAULT_FEED_POLL_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub addr: SocketAddr,
    pub max_body_bytes: usize,
    /// Empty: the GraphQL API is open, which only a loopback address allows.
    pub api_keys: Vec<ApiKey>,
    /// Browser origins allowed to call `/graphql` cross-origin, as browsers
    /// write them (`https://app.example`).
    pub cors_origins: Vec<String>,
    /// Unset: pub/sub stays in process (one node).
    pub redis_url: Option<String>,
    /// Nodes that share a store must share this channel; nothing else may use it.
    pub redis_channel: String,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Requests served at once; more are shed with 503 and `Retry-After`.
    pub max_in_flight: usize,
    /// Each source's own section.
    pub sources: SourcesConfig,
    /// Unset: mutations that call Canopy say it is not configured.
    pub canopy_api: Option<CanopyApiConfig>,
    /// Unset: Embedded Funding callbacks are stored without follow-ups.
    pub embedded_funding_api: Option<EmbeddedFundingApiConfig>,
    /// How the follow-up queue retries and gives up.
    pub follow_ups: jobs::Policy,
    /// The live feed reads the store at least this often without a wake-up
    /// (not an environment variable; tests lengthen it so that only Redis
    /// can deliver across nodes in time).
    pub feed_poll_interval: Duration,
    /// Unset (`EVENT_RETENTION_DAYS` unset): every payload is kept.
    pub retention: Option<retention::Policy>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            addr: DEFAULT_ADDR.parse().expect("valid default address"),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            api_keys: Vec::new(),
            cors_origins: Vec::new(),
            redis_url: None,
            redis_channel: DEFAULT_REDIS_CHANNEL.to_owned(),
            trusted_proxies: Vec::new(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            sources: SourcesConfig::default(),
            canopy_api: None,
            embedded_funding_api: None,
            follow_ups: jobs::Policy::default(),
            feed_poll_interval: DEFAULT_FEED_POLL_INTERVAL,
            retention: None,
        }
    }
}

impl Config {
    /// Reads the process environment, after loading `.env` if present.
    pub fn from_env() -> anyhow::Result<Self> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds a config from any lookup; a variable set to an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let env = Env::new(&lookup);
        let defaults = Self::default();
        let max_body_bytes = env
            .parse("MAX_BODY_BYTES", "a byte count")?
            .unwrap_or(defaults.max_body_bytes);
        if max_body_bytes == 0 {
            bail!("MAX_BODY_BYTES must be greater than 0");
        }
        let max_in_flight = env
            .parse("GATEWAY_MAX_IN_FLIGHT", "a request count")?
            .unwrap_or(defaults.max_in_flight);
        if max_in_flight == 0 {
            bail!("GATEWAY_MAX_IN_FLIGHT must be greater than 0");
        }
        let retention_days: Option<u32> = env.parse("EVENT_RETENTION_DAYS", "a number of days")?;
        if retention_days == Some(0) {
            bail!("EVENT_RETENTION_DAYS must be at least 1 (unset keeps every payload)");
        }
        let sources = SourcesConfig::from_env(&env)?;
        let canopy_api = CanopyApiConfig::from_env(&env)?;
        if !sources.canopy.double_check.is_empty() && canopy_api.is_none() {
            bail!("CANOPY_DOUBLE_CHECK is set, so CANOPY_API_URL (and its credentials) are needed");
        }
        Ok(Self {
            database_url: env.get("DATABASE_URL").unwrap_or(defaults.database_url),
            addr: env
                .parse("GATEWAY_ADDR", "a socket address")?
                .unwrap_or(defaults.addr),
            max_body_bytes,
            api_keys: auth::parse_api_keys(env.list("GATEWAY_API_KEYS"))?,
            cors_origins: env
                .list("GATEWAY_CORS_ORIGINS")
                .iter()
                .map(|entry| parse_origin(entry))
                .collect::<anyhow::Result<_>>()?,
            redis_url: env.get("REDIS_URL"),
            redis_channel: env.get("REDIS_CHANNEL").unwrap_or(defaults.redis_channel),
            trusted_proxies: env.networks("TRUSTED_PROXIES")?,
            max_in_flight,
            sources,
            canopy_api,
            embedded_funding_api: EmbeddedFundingApiConfig::from_env(&env)?,
            follow_ups: defaults.follow_ups,
            feed_poll_interval: defaults.feed_poll_interval,
            retention: retention_days.map(retention::Policy::days),
        })
    }
}

/// An origin as a browser sends it in `Origin`: `scheme://host[:port]`,
/// lowercase, without its scheme's default port.
fn parse_origin(entry: &str) -> anyhow::Result<String> {
    let bad = || {
        anyhow::anyhow!(
            "GATEWAY_CORS_ORIGINS: {entry:?} is not an origin such as https://app.example \
             (scheme and host, no path; `*` is not allowed)"
        )
    };
    let uri: http::Uri = entry.parse().map_err(|_| bad())?;
    let scheme = uri.scheme_str().ok_or_else(bad)?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(bad()),
    };
    let authority = uri.authority().ok_or_else(bad)?;
    let path = uri.path_and_query().map_or("", |p| p.as_str());
    if authority.as_str().contains('@') || !matches!(path, "" | "/") {
        return Err(bad());
    }
    // `https://:x` has an empty host, `http://a[::1]b` no host a browser
    // sends, `https://h:x` a port that is no number: none is an origin, and
    // none would read back as one.
    let host = authority.host().to_ascii_lowercase();
    let port_unread = authority.as_str().len() != host.len() && authority.port_u16().is_none();
    let host_read = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        }
    };
    if !host_read || port_unread {
        return Err(bad());
    }
    Ok(match authority.port_u16().filter(|&p| p != default_port) {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_without_configuration() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.addr.to_string(), DEFAULT_ADDR);
        assert!(c.sources.canopy.webhook_secrets.is_empty());
        assert_eq!(c.max_body_bytes, 2_097_152);
        assert!(c.trusted_proxies.is_empty());
    }

    #[test]
    fn comma_lists_are_trimmed_and_empty_values_are_unset() {
        let c = config(&[("CANOPY_WEBHOOK_SECRETS", " a , ,b,"), ("DATABASE_URL", "")]).unwrap();
        let secrets: Vec<_> = c
            .sources
            .canopy
            .webhook_secrets
            .iter()
            .map(Secret::expose)
            .collect();
        assert_eq!(secrets, ["a", "b"]);
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
    }

    #[test]
    fn secrets_never_print() {
        let c = config(&[("CANOPY_WEBHOOK_SECRETS", "hunter2")]).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn api_keys_are_a_comma_list_of_key_role() {
        let c = config(&[("GATEWAY_API_KEYS", "r1:read, a1:admin ,")]).unwrap();
        let keys: Vec<_> = c
            .api_keys
            .iter()
            .map(|k| (k.key.expose(), k.role.as_str()))
            .collect();
        assert_eq!(keys, [("r1", "read"), ("a1", "admin")]);
        assert!(!format!("{c:?}").contains("r1"));
        assert!(config(&[("GATEWAY_API_KEYS", "r1:superuser")]).is_err());
        assert!(
            config(&[("GATEWAY_API_KEYS", "")])
                .unwrap()
                .api_keys
                .is_empty()
        );
    }

    #[test]
    fn trusted_proxies_take_cidrs_and_single_addresses() {
        let c = config(&[("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,::1")]).unwrap();
        let nets: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.168.1.7/32", "::1/128"]);
        assert!(config(&[("TRUSTED_PROXIES", "10.0.0.0/33")]).is_err());
        assert!(config(&[("TRUSTED_PROXIES", "proxy.local")]).is_err());
    }

    #[test]
    fn cors_origins_are_written_as_browsers_send_them() {
        let c = config(&[(
            "GATEWAY_CORS_ORIGINS",
            "https://App.Example, http://localhost:5173,https://a.example:443, http://[::1]:80/",
        )])
        .unwrap();
        assert_eq!(
            c.cors_origins,
            [
                "https://app.example",
                "http://localhost:5173",
                "https://a.example",
                "http://[::1]"
            ]
        );
        assert!(config(&[]).unwrap().cors_origins.is_empty());
        for bad in [
            "*",
            "app.example",
            "https://app.example/path",
            "https://app.example?x=1",
            "https://user@app.example",
            "ftp://app.example",
        ] {
            assert!(config(&[("GATEWAY_CORS_ORIGINS", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn loanpro_and_embedded_funding_read_their_variables() {
        let c = config(&[
            ("LOANPRO_WEBHOOK_TOKENS", "new-token, old-token"),
            ("EMBEDDED_FUNDING_ALLOWED_IPS", "10.0.0.0/8, 192.0.2.1"),
            ("EMBEDDED_FUNDING_CALLBACK_TOKEN", "cb-token"),
            ("EMBEDDED_FUNDING_API_URL", "https://ef.example"),
            ("EMBEDDED_FUNDING_API_KEY", "ef-key"),
        ])
        .unwrap();
        assert_eq!(c.sources.loanpro.webhook_tokens.len(), 2);
        let ef = &c.sources.embedded_funding;
        let nets: Vec<String> = ef.allowed_ips.iter().map(ToString::to_string).collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.0.2.1/32"]);
        assert_eq!(
            ef.callback_token.as_ref().map(Secret::expose),
            Some("cb-token")
        );
        assert!(ef.follow_ups && c.embedded_funding_api.is_some());
        let printed = format!("{c:?}");
        for secret in ["new-token", "cb-token", "ef-key"] {
            assert!(!printed.contains(secret), "{secret}");
        }
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.sources.embedded_funding.allowed_ips.len(), 4);
        assert!(!defaults.sources.embedded_funding.follow_ups);
        assert!(defaults.embedded_funding_api.is_none());
        assert!(defaults.sources.loanpro.webhook_tokens.is_empty());
    }

    #[test]
    fn double_checking_needs_canopys_api() {
        let error = config(&[("CANOPY_DOUBLE_CHECK", "account_delinquency")]).unwrap_err();
        assert!(error.to_string().contains("CANOPY_API_URL"), "{error}");
        let c = config(&[
            (
                "CANOPY_DOUBLE_CHECK",
                "account_delinquency, minimum_payment_missed",
            ),
            ("CANOPY_API_URL", "https://canopy.example"),
            ("CANOPY_CLIENT_ID", "id"),
            ("CANOPY_CLIENT_SECRET", "secret"),
        ])
        .unwrap();
        assert_eq!(
            c.sources.canopy.double_check,
            ["account_delinquency", "minimum_payment_missed"]
        );
    }

    #[test]
    fn an_origin_without_a_host_or_with_an_unreadable_port_is_refused() {
        // Found by the `config` fuzz target: it was kept as `https://`.
        for entry in [
            "https://:read",
            "https://",
            "http://:8080",
            "https://app.example:x",
        ] {
            assert!(parse_origin(entry).is_err(), "{entry}");
        }
        assert_eq!(
            parse_origin("HTTPS://App.Example:443").unwrap(),
            "https://app.example"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(config(&[("GATEWAY_ADDR", "nowhere")]).is_err());
        assert!(config(&[("MAX_BODY_BYTES", "-1")]).is_err());
        assert!(config(&[("MAX_BODY_BYTES", "0")]).is_err());
        assert!(config(&[("EVENT_RETENTION_DAYS", "0")]).is_err());
        assert!(config(&[("EVENT_RETENTION_DAYS", "-3")]).is_err());
        assert!(config(&[("EVENT_RETENTION_DAYS", "a week")]).is_err());
    }

    #[test]
    fn retention_is_a_number_of_days() {
        assert_eq!(config(&[]).unwrap().retention, None);
        let c = config(&[("EVENT_RETENTION_DAYS", " 30 ")]).unwrap();
        let keep = c.retention.expect("a retention policy").keep;
        assert_eq!(keep, Duration::from_secs(30 * 24 * 60 * 60));
    }
}
