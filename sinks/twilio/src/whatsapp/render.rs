//! What a notification becomes on WhatsApp: free-form text inside the 24-hour window, the
//! template's `ContentVariables` outside it. Pure.

use std::collections::BTreeMap;

use sink_api::Notification;
use sink_api::text::{title_and_body, truncate};

use super::config::{Field, MAX_VARIABLE_CHARS};

/// The longest `Body` Twilio accepts.
const MAX_BODY_CHARS: usize = 1600;

/// What fills a variable whose field is empty (an announcement without details): Twilio
/// refuses empty values (error 21656).
const EMPTY_VALUE: &str = "-";

/// Between the lines of a text made into one line.
const LINE_SEPARATOR: &str = " - ";

/// Whether `msg` is sent whole, not cut to [`MAX_BODY_CHARS`].
pub(crate) fn fits(msg: &Notification) -> bool {
    title_and_body(msg).trim().chars().count() <= MAX_BODY_CHARS
}

/// The free-form text of `msg`: its title and body, cut to Twilio's 1,600 characters.
pub(crate) fn text(msg: &Notification) -> String {
    truncate(title_and_body(msg).trim(), MAX_BODY_CHARS)
}

/// The `ContentVariables` JSON of `msg` for a template whose variables `variables` maps, or
/// `None` when the template has none.
pub(crate) fn content_variables(
    variables: &BTreeMap<String, Field>,
    msg: &Notification,
) -> Option<String> {
    if variables.is_empty() {
        return None;
    }
    let values: BTreeMap<&str, String> = variables
        .iter()
        .map(|(key, field)| (key.as_str(), value(*field, msg)))
        .collect();
    // A map of strings always serializes.
    serde_json::to_string(&values).ok()
}

/// The value of one variable: one line (WhatsApp refuses new lines, tabs and runs of spaces in
/// template parameters), at most [`MAX_VARIABLE_CHARS`], never empty.
fn value(field: Field, msg: &Notification) -> String {
    let team = |i: usize| msg.teams.get(i).cloned().unwrap_or_default();
    let raw = match field {
        Field::Title => msg.title.clone(),
        Field::Body => msg.body.clone(),
        Field::Text => title_and_body(msg),
        Field::Kind => msg.kind.clone(),
        Field::Topic => msg.topic.clone().unwrap_or_default(),
        Field::Teams => msg.teams.join(", "),
        Field::Home => team(0),
        Field::Away => team(1),
    };
    let line = one_line(&raw);
    if line.is_empty() {
        EMPTY_VALUE.to_owned()
    } else {
        truncate(&line, MAX_VARIABLE_CHARS)
    }
}

/// `text` on one line: its non-blank lines joined with ` - `, each run of spaces and tabs made
/// one space.
fn one_line(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(LINE_SEPARATOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(title: &str, body: &str) -> Notification {
        let mut n = sink_api::testing::goal(title, body);
        n.teams = vec!["France".into(), "Croatia".into()];
        n
    }

    #[test]
    fn free_form_text_is_title_and_body_within_twilios_limit() {
        assert_eq!(
            text(&note("GOAL! France 1-0 Croatia", "Mbappé (France) 65'")),
            "GOAL! France 1-0 Croatia\nMbappé (France) 65'"
        );
        assert_eq!(text(&note("Kick-off", "")), "Kick-off");
        let long = text(&note("t", &"x".repeat(2000)));
        assert_eq!(long.chars().count(), 1600);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn variables_are_one_line_never_empty_and_cut() {
        let vars = BTreeMap::from([
            ("1".to_owned(), Field::Title),
            ("2".to_owned(), Field::Body),
            ("3".to_owned(), Field::Text),
            ("4".to_owned(), Field::Teams),
            ("5".to_owned(), Field::Away),
            ("6".to_owned(), Field::Topic),
            ("7".to_owned(), Field::Kind),
        ]);
        let json = content_variables(
            &vars,
            &note(
                "GOAL!  France\t1-0",
                "Mbappé 65'\n\n  assist:     Griezmann",
            ),
        )
        .unwrap();
        let got: BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
        assert_eq!(got["1"], "GOAL! France 1-0");
        assert_eq!(got["2"], "Mbappé 65' - assist: Griezmann");
        assert_eq!(
            got["3"],
            "GOAL! France 1-0 - Mbappé 65' - assist: Griezmann"
        );
        assert_eq!(got["4"], "France, Croatia");
        assert_eq!(got["5"], "Croatia");
        assert_eq!(got["6"], "-", "no topic: a placeholder, not an empty value");
        assert_eq!(got["7"], "goal");
        let long = content_variables(
            &BTreeMap::from([("1".to_owned(), Field::Body)]),
            &note("t", &"y".repeat(400)),
        )
        .unwrap();
        let got: BTreeMap<String, String> = serde_json::from_str(&long).unwrap();
        assert_eq!(got["1"].chars().count(), 250);
        assert_eq!(content_variables(&BTreeMap::new(), &note("t", "b")), None);
    }
}
