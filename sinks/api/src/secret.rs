//! Secrets in config: always strings, whatever they look like. A token of digits set from
//! the environment (`HERALD_HTTP__ADMIN_TOKEN=98765432109876543`) arrives as a number; it is
//! taken as the same text instead of being refused with its value in the error.
//!
//! Use with `#[serde(deserialize_with = "sink_api::secret::required")]` (or `optional`).

use std::fmt;

use secrecy::SecretString;
use serde::Deserializer;
use serde::de::{self, Visitor};

struct SecretVisitor;

impl Visitor<'_> for SecretVisitor {
    type Value = SecretString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the value: this text ends up in error messages.
        f.write_str("a secret (a string)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(SecretString::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(SecretString::from(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(SecretString::from(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(SecretString::from(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        // A decimal has lost the text it was written as (`1.50` is 1.5): refuse it, without it.
        Err(E::custom(
            "a secret that looks like a decimal number must be quoted in the file, or set as \
             \"${VAR}\" there from the environment",
        ))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(SecretString::from(v.to_string()))
    }
}

/// A required secret.
///
/// # Errors
/// When the value is not a string or a number.
pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SecretString, D::Error> {
    deserializer.deserialize_any(SecretVisitor)
}

struct OptionalVisitor;

impl<'de> Visitor<'de> for OptionalVisitor {
    type Value = Option<SecretString>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a secret (a string)")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        required(d).map(Some)
    }
}

/// An optional secret (`None` when absent or null).
///
/// # Errors
/// When the value is not a string or a number.
pub fn optional<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SecretString>, D::Error> {
    deserializer.deserialize_option(OptionalVisitor)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Config {
        #[serde(deserialize_with = "super::required")]
        token: secrecy::SecretString,
        #[serde(default, deserialize_with = "super::optional")]
        other: Option<secrecy::SecretString>,
    }

    #[test]
    fn digits_are_the_same_secret_as_their_text() {
        let c: Config = serde_json::from_value(
            serde_json::json!({"token": 98765432109876543_u64, "other": 12}),
        )
        .unwrap();
        assert_eq!(c.token.expose_secret(), "98765432109876543");
        assert_eq!(c.other.unwrap().expose_secret(), "12");
        let c: Config = serde_json::from_value(serde_json::json!({"token": "abc"})).unwrap();
        assert!(c.other.is_none());
    }

    #[test]
    fn a_refused_secret_is_not_echoed() {
        let err = serde_json::from_value::<Config>(serde_json::json!({"token": 1234.5678}))
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("1234"), "{err}");
        let err = serde_json::from_value::<Config>(serde_json::json!({"token": ["s3cr3t"]}))
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}
