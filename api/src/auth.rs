//! API keys and roles (contract sections 1 and 3): who is calling, and what
//! they may see.
use std::{collections::HashMap, fmt, net::SocketAddr, str::FromStr};

use anyhow::{Context as _, bail};
use axum::http::{HeaderMap, header::AUTHORIZATION};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// Roles are cumulative: each sees everything the ones before it see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Events and accounts, PII masked.
    Read,
    /// Also PII unmasked.
    Pii,
    /// Also mutations, rejected deliveries and the audit log.
    Admin,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Pii => "pii",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Self::Read),
            "pii" => Ok(Self::Pii),
            "admin" => Ok(Self::Admin),
            // Not quoted: a key and its role swapped (`admin:KEY`) would
            // put the key in the error, and the error in the log.
            _ => bail!("unknown role; roles are read, pii and admin"),
        }
    }
}

/// One configured key (`GATEWAY_API_KEYS` entry `key:role`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub key: Secret,
    pub role: Role,
}

/// Parses `key:role` entries. The role is after the last `:`, so a key may
/// itself contain colons. Errors never quote a key.
pub fn parse_api_keys(entries: impl IntoIterator<Item = String>) -> anyhow::Result<Vec<ApiKey>> {
    let mut keys: Vec<ApiKey> = Vec::new();
    for (n, entry) in entries.into_iter().enumerate() {
        let position = n + 1;
        let (key, role) = entry.rsplit_once(':').with_context(|| {
            format!("GATEWAY_API_KEYS entry {position} is not of the form key:role")
        })?;
        let key = key.trim();
        if key.is_empty() {
            bail!("GATEWAY_API_KEYS entry {position} has an empty key");
        }
        let role: Role = role
            .trim()
            .parse()
            .with_context(|| format!("GATEWAY_API_KEYS entry {position}"))?;
        if let Some(same) = keys.iter().find(|k| k.key.expose() == key) {
            if same.role != role {
                bail!("GATEWAY_API_KEYS entry {position} repeats a key with another role");
            }
            continue;
        }
        keys.push(ApiKey {
            key: Secret::new(key),
            role,
        });
    }
    Ok(keys)
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    /// Names the key in logs and the audit log without revealing it.
    pub key_id: String,
}

impl Caller {
    /// Everyone, in the loopback-only open mode.
    pub fn open() -> Self {
        Self {
            role: Role::Admin,
            key_id: "open".to_owned(),
        }
    }

    pub fn can(&self, role: Role) -> bool {
        self.role >= role
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("an API key is required: Authorization: Bearer <key>")]
    MissingKey,
    #[error("the API key is not valid")]
    UnknownKey,
}

type Digest32 = [u8; 32];

/// Checks presented keys. Keys are held as SHA-256 digests: a lookup by
/// digest takes no time that depends on how much of a real key was guessed.
#[derive(Clone, Debug)]
pub struct Auth {
    /// `None`: open mode, everyone is `admin` (loopback only).
    keys: Option<HashMap<Digest32, Role>>,
}

impl Auth {
    /// Refuses an open API on a non-loopback address; warns on a loopback one.
    pub fn new(keys: &[ApiKey], addr: SocketAddr) -> anyhow::Result<Self> {
        if keys.is_empty() {
            if !addr.ip().is_loopback() {
                bail!(
                    "GATEWAY_API_KEYS is not set and GATEWAY_ADDR {addr} is not a loopback address: \
                     refusing to serve an open GraphQL API"
                );
            }
            tracing::warn!(
                %addr,
                "GATEWAY_API_KEYS is not set: the GraphQL API is open, every caller acts as admin \
                 (allowed on a loopback address only)"
            );
            return Ok(Self { keys: None });
        }
        let keys = keys
            .iter()
            .map(|k| (digest(k.key.expose()), k.role))
            .collect();
        Ok(Self { keys: Some(keys) })
    }

    /// Open mode: no keys, every caller `admin` (loopback only).
    pub fn is_open(&self) -> bool {
        self.keys.is_none()
    }

    /// Authenticates a bare key.
    pub fn authenticate_key(&self, key: Option<&str>) -> Result<Caller, AuthError> {
        let Some(keys) = &self.keys else {
            return Ok(Caller::open());
        };
        let key = key.map(str::trim).filter(|k| !k.is_empty());
        let key = key.ok_or(AuthError::MissingKey)?;
        let digest = digest(key);
        let role = *keys.get(&digest).ok_or(AuthError::UnknownKey)?;
        Ok(Caller {
            role,
            key_id: key_id(&digest),
        })
    }

    /// Authenticates `Authorization: Bearer <key>`.
    pub fn authenticate_headers(&self, headers: &HeaderMap) -> Result<Caller, AuthError> {
        let value = headers.get(AUTHORIZATION).map(|v| v.to_str());
        match value {
            None => self.authenticate_key(None),
            Some(Ok(value)) => match bearer_token(value) {
                Some(key) => self.authenticate_key(Some(key)),
                None if self.keys.is_none() => Ok(Caller::open()),
                None => Err(AuthError::UnknownKey),
            },
            Some(Err(_)) if self.keys.is_none() => Ok(Caller::open()),
            Some(Err(_)) => Err(AuthError::UnknownKey),
        }
    }
}

