//! Configuration read from an environment (`NAME=value` lines): never a
//! panic; a configuration that is read is usable (the API-key check builds
//! from it, CORS origins are in their written form); and no secret shows in
//! its debug print or in the error that refuses it.
#![no_main]

use api::{auth::Auth, config::Config};
use libfuzzer_sys::fuzz_target;

/// Variables whose values (or list entries, or `key` of `key:role`) are secret.
const SECRET_VARS: [&str; 6] = [
    "CANOPY_WEBHOOK_SECRETS",
    "LOANPRO_WEBHOOK_TOKENS",
    "EMBEDDED_FUNDING_CALLBACK_TOKEN",
    "EMBEDDED_FUNDING_API_KEY",
    "CANOPY_CLIENT_SECRET",
    "GATEWAY_API_KEYS",
];

/// Every variable set, with short secrets: what a debug print shows besides secrets.
const EVERYTHING: &str = "DATABASE_URL=sqlite://x.db\nGATEWAY_ADDR=0.0.0.0:1\n\
    MAX_BODY_BYTES=1\nGATEWAY_MAX_IN_FLIGHT=1\nGATEWAY_API_KEYS=k:read,l:pii,m:admin\n\
    GATEWAY_CORS_ORIGINS=https://a.example\nREDIS_URL=redis://r\nREDIS_CHANNEL=c\n\
    TRUSTED_PROXIES=10.0.0.0/8,::1\nCANOPY_WEBHOOK_SECRETS=s\nCANOPY_DOUBLE_CHECK=e\n\
    CANOPY_API_URL=https://u:p@c.example:8443/p?q#f\nCANOPY_CLIENT_ID=i\nCANOPY_CLIENT_SECRET=s\n\
    LOANPRO_WEBHOOK_TOKENS=t\nEMBEDDED_FUNDING_ALLOWED_IPS=10.0.0.1\n\
    EMBEDDED_FUNDING_CALLBACK_TOKEN=t\nEMBEDDED_FUNDING_API_URL=http://e.example\n\
    EMBEDDED_FUNDING_API_KEY=k\n";

fn parse_vars(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .collect()
}

fn read(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
    Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
}

/// The secrets `vars` sets that the check can tell apart from other text.
fn secrets<'a>(vars: &[(&str, &'a str)]) -> Vec<&'a str> {
    vars.iter()
        .filter(|(name, _)| SECRET_VARS.contains(name))
        .flat_map(|(name, value)| {
            value.split(',').map(move |entry| match *name {
                "GATEWAY_API_KEYS" => entry.rsplit_once(':').map_or(entry, |(key, _)| key),
                _ => entry,
            })
        })
        .map(str::trim)
        .filter(|s| s.len() >= 8 && s.bytes().all(|b| b.is_ascii_alphanumeric()))
        .collect()
}

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let vars = parse_vars(text);
    let shown = match read(&vars) {
        Ok(config) => {
            assert!(config.max_body_bytes > 0 && config.max_in_flight > 0);
            let _ = Auth::new(&config.api_keys, config.addr);
            if !config.cors_origins.is_empty() {
                let written = config.cors_origins.join(",");
                let again = read(&[("GATEWAY_CORS_ORIGINS", &written)]).expect("origins reread");
                assert_eq!(again.cors_origins, config.cors_origins);
            }
            format!("{config:?}")
        }
        Err(error) => format!("{error:#} {error:?}"),
    };
    // Text that is no secret's: other variables' values, and what a print
    // shows of a configuration with everything set.
    let public = vars
        .iter()
        .filter(|(name, _)| !SECRET_VARS.contains(name))
        .map(|(_, value)| *value)
        .chain([
            EVERYTHING,
            &format!("{:?}", read(&parse_vars(EVERYTHING)).unwrap()),
        ])
        .collect::<String>()
        .to_ascii_lowercase();
    for secret in secrets(&vars) {
        if !public.contains(&secret.to_ascii_lowercase()) {
            assert!(!shown.contains(secret), "{secret:?} shown: {shown}");
        }
    }
});
