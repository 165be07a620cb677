//! What herald says besides notifications: the bot's replies to chat commands and the texts to
//! SMS subscribers. Each variant is one template, `<locale>/replies/<variant>.j2` or
//! `<locale>/sms/<variant>.j2`, which sees the variant's fields (and the global `locales`).

use minijinja::Value;
use minijinja::value::Serde;
use serde::Serialize;

use super::{RenderError, Renderer, pick};
use crate::routing::Scope;

/// A text rendered from `<locale>/<FOLDER>/<name>.j2`, where `<name>` is the `template` field
/// it serializes with (`#[serde(tag = "template", rename_all = "snake_case")]`).
pub trait Text: Serialize {
    /// The folder of its templates in a locale.
    const FOLDER: &'static str;

    /// Every template with sample values: checked in every locale at startup.
    fn samples() -> Vec<Self>
    where
        Self: Sized;
}

/// Something followed, as replies name it: `type` is `all`, `team`, `competition` or `match`,
/// `name` the team, the competition or the match id (empty for `all`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// `all`, `team`, `competition` or `match`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The name or id.
    pub name: String,
}

impl From<&Scope> for Target {
    fn from(scope: &Scope) -> Self {
        let (kind, name) = scope.parts();
        Self {
            kind,
            name: name.to_owned(),
        }
    }
}

/// One line of `list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Followed {
    /// What is followed.
    pub target: Target,
    /// Kinds or groups (`goals`); empty for all.
    pub kinds: Vec<String>,
}

/// One line of `live`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveMatch {
    /// Home team.
    pub home: String,
    /// Away team.
    pub away: String,
    /// Home goals.
    pub home_score: i64,
    /// Away goals.
    pub away_score: i64,
    /// Phase code (`2H`).
    pub phase: String,
    /// Clock label (`67'`), if known.
    pub clock: Option<String>,
}

/// What the bot answers a chat command: `replies/<variant>.j2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum Reply {
    /// Following one thing.
    Subscribed {
        /// What.
        target: Target,
        /// Kinds or groups; empty for all.
        kinds: Vec<String>,
    },
    /// Following every match.
    SubscribedAll {
        /// Kinds or groups; empty for all.
        kinds: Vec<String>,
    },
    /// No longer following one thing.
    Unsubscribed {
        /// What.
        target: Target,
    },
    /// No longer following anything.
    UnsubscribedAll {
        /// How many subscriptions went.
        count: u64,
    },
    /// Asked to stop following something not followed.
    NotSubscribed {
        /// What.
        target: Target,
    },
    /// Nothing is followed.
    NothingFollowed,
    /// What the chat follows.
    Following {
        /// One per subscription.
        items: Vec<Followed>,
    },
    /// A name herald does not know.
    UnknownTarget {
        /// What was typed.
        typed: String,
        /// Close names herald knows.
        suggestions: Vec<String>,
    },
    /// The live matches.
    Live {
        /// One per match.
        matches: Vec<LiveMatch>,
    },
    /// No match is live.
    NothingLive,
    /// The chat's language (the loaded ones are the global `locales`).
    Language {
        /// The chat's locale.
        current: String,
    },
    /// The chat's language changed.
    LanguageSet {
        /// The new locale.
        locale: String,
    },
    /// A language herald does not have.
    UnknownLanguage {
        /// What was typed.
        typed: String,
    },
    /// A phone number was typed but SMS is not configured.
    SmsUnavailable,
    /// A phone number was texted a code.
    SmsCodeSent {
        /// The masked number.
        phone: String,
    },
    /// A phone number was refused.
    SmsRefused {
        /// Why.
        reason: String,
    },
    /// SMS subscriptions stop from the phone.
    SmsStopByText,
    /// Not a command.
    /// The chat's quiet hours: set, cleared (`window` none) or shown (`changed` false).
    Quiet {
        /// `23:00-07:00`, none when there are no quiet hours.
        window: Option<String>,
        /// The IANA zone.
        zone: String,
        /// Kinds or groups dropped inside the window.
        drop: Vec<String>,
        /// Just set or cleared, rather than shown.
        changed: bool,
    },
    /// `quiet` could not be read.
    QuietInvalid {
        /// What is wrong, in English from the parser.
        reason: String,
    },
    /// Whether texts show the score: set or shown.
    Spoilers {
        /// Scores shown.
        shown: bool,
        /// Just set, rather than shown.
        changed: bool,
    },
    /// How the chat gets match events: set or shown.
    Mode {
        /// `messages` or `ticker`.
        mode: String,
        /// Just set, rather than shown.
        changed: bool,
        /// Whether this platform can show a ticker (edit messages).
        available: bool,
    },
    /// The score of a match, asked for with `result`.
    Result {
        /// The match.
        game: LiveMatch,
    },
    /// `result` named no match herald has.
    NoResult {
        /// What was typed.
        typed: String,
    },
    UnknownCommand {
        /// The first word typed.
        typed: String,
    },
    /// The commands.
    Help {
        /// Whether this platform can show a ticker (lists `mode`).
        ticker: bool,
    },
    /// Something failed on herald's side.
    Unavailable,
}

