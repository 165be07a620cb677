//! `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + each POST parameter's name and
//! value, sorted by name)), as Twilio signs the webhooks it sends.

use base64::Engine as _;
use sink_api::verify;

/// The signature Twilio sends for a POST of `params` to `url`.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut parts: Vec<&[u8]> = vec![url.as_bytes()];
    for (name, value) in sorted {
        parts.push(name.as_bytes());
        parts.push(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD
        .encode(verify::hmac_sha1(auth_token.as_bytes(), &parts))
}

/// Whether `signature` is Twilio's for this request, compared in constant time.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    verify::same(
        sign(auth_token, url, params).as_bytes(),
        signature.trim().as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The example of Twilio's webhook security documentation (also computed independently with
    /// Python's `hmac`).
    #[test]
    fn the_documented_example_verifies() {
        let params = p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let token = "12345";
        assert_eq!(sign(token, url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify(token, url, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="));
    }

    #[test]
    fn any_change_breaks_it() {
        let params = p(&[("Body", "YES"), ("From", "+15551234567")]);
        let sig = sign("token", "https://h.example/webhooks/twilio/sms", &params);
        assert!(verify(
            "token",
            "https://h.example/webhooks/twilio/sms",
            &params,
            &sig
        ));
        assert!(!verify(
            "other",
            "https://h.example/webhooks/twilio/sms",
            &params,
            &sig
        ));
        assert!(!verify(
            "token",
            "http://h.example/webhooks/twilio/sms",
            &params,
            &sig
        ));
        let changed = p(&[("Body", "STOP"), ("From", "+15551234567")]);
        assert!(!verify(
            "token",
            "https://h.example/webhooks/twilio/sms",
            &changed,
            &sig
        ));
        assert!(!verify(
            "token",
            "https://h.example/webhooks/twilio/sms",
            &params,
            ""
        ));
    }

    #[test]
    fn parameter_order_does_not_matter() {
        let a = p(&[("From", "+1"), ("Body", "x"), ("To", "+2")]);
        let b = p(&[("To", "+2"), ("Body", "x"), ("From", "+1")]);
        assert_eq!(sign("t", "https://u", &a), sign("t", "https://u", &b));
    }
}
