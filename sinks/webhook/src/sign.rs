//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}` with the key a `whsec_…` secret encodes, sent as
//! `webhook-signature: v1,<base64>`; and [`verify()`], for receivers and tests.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use sink_api::verify;

/// The header with the message id, the same on every attempt of one delivery.
pub const HEADER_ID: &str = "webhook-id";
/// The header with the attempt's time, in seconds since the Unix epoch.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header with the space-separated signatures (`v1,<base64>`).
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// What a symmetric secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";
/// The spec's bounds on the decoded key: 24 bytes (192 bits) to 64 bytes (512 bits).
pub const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
/// How far a timestamp may be from the receiver's clock, either way, before [`verify()`]
/// refuses it as a replay; the reference libraries use five minutes.
pub const TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// The version tag of HMAC-SHA256 signatures.
const VERSION: &str = "v1";

/// A decoded signing key, ready to sign. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct Secret {
    key: Vec<u8>,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why a `whsec_…` secret was refused; never shows the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The `whsec_` prefix is missing.
    #[error("must start with `whsec_`")]
    Prefix,
    /// What follows the prefix is not standard base64.
    #[error("must be `whsec_` followed by standard base64")]
    Base64,
    /// The decoded key is too short or too long.
    #[error("must decode to 24 to 64 bytes, not {0}")]
    Length(usize),
}

impl Secret {
    /// The key of a `whsec_<base64>` secret.
    ///
    /// # Errors
    /// No `whsec_` prefix, not base64, or a key outside 24–64 bytes.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::Prefix)?;
        let key = STANDARD.decode(encoded).map_err(|_| SecretError::Base64)?;
        if !KEY_BYTES.contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(Self { key })
    }

    /// HMAC-SHA256 of `{id}.{timestamp}.{body}`.
    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
        let timestamp = timestamp.to_string();
        verify::hmac_sha256(
            &self.key,
            &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
        )
    }

    /// The `webhook-signature` value for one message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body);
        format!("{VERSION},{}", STANDARD.encode(tag))
    }
}

/// The `webhook-id` of one event at one sink instance: `msg_` and 32 hex digits of a SHA-256
/// of both. The same on every retry and after restarts, different between sink instances (two
/// instances may send the same event to one URL in different languages), and free of the `.`
/// the signed content uses as a separator, whatever the event id holds.
pub fn message_id(instance: &str, event_id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(instance.as_bytes())
        .chain_update([0])
        .chain_update(event_id.as_bytes())
        .finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("msg_{hex}")
}

