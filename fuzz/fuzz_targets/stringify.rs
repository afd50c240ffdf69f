//! `JSON.parse` then `JSON.stringify` as the gateway computes them (the form
//! Canopy's signatures are checked over): the output is JSON, a fixed point
//! (stringify(parse(stringify(x))) == stringify(x)), and the reader takes
//! the same texts as serde_json's grammar.
#![no_main]

use api::ecmascript;
use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let parsed = ecmascript::parse(text);
    // What serde_json holds as a value (at most 127 deep), `JSON.parse` takes.
    if serde_json::from_str::<serde_json::Value>(text).is_ok() {
        assert!(parsed.is_ok(), "serde_json reads it: {:?}", parsed.err());
    }
    let Ok(value) = parsed else {
        return;
    };
    // What `JSON.parse` takes is JSON (serde_json's grammar, without its
    // limits on numbers and surrogates, which skipping a value does not apply).
    serde_json::from_str::<IgnoredAny>(text).expect("the reader took what is not JSON");
    let _ = value.to_value();
    let once = value.stringify();
    serde_json::from_str::<IgnoredAny>(&once).expect("stringify wrote what is not JSON");
    let again = ecmascript::parse(&once)
        .unwrap_or_else(|e| panic!("stringify wrote what parse refuses ({e}): {once}"))
        .stringify();
    assert_eq!(again, once, "not a fixed point");
});
