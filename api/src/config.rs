//! Typed configuration, read once from the environment (and `.env`).
use std::{fmt, net::SocketAddr};

use anyhow::{Context, bail};

use crate::auth::{self, ApiKey};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://gateway.db?mode=rwc";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
pub const DEFAULT_REDIS_CHANNEL: &str = "gateway:events";

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub addr: SocketAddr,
    pub canopy_webhook_secrets: Vec<Secret>,
    pub max_body_bytes: usize,
    /// Empty: the GraphQL API is open, which only a loopback address allows.
    pub api_keys: Vec<ApiKey>,
    /// Unset: pub/sub stays in process (one node).
    pub redis_url: Option<String>,
    /// Nodes that share a store must share this channel; nothing else may use it.
    pub redis_channel: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            addr: DEFAULT_ADDR.parse().expect("valid default address"),
            canopy_webhook_secrets: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            api_keys: Vec::new(),
            redis_url: None,
            redis_channel: DEFAULT_REDIS_CHANNEL.to_owned(),
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
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let defaults = Self::default();
        let addr = match get("GATEWAY_ADDR") {
            Some(v) => v
                .trim()
                .parse()
                .with_context(|| format!("GATEWAY_ADDR is not a socket address: {v:?}"))?,
            None => defaults.addr,
        };
        let max_body_bytes = match get("MAX_BODY_BYTES") {
            Some(v) => v
                .trim()
                .parse()
                .with_context(|| format!("MAX_BODY_BYTES is not a byte count: {v:?}"))?,
            None => defaults.max_body_bytes,
        };
        if max_body_bytes == 0 {
            bail!("MAX_BODY_BYTES must be greater than 0");
        }
        Ok(Self {
            database_url: get("DATABASE_URL").unwrap_or(defaults.database_url),
            addr,
            canopy_webhook_secrets: comma_list(get("CANOPY_WEBHOOK_SECRETS"))
                .map(Secret::new)
                .collect(),
            max_body_bytes,
            api_keys: auth::parse_api_keys(comma_list(get("GATEWAY_API_KEYS")))?,
            redis_url: get("REDIS_URL"),
            redis_channel: get("REDIS_CHANNEL").unwrap_or(defaults.redis_channel),
        })
    }
}

/// Comma lists are trimmed and empty entries ignored.
fn comma_list(value: Option<String>) -> impl Iterator<Item = String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(c.canopy_webhook_secrets.is_empty());
        assert_eq!(c.max_body_bytes, 2_097_152);
    }

    #[test]
    fn comma_lists_are_trimmed_and_empty_values_are_unset() {
        let c = config(&[("CANOPY_WEBHOOK_SECRETS", " a , ,b,"), ("DATABASE_URL", "")]).unwrap();
        let secrets: Vec<_> = c
            .canopy_webhook_secrets
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
    fn bad_values_are_refused() {
        assert!(config(&[("GATEWAY_ADDR", "nowhere")]).is_err());
        assert!(config(&[("MAX_BODY_BYTES", "-1")]).is_err());
        assert!(config(&[("MAX_BODY_BYTES", "0")]).is_err());
    }
}