/// Seconds since the Unix epoch.
pub fn unix_seconds(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Why [`verify()`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// `webhook-timestamp` is not an integer.
    #[error("webhook-timestamp is not a number of seconds")]
    Timestamp,
    /// The timestamp is further than [`TOLERANCE`] from now: a replay, or a wrong clock.
    #[error("webhook-timestamp is outside the tolerance")]
    Expired,
    /// No `v1` signature matches.
    #[error("no matching v1 signature")]
    Signature,
}

/// Checks a received webhook the way the spec tells receivers to: the timestamp within
/// [`TOLERANCE`] of `now`, then any `v1` entry of the space-separated `signature` header
/// equal (in constant time) to the HMAC of `{id}.{timestamp}.{body}`. Pass the body exactly
/// as received, before any JSON parsing.
///
/// # Errors
/// A malformed or stale timestamp, or no matching signature.
pub fn verify(
    secret: &Secret,
    id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: SystemTime,
) -> Result<(), VerifyError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::Timestamp)?;
    let tolerance = i64::try_from(TOLERANCE.as_secs()).unwrap_or(i64::MAX);
    if ts.abs_diff(unix_seconds(now)) > tolerance.unsigned_abs() {
        return Err(VerifyError::Expired);
    }
    let mac = secret.mac(id, ts, body);
    let matches = signature
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == VERSION)
        .filter_map(|(_, encoded)| STANDARD.decode(encoded).ok())
        .any(|tag| verify::same(&mac, &tag));
    if matches {
        Ok(())
    } else {
        Err(VerifyError::Signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of the reference Rust library (standard-webhooks
    /// `libraries/rust/src/lib.rs`, `test_sign`).
    const SPEC_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const SPEC_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const SPEC_TS: i64 = 1_649_367_553;
    const SPEC_BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const SPEC_SIGNATURE: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn at(secs: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    }

    #[test]
    fn signs_the_reference_vector() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        assert_eq!(secret.sign(SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIGNATURE);
    }

    #[test]
    fn verifies_the_reference_vector_among_others() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        let ts = SPEC_TS.to_string();
        let now = at(SPEC_TS + 60);
        assert_eq!(
            verify(&secret, SPEC_ID, &ts, SPEC_SIGNATURE, SPEC_BODY, now),
            Ok(())
        );
        // Rotation: several signatures, one of them right.
        let several =
            format!("v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q= {SPEC_SIGNATURE} v1a,abc=");
        assert_eq!(
            verify(&secret, SPEC_ID, &ts, &several, SPEC_BODY, now),
            Ok(())
        );
    }

    #[test]
    fn refuses_tampering_and_stale_or_future_timestamps() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        let ts = SPEC_TS.to_string();
        let now = at(SPEC_TS);
        let tampered = br#"{"email":"test@example.com","username":"test_user2"}"#;
        assert_eq!(
            verify(&secret, SPEC_ID, &ts, SPEC_SIGNATURE, tampered, now),
            Err(VerifyError::Signature)
        );
        assert_eq!(
            verify(&secret, "msg_other", &ts, SPEC_SIGNATURE, SPEC_BODY, now),
            Err(VerifyError::Signature)
        );
        // Only v1 entries count, and a partial signature never matches.
        let v1a = SPEC_SIGNATURE.replacen("v1,", "v1a,", 1);
        for wrong in ["", "v1,", "v1,tZ1I4/hD", v1a.as_str()] {
            assert_eq!(
                verify(&secret, SPEC_ID, &ts, wrong, SPEC_BODY, now),
                Err(VerifyError::Signature),
                "{wrong}"
            );
        }
        for now in [at(SPEC_TS + 301), at(SPEC_TS - 301)] {
            assert_eq!(
                verify(&secret, SPEC_ID, &ts, SPEC_SIGNATURE, SPEC_BODY, now),
                Err(VerifyError::Expired)
            );
        }
        assert_eq!(
            verify(&secret, SPEC_ID, "soon", SPEC_SIGNATURE, SPEC_BODY, now),
            Err(VerifyError::Timestamp)
        );
        let other = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            verify(&other, SPEC_ID, &ts, SPEC_SIGNATURE, SPEC_BODY, now),
            Err(VerifyError::Signature)
        );
    }

    #[test]
    fn secrets_need_the_prefix_base64_and_24_to_64_bytes() {
        let b64 = |n: usize| STANDARD.encode(vec![7_u8; n]);
        assert_eq!(
            Secret::parse("C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap_err(),
            SecretError::Prefix
        );
        assert_eq!(
            Secret::parse("whsec_not base64!").unwrap_err(),
            SecretError::Base64
        );
        assert_eq!(
            Secret::parse(&format!("whsec_{}", b64(23))).unwrap_err(),
            SecretError::Length(23)
        );
        assert_eq!(
            Secret::parse(&format!("whsec_{}", b64(65))).unwrap_err(),
            SecretError::Length(65)
        );
        assert!(Secret::parse(&format!("whsec_{}", b64(24))).is_ok());
        assert!(Secret::parse(&format!("whsec_{}", b64(64))).is_ok());
        let shown = format!("{:?}", Secret::parse(SPEC_SECRET).unwrap());
        assert_eq!(shown, "Secret(***)");
    }

    #[test]
    fn message_ids_are_stable_distinct_and_dot_free() {
        let id = message_id("hook", "fifa:400021476:goal:1.2");
        assert_eq!(id, message_id("hook", "fifa:400021476:goal:1.2"));
        assert_ne!(id, message_id("other", "fifa:400021476:goal:1.2"));
        assert_ne!(id, message_id("hook", "fifa:400021476:goal:1.3"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(message_id("ab", "c"), message_id("a", "bc"));
        let hex = id.strip_prefix("msg_").unwrap();
        assert_eq!(hex.len(), 32);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