impl Text for Reply {
    const FOLDER: &'static str = "replies";

    fn samples() -> Vec<Self> {
        let team = Target::from(&Scope::Team("France".into()));
        let kinds = vec![
            "goals".to_owned(),
            "cards".to_owned(),
            "full_time".to_owned(),
        ];
        vec![
            Self::Subscribed {
                target: team.clone(),
                kinds: kinds.clone(),
            },
            Self::Subscribed {
                target: Target::from(&Scope::Match("fifa:1".into())),
                kinds: Vec::new(),
            },
            Self::SubscribedAll {
                kinds: kinds.clone(),
            },
            Self::Unsubscribed {
                target: team.clone(),
            },
            Self::UnsubscribedAll { count: 2 },
            Self::NotSubscribed { target: team },
            Self::NothingFollowed,
            Self::Following {
                items: vec![
                    Followed {
                        target: Target::from(&Scope::All),
                        kinds,
                    },
                    Followed {
                        target: Target::from(&Scope::Competition("FIFA World Cup".into())),
                        kinds: Vec::new(),
                    },
                ],
            },
            Self::UnknownTarget {
                typed: "Frnace".into(),
                suggestions: vec!["France".into()],
            },
            Self::UnknownTarget {
                typed: "Atlantis".into(),
                suggestions: Vec::new(),
            },
            Self::Live {
                matches: vec![LiveMatch {
                    home: "France".into(),
                    away: "Croatia".into(),
                    home_score: 2,
                    away_score: 1,
                    phase: "2H".into(),
                    clock: Some("67'".into()),
                }],
            },
            Self::NothingLive,
            Self::Language {
                current: "en".into(),
            },
            Self::LanguageSet {
                locale: "en".into(),
            },
            Self::UnknownLanguage {
                typed: "tlh".into(),
            },
            Self::SmsUnavailable,
            Self::SmsCodeSent {
                phone: "+1415•••2671".into(),
            },
            Self::SmsRefused {
                reason: "numbers from FR are not accepted here".into(),
            },
            Self::SmsStopByText,
            Self::Quiet {
                window: Some("23:00-07:00".into()),
                zone: "Europe/Lisbon".into(),
                drop: vec!["cards".into()],
                changed: true,
            },
            Self::Quiet {
                window: Some("23:00-07:00".into()),
                zone: "UTC".into(),
                drop: Vec::new(),
                changed: false,
            },
            Self::Quiet {
                window: None,
                zone: "UTC".into(),
                drop: Vec::new(),
                changed: true,
            },
            Self::Quiet {
                window: None,
                zone: "UTC".into(),
                drop: Vec::new(),
                changed: false,
            },
            Self::QuietInvalid {
                reason: "`25:00` is not a window like 23:00-07:00".into(),
            },
            Self::Spoilers {
                shown: false,
                changed: true,
            },
            Self::Spoilers {
                shown: true,
                changed: false,
            },
            Self::Mode {
                mode: "ticker".into(),
                changed: true,
                available: true,
            },
            Self::Mode {
                mode: "messages".into(),
                changed: false,
                available: false,
            },
            Self::Result {
                game: LiveMatch {
                    home: "France".into(),
                    away: "Croatia".into(),
                    home_score: 4,
                    away_score: 2,
                    phase: "FT".into(),
                    clock: None,
                },
            },
            Self::NoResult {
                typed: "Atlantis".into(),
            },
            Self::UnknownCommand {
                typed: "/dance".into(),
            },
            Self::Help { ticker: true },
            Self::Help { ticker: false },
            Self::Unavailable,
        ]
    }
}

