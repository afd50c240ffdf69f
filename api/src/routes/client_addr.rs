//! Who is calling: the TCP peer, or, when the peer is a trusted proxy, the
//! client it forwarded for (contract section 2).
use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, request::Parts},
};
use ipnet::IpNet;

use crate::state::AppState;

/// The caller's address, resolved once per request.
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Served through `into_make_service_with_connect_info`, so always set;
        // a router driven without it (tests with `oneshot`) is its own peer.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |info| info.0.ip());
        Ok(Self(resolve_client_addr(
            peer,
            &parts.headers,
            &state.trusted_proxies,
        )))
    }
}

/// The TCP peer, unless it is in `trusted`: then the rightmost
/// `X-Forwarded-For` entry that is not itself a trusted proxy. Forwarding
/// headers from any other peer are ignored, so they cannot be spoofed.
pub fn resolve_client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let mut nearest = peer;
    for entry in entries.iter().rev() {
        // An entry no proxy would write ends the walk at the last hop we trust.
        let Some(ip) = parse_entry(entry) else {
            return nearest;
        };
        if !is_trusted(&ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

/// `203.0.113.7`, `2001:db8::1`, or either with a port (`[2001:db8::1]:443`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn resolve(peer: &str, forwarded: &[&str], trusted: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        let trusted: Vec<IpNet> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        resolve_client_addr(peer.parse().unwrap(), &headers, &trusted).to_string()
    }

    #[test]
    fn forwarding_is_believed_only_from_trusted_proxies() {
        // Not a proxy of ours: the header is whatever the caller wrote.
        assert_eq!(
            resolve("198.51.100.9", &["35.204.149.135"], &[]),
            "198.51.100.9"
        );
        assert_eq!(
            resolve("198.51.100.9", &["35.204.149.135"], &["10.0.0.0/8"]),
            "198.51.100.9"
        );
        // From a trusted proxy: its client.
        assert_eq!(
            resolve("10.0.0.2", &["35.204.149.135"], &["10.0.0.0/8"]),
            "35.204.149.135"
        );
        // No header from a trusted proxy: the proxy itself.
        assert_eq!(resolve("10.0.0.2", &[], &["10.0.0.0/8"]), "10.0.0.2");
    }

    #[test]
    fn the_rightmost_untrusted_entry_is_the_client() {
        let trusted = ["10.0.0.0/8"];
        // The caller can prepend anything; only what our proxies appended counts.
        assert_eq!(
            resolve("10.0.0.2", &["1.2.3.4, 35.204.149.135, 10.1.1.1"], &trusted),
            "35.204.149.135"
        );
        // Several headers are one list, in order.
        assert_eq!(
            resolve("10.0.0.2", &["1.2.3.4", "35.204.149.135"], &trusted),
            "35.204.149.135"
        );
        assert_eq!(
            resolve("10.0.0.2", &["[2001:db8::1]:443", "10.0.0.3:80"], &trusted),
            "2001:db8::1"
        );
        // Only trusted hops: the farthest one.
        assert_eq!(
            resolve("10.0.0.2", &["10.0.0.5, 10.0.0.4"], &trusted),
            "10.0.0.5"
        );
        // Garbage ends the walk at the last trusted hop.
        assert_eq!(
            resolve(
                "10.0.0.2",
                &["35.204.149.135, not-an-ip, 10.0.0.4"],
                &trusted
            ),
            "10.0.0.4"
        );
    }
}
