//! Checking that an inbound request comes from the platform: HMAC signatures (Slack, Twilio,
//! Standard Webhooks) with a timestamp window against replays, and Ed25519 signatures
//! (Discord). Every comparison is constant-time; every refusal is a short reason for logs.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

/// How far a signed timestamp may be from our clock: five minutes, as Slack and Discord ask.
pub const MAX_SKEW_SECONDS: i64 = 5 * 60;

/// Now, in Unix seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A header's value as text, when present and visible ASCII.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks a signed Unix timestamp against `now`, within [`MAX_SKEW_SECONDS`].
///
/// # Errors
/// A timestamp that is not a number, or too old or too far ahead (a replayed request).
pub fn fresh(timestamp: &str, now: i64) -> Result<i64, &'static str> {
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| "malformed timestamp")?;
    if (now - at).abs() > MAX_SKEW_SECONDS {
        return Err("timestamp too far from now");
    }
    Ok(at)
}

/// HMAC-SHA256 of the concatenated `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA1 of the concatenated `parts` (Twilio's webhooks).
pub fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Whether two signatures are equal, in constant time.
pub fn same(expected: &[u8], given: &[u8]) -> bool {
    bool::from(expected.ct_eq(given))
}

/// An Ed25519 public key from its hex form (as Discord shows it).
///
/// # Errors
/// Not hex, not 32 bytes, or not a point on the curve.
pub fn ed25519_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let bytes = hex::decode(hex_key.trim()).map_err(|_| "not hex".to_owned())?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "must be 32 bytes (64 hex digits)".to_owned())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not an Ed25519 public key".to_owned())
}

/// Checks a hex Ed25519 `signature` by `key` over the concatenated `parts`.
///
/// # Errors
/// A signature that is not 64 bytes of hex, or does not match.
pub fn ed25519(key: &VerifyingKey, parts: &[&[u8]], signature: &str) -> Result<(), &'static str> {
    let bytes = hex::decode(signature.trim()).map_err(|_| "malformed signature")?;
    let bytes: [u8; 64] = bytes.try_into().map_err(|_| "malformed signature")?;
    let message = parts.concat();
    key.verify(&message, &Signature::from_bytes(&bytes))
        .map_err(|_| "signature does not match")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_sha1_matches_rfc_2202_case_2() {
        let mac = hmac_sha1(b"Jefe", &[b"what do ya want for nothing?"]);
        assert_eq!(hex::encode(mac), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn timestamps_outside_five_minutes_are_refused() {
        assert_eq!(fresh("1000", 1000 + 300), Ok(1000));
        assert_eq!(fresh("1000", 1000 + 301), Err("timestamp too far from now"));
        assert_eq!(fresh("1000", 1000 - 301), Err("timestamp too far from now"));
        assert_eq!(fresh("ten", 1000), Err("malformed timestamp"));
    }

    #[test]
    fn same_compares_whole_values() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