/// What herald texts an SMS subscriber: `sms/<variant>.j2`. GSM-7 characters only, one
/// segment (160 characters) at most.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum SmsText {
    /// What a subscription covers, in words (`France, Brazil alerts (goals)`, `every match`):
    /// part of the other texts and of the signup's answer.
    Following {
        /// What is followed; empty for every match.
        targets: Vec<Target>,
        /// Kinds or groups; empty for all.
        kinds: Vec<String>,
    },
    /// The confirmation code.
    Code {
        /// The code.
        code: String,
        /// A rendered [`SmsText::Following`].
        following: String,
    },
    /// Confirmed.
    Welcome {
        /// A rendered [`SmsText::Following`].
        following: String,
    },
    /// Notifications resumed after STOP.
    Resumed,
    /// Opted out with STOP. Twilio answers an SMS STOP itself; on WhatsApp herald does.
    Stopped,
    /// The keywords.
    Help,
    /// A code that does not match.
    WrongCode,
    /// Nothing to confirm or resume.
    NothingPending,
    /// Quiet hours after `QUIET …`: the window, or none.
    Quiet {
        /// `23:00-07:00`, or none when off.
        window: Option<String>,
        /// The zone of the window (the default zone when off).
        zone: String,
        /// Kinds or groups dropped inside the window.
        drop: Vec<String>,
    },
    /// `QUIET …` that does not parse.
    QuietInvalid,
}

impl Text for SmsText {
    const FOLDER: &'static str = "sms";

    fn samples() -> Vec<Self> {
        let following = "France alerts (goals)".to_owned();
        vec![
            Self::Following {
                targets: vec![
                    Target::from(&Scope::Team("France".into())),
                    Target::from(&Scope::Match("fifa:1".into())),
                ],
                kinds: vec!["goals".into(), "cards".into()],
            },
            Self::Following {
                targets: Vec::new(),
                kinds: Vec::new(),
            },
            Self::Code {
                code: "123456".into(),
                following: following.clone(),
            },
            Self::Welcome { following },
            Self::Resumed,
            Self::Stopped,
            Self::Help,
            Self::WrongCode,
            Self::NothingPending,
            Self::Quiet {
                window: Some("23:00-07:00".into()),
                zone: "America/Argentina/Buenos_Aires".into(),
                drop: vec!["cards".into(), "periods".into()],
            },
            Self::Quiet {
                window: None,
                zone: "UTC".into(),
                drop: Vec::new(),
            },
            Self::QuietInvalid,
        ]
    }
}

impl Renderer {
    /// Renders a reply or SMS text in `locale` (resolved with
    /// [`Renderer::locale_or_default`]), from the locale's template or else `en`'s; the output
    /// is trimmed.
    ///
    /// # Errors
    /// No such template, or one that fails at render time.
    pub fn text<T: Text>(&self, text: &T, locale: &str) -> Result<String, RenderError> {
        let locale = self.locale_or_default(locale);
        let context = Value::from(Serde(text));
        let path = path_of::<T>(&context);
        let name =
            pick(&self.templates, locale, &path).ok_or_else(|| RenderError::MissingText {
                locale: locale.to_owned(),
                path: path.clone(),
            })?;
        let template = self
            .env
            .get_template(&name)
            .map_err(|e| RenderError::Template {
                name: name.clone(),
                message: e.to_string(),
            })?;
        let out = template
            .render(context)
            .map_err(|e| RenderError::Template {
                name,
                message: e.to_string(),
            })?;
        Ok(out.trim().to_owned())
    }
}

/// `<FOLDER>/<template>` of a serialized text (`replies/help`).
pub(super) fn path_of<T: Text>(context: &Value) -> String {
    let variant = context
        .get_attr("template")
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("{}/{variant}", T::FOLDER)
}
