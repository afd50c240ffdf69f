//! Shared-secret tokens a provider presents (LoanPro's header tokens,
//! Embedded Funding's `?token=`), compared in constant time.
use http::{HeaderMap, header::AUTHORIZATION};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::{auth::bearer_token, secret::Secret};

/// Whether any of `presented` equals any of `configured`. Every pair is
/// compared, over SHA-256 digests with `subtle`, so neither the time taken
/// nor an early exit tells how much of a token was right, or its length.
pub fn matches_any<'a>(
    presented: impl IntoIterator<Item = &'a str>,
    configured: &[Secret],
) -> bool {
    let configured: Vec<_> = configured
        .iter()
        .map(|secret| Sha256::digest(secret.expose().as_bytes()))
        .collect();
    let mut found = Choice::from(0);
    for token in presented {
        let token = Sha256::digest(token.as_bytes());
        for secret in &configured {
            found |= token.as_slice().ct_eq(secret.as_slice());
        }
    }
    found.into()
}

/// The token of every `Authorization: Bearer <token>` header (the scheme in
/// any case); other schemes are not tokens.
pub fn bearer_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter_map(|value| bearer_token(value.to_str().ok()?))
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn any_presented_token_may_match_any_configured_one() {
        let configured = [Secret::new("new-token"), Secret::new("old-token")];
        assert!(matches_any(["old-token"], &configured));
        assert!(matches_any(["wrong", "new-token"], &configured));
        assert!(!matches_any(["new-token "], &configured));
        assert!(!matches_any(["new-toke"], &configured));
        assert!(!matches_any([""], &configured));
        assert!(!matches_any([], &configured));
        assert!(!matches_any(["new-token"], &[]));
    }

    #[test]
    fn bearer_tokens_take_the_scheme_in_any_case_and_nothing_else() {
        let mut headers = HeaderMap::new();
        for value in [
            "Bearer a",
            "bearer  b ",
            "BEARER c",
            "Basic d",
            "Bearer",
            "Bearer ",
        ] {
            headers.append(AUTHORIZATION, HeaderValue::from_static(value));
        }
        assert_eq!(bearer_tokens(&headers).collect::<Vec<_>>(), ["a", "b", "c"]);
    }
}