/// The key in `Bearer <key>` (scheme case-insensitive, as HTTP says).
pub fn bearer_token(value: &str) -> Option<&str> {
    const SCHEME: &str = "bearer";
    let value = value.trim();
    let scheme = value.get(..SCHEME.len())?;
    let rest = &value[SCHEME.len()..];
    let separated = rest.is_empty() || rest.starts_with(char::is_whitespace);
    (scheme.eq_ignore_ascii_case(SCHEME) && separated).then(|| rest.trim())
}

fn digest(key: &str) -> Digest32 {
    Sha256::digest(key.as_bytes()).into()
}

/// `key_` and the first 8 hex digits of the key's SHA-256.
fn key_id(digest: &Digest32) -> String {
    format!("key_{}", hex::encode(&digest[..4]))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn keys(list: &[&str]) -> anyhow::Result<Vec<ApiKey>> {
        parse_api_keys(list.iter().map(|s| (*s).to_owned()))
    }

    fn auth(list: &[&str], addr: &str) -> anyhow::Result<Auth> {
        Auth::new(&keys(list)?, addr.parse().unwrap())
    }

    fn headers(authorization: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(authorization).unwrap());
        h
    }

    #[test]
    fn a_key_and_role_swapped_is_refused_without_quoting_the_key() {
        // Found by the `config` fuzz target.
        let error = format!("{:#}", keys(&["admin:s3cret-key"]).unwrap_err());
        assert!(error.contains("unknown role"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }

    #[test]
    fn roles_are_cumulative() {
        assert!(Role::Read < Role::Pii && Role::Pii < Role::Admin);
        let pii = Caller {
            role: Role::Pii,
            key_id: String::new(),
        };
        assert!(pii.can(Role::Read) && pii.can(Role::Pii) && !pii.can(Role::Admin));
    }

    #[test]
    fn key_lists_parse_and_refuse_bad_entries_without_quoting_keys() {
        let parsed = keys(&["a:b:read", " k2 : admin "]).unwrap();
        assert_eq!(parsed[0].key.expose(), "a:b");
        assert_eq!(parsed[0].role, Role::Read);
        assert_eq!(
            (parsed[1].key.expose(), parsed[1].role),
            ("k2", Role::Admin)
        );
        for bad in [
            &["nocolon"][..],
            &[":read"],
            &["k:root"],
            &["k:read", "k:admin"],
        ] {
            let error = format!("{:#}", keys(bad).unwrap_err());
            assert!(!error.contains("nocolon"), "{error}");
        }
        assert_eq!(keys(&["k:read", "k:read"]).unwrap().len(), 1);
    }

    #[test]
    fn open_mode_only_on_loopback() {
        assert!(auth(&[], "127.0.0.1:8080").is_ok());
        assert!(auth(&[], "[::1]:8080").is_ok());
        assert!(auth(&[], "0.0.0.0:8080").is_err());
        assert!(auth(&[], "10.1.2.3:8080").is_err());
        assert!(auth(&["k:read"], "0.0.0.0:8080").is_ok());
        let open = auth(&[], "127.0.0.1:8080").unwrap();
        assert_eq!(
            open.authenticate_headers(&HeaderMap::new()),
            Ok(Caller::open())
        );
        assert_eq!(
            open.authenticate_headers(&headers("Bearer x")),
            Ok(Caller::open())
        );
    }

    #[test]
    fn bearer_keys_map_to_their_roles() {
        let auth = auth(&["r:read", "p:pii", "a:admin"], "0.0.0.0:1").unwrap();
        let role = |h: &str| auth.authenticate_headers(&headers(h)).map(|c| c.role);
        assert_eq!(role("Bearer r"), Ok(Role::Read));
        assert_eq!(role("bearer  p "), Ok(Role::Pii));
        assert_eq!(role("BEARER a"), Ok(Role::Admin));
        assert_eq!(role("Bearer nope"), Err(AuthError::UnknownKey));
        assert_eq!(role("Basic r"), Err(AuthError::UnknownKey));
        assert_eq!(role("r"), Err(AuthError::UnknownKey));
        assert_eq!(role("Bearer "), Err(AuthError::MissingKey));
        assert_eq!(
            auth.authenticate_headers(&HeaderMap::new()),
            Err(AuthError::MissingKey)
        );
    }

    #[test]
    fn key_ids_name_keys_without_revealing_them() {
        let auth = auth(&["secret-key:read"], "0.0.0.0:1").unwrap();
        let caller = auth.authenticate_key(Some("secret-key")).unwrap();
        assert!(caller.key_id.starts_with("key_") && caller.key_id.len() == 12);
        assert!(!caller.key_id.contains("secret"));
    }
}
