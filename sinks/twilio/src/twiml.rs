//! TwiML answers to inbound messages: `<Response><Message>…</Message></Response>`.

/// The content type of TwiML.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// A TwiML document that replies with `text`, or says nothing when `None`.
pub fn reply(text: Option<&str>) -> String {
    match text {
        Some(text) => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{}</Message></Response>",
            escape(text)
        ),
        None => "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>".to_owned(),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_escaped_xml() {
        assert_eq!(
            reply(Some("Reply <YES> & \"go\"")),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Reply &lt;YES&gt; &amp; &quot;go&quot;</Message></Response>"
        );
        assert_eq!(
            reply(None),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
        );
    }
}
