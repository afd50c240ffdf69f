//! The environment as the gateway reads it (contract section 1): a variable
//! set to an empty value counts as unset; comma lists are trimmed and empty
//! entries ignored. Each part of the gateway reads its own variables.
use std::{fmt::Display, str::FromStr};

use anyhow::Context;
use ipnet::IpNet;

pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The variable parsed, naming it and what it should be when it does not parse.
    pub fn parse<T>(&self, name: &str, what: &str) -> anyhow::Result<Option<T>>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.get(name)
            .map(|v| {
                let v = v.trim();
                v.parse()
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .with_context(|| format!("{name} is not {what}: {v:?}"))
            })
            .transpose()
    }

    /// A comma list of CIDRs or single addresses (a single address is its
    /// own /32 or /128).
    pub fn networks(&self, name: &str) -> anyhow::Result<Vec<IpNet>> {
        self.list(name)
            .iter()
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| anyhow::anyhow!("{name}: {entry:?} is not an IP address or CIDR"))
            })
            .collect()
    }

    /// Runs `read` on an environment of just `vars`.
    #[cfg(test)]
    pub fn with_vars<T>(vars: &[(&str, &str)], read: impl FnOnce(&Env<'_>) -> T) -> T {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        read(&Env::new(&lookup))
    }
}
