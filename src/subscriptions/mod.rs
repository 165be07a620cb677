//! Bot commands → subscriptions in the store. One service per chat sink instance; every chat
//! platform hands its commands here through `sink_api::CommandHandler`, so `/subscribe France`
//! means the same on Telegram, Discord and Slack. Invalid input gets a clear reply and writes
//! nothing.

mod parse;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sink_api::{Command as Incoming, CommandHandler, Recipient, Reply};

pub use parse::{Command, ParseError, parse};

use crate::dispatch::error_chain;
use crate::preferences::{Mode, Quiet};
use crate::render::{Followed, LiveMatch, Renderer, Reply as Answer, Target};
use crate::routing::{Scope, Subscription};
use crate::store::{Store, StoreError};
use crate::targets::{Resolved, is_phone_number, resolve};

/// The subscriptions service of one sink instance.
#[derive(Debug, Clone)]
pub struct Service {
    store: Store,
    sink: String,
    /// The replies' templates, the locales and the default one.
    renderer: Arc<Renderer>,
    /// Whether the sink edits messages in place, so that `mode ticker` is possible.
    ticker: bool,
    /// The zone of quiet hours typed without one.
    time_zone: String,
    /// Where `subscribe +15551234567` signs a number up, when SMS is configured.
    #[cfg(feature = "twilio")]
    sms: crate::sms::Slot,
}

impl Service {
    /// The service for sink instance `sink`, answering from `renderer`'s reply templates in
    /// any of its locales.
    pub fn new(store: Store, sink: &str, renderer: Arc<Renderer>) -> Self {
        Self {
            store,
            sink: sink.to_owned(),
            renderer,
            ticker: false,
            time_zone: "UTC".to_owned(),
            #[cfg(feature = "twilio")]
            sms: crate::sms::Slot::default(),
        }
    }

    /// Offers `mode ticker` (the sink edits messages in place).
    #[must_use]
    pub fn with_ticker(mut self, ticker: bool) -> Self {
        self.ticker = ticker;
        self
    }

    /// Reads quiet hours typed without a zone in `zone` (`render.time_zone`).
    #[must_use]
    pub fn with_time_zone(mut self, zone: &str) -> Self {
        zone.clone_into(&mut self.time_zone);
        self
    }

    /// Hands phone numbers (`subscribe +15551234567`) to this SMS signup.
    #[cfg(feature = "twilio")]
    #[must_use]
    pub fn with_sms(mut self, sms: crate::sms::Slot) -> Self {
        self.sms = sms;
        self
    }

    /// Starts an SMS signup for a number typed in a chat.
    #[cfg_attr(not(feature = "twilio"), allow(clippy::unused_async, unused_variables))]
    async fn sms_signup(
        &self,
        chat: &Recipient,
        typed: &str,
        kinds: &[String],
        locale: &str,
    ) -> Answer {
        #[cfg(feature = "twilio")]
        if let Some(sms) = self.sms.get() {
            let request = crate::sms::Request {
                phone: typed.to_owned(),
                kinds: kinds.to_vec(),
                locale: Some(locale.to_owned()),
                ..crate::sms::Request::default()
            };
            let origin = crate::sms::Origin::Chat(format!("{}:{chat}", self.sink));
            return match sms.start(request, origin).await {
                Ok(started) => Answer::SmsCodeSent {
                    phone: sink_twilio::phone::mask(&started.phone),
                },
                Err(e) => Answer::SmsRefused {
                    reason: e.to_string(),
                },
            };
        }
        Answer::SmsUnavailable
    }

    fn sms_takes_national_numbers(&self) -> bool {
        #[cfg(feature = "twilio")]
        {
            self.sms
                .get()
                .is_some_and(|sms| sms.takes_national_numbers())
        }
        #[cfg(not(feature = "twilio"))]
        {
            false
        }
    }

    fn sms_configured(&self) -> bool {
        #[cfg(feature = "twilio")]
        {
            self.sms.get().is_some()
        }
        #[cfg(not(feature = "twilio"))]
        {
            false
        }
    }

    /// A locale herald has, from what a user typed or a platform reported (`pt-br`, `pt`,
    /// `Português`), if any.
    fn locale_for(&self, wanted: &str) -> Option<String> {
        self.renderer.resolve_locale(wanted).map(str::to_owned)
    }

    /// The text of `answer` in `locale`.
    fn say(&self, answer: &Answer, locale: &str) -> String {
        self.renderer.text(answer, locale).unwrap_or_else(|e| {
            tracing::error!(error = %error_chain(&e), sink = %self.sink, "cannot render a reply");
            self.renderer
                .text(&Answer::Unavailable, locale)
                .unwrap_or_default()
        })
    }

    /// Handles a command; every outcome, failures included, is a reply.
    pub async fn run(&self, command: Incoming) -> String {
        let chat = &command.chat;
        let chosen = match self.store.chat_locale(&self.sink, chat.as_str()).await {
            Ok(locale) => locale,
            Err(e) => {
                tracing::error!(error = %error_chain(&e), "cannot read the chat's language");
                None
            }
        };
        let hinted = command.language.as_deref().and_then(|l| self.locale_for(l));
        let locale = chosen
            .clone()
            .or(hinted)
            .unwrap_or_else(|| self.renderer.default_locale().to_owned());
        let answer = match parse(&command.text) {
            Ok(parsed) => match self
                .execute(chat, parsed, chosen.is_some().then_some(&locale), &locale)
                .await
            {
                Ok(answer) => answer,
                Err(e) => {
                    tracing::error!(error = %error_chain(&e), sink = %self.sink, "cannot handle a command");
                    Answer::Unavailable
                }
            },
            Err(ParseError::Empty) => Answer::Help {
                ticker: self.ticker,
            },
            Err(ParseError::Unknown(typed)) => Answer::UnknownCommand { typed },
        };
        let locale = match &answer {
            Answer::LanguageSet { locale } => locale.clone(),
            _ => locale,
        };
        self.say(&answer, &locale)
    }

    async fn execute(
        &self,
        chat: &Recipient,
        command: Command,
        chosen_locale: Option<&String>,
        locale: &str,
    ) -> Result<Answer, StoreError> {
        match command {
            Command::Subscribe { target, kinds } => {
                let scope = match target {
                    None => Scope::All,
                    Some(typed) => match resolve(&self.store, &typed).await? {
                        Resolved::Scope(scope) => scope,
                        Resolved::Phone => {
                            return Ok(self.sms_signup(chat, &typed, &kinds, locale).await);
                        }
                        // A national number (`subscribe 4155552671`), when the SMS signup
                        // has a default country to read it in.
                        Resolved::Unknown(_)
                            if self.sms_takes_national_numbers() && is_phone_number(&typed) =>
                        {
                            return Ok(self.sms_signup(chat, &typed, &kinds, locale).await);
                        }
                        Resolved::Unknown(suggestions) => {
                            return Ok(Answer::UnknownTarget { typed, suggestions });
                        }
                    },
                };
                self.store
                    .subscribe(&Subscription {
                        sink: self.sink.clone(),
                        recipient: chat.clone(),
                        scope: scope.clone(),
                        kinds: kinds.clone(),
                        locale: Some(chosen_locale.cloned().unwrap_or_else(|| locale.to_owned())),
                    })
                    .await?;
                tracing::info!(sink = %self.sink, chat = %chat, scope = ?scope, "subscribed");
                Ok(match scope {
                    Scope::All => Answer::SubscribedAll { kinds },
                    scope => Answer::Subscribed {
                        target: Target::from(&scope),
                        kinds,
                    },
                })
            }
            Command::Unsubscribe { target: None } => {
                let count = self
                    .store
                    .unsubscribe(&self.sink, chat.as_str(), None)
                    .await?;
                Ok(if count == 0 {
                    Answer::NothingFollowed
                } else {
                    Answer::UnsubscribedAll { count }
                })
            }
            Command::Unsubscribe {
                target: Some(typed),
            } => {
                let scope = match resolve(&self.store, &typed).await? {
                    Resolved::Scope(scope) => scope,
                    Resolved::Phone if self.sms_configured() => return Ok(Answer::SmsStopByText),
                    Resolved::Phone => return Ok(Answer::SmsUnavailable),
                    Resolved::Unknown(suggestions) => {
                        return Ok(Answer::UnknownTarget { typed, suggestions });
                    }
                };
                let removed = self
                    .store
                    .unsubscribe(&self.sink, chat.as_str(), Some(&scope))
                    .await?;
                let target = Target::from(&scope);
                Ok(if removed == 0 {
                    Answer::NotSubscribed { target }
                } else {
                    Answer::Unsubscribed { target }
                })
            }
            Command::List => {
                let subs = self
                    .store
                    .subscriptions_of(&self.sink, chat.as_str())
                    .await?;
                if subs.is_empty() {
                    return Ok(Answer::NothingFollowed);
                }
                let items = subs
                    .iter()
                    .map(|s| Followed {
                        target: Target::from(&s.scope),
                        kinds: s.kinds.clone(),
                    })
                    .collect();
                Ok(Answer::Following { items })
            }
            Command::Live => {
                let matches: Vec<LiveMatch> = self
                    .store
                    .matches(50)
                    .await?
                    .into_iter()
                    .filter(crate::store::MatchRow::is_live)
                    .map(|m| LiveMatch {
                        home: m.home,
                        away: m.away,
                        home_score: m.home_score,
                        away_score: m.away_score,
                        phase: m.phase,
                        clock: m.clock,
                    })
                    .collect();
                Ok(if matches.is_empty() {
                    Answer::NothingLive
                } else {
                    Answer::Live { matches }
                })
            }
            Command::Lang(None) => Ok(Answer::Language {
                current: locale.to_owned(),
            }),
            Command::Lang(Some(typed)) => match self.locale_for(&typed) {
                Some(found) => {
                    self.store
                        .set_chat_locale(&self.sink, chat.as_str(), &found)
                        .await?;
                    Ok(Answer::LanguageSet { locale: found })
                }
                None => Ok(Answer::UnknownLanguage { typed }),
            },
            Command::Quiet(typed) => self.quiet(chat, typed).await,
            Command::Spoilers(typed) => {
                let wanted =
                    typed
                        .as_deref()
                        .map(str::trim)
                        .and_then(|w| match w.to_lowercase().as_str() {
                            "on" | "show" | "yes" | "sim" | "si" | "sí" | "oui" => Some(true),
                            "off" | "hide" | "no" | "não" | "non" => Some(false),
                            _ => None,
                        });
                Ok(match wanted {
                    Some(shown) => {
                        self.store
                            .set_spoilers(&self.sink, chat.as_str(), shown)
                            .await?;
                        Answer::Spoilers {
                            shown,
                            changed: true,
                        }
                    }
                    None => Answer::Spoilers {
                        shown: self.store.prefs(&self.sink, chat.as_str()).await?.spoilers,
                        changed: false,
                    },
                })
            }
            Command::Mode(typed) => {
                let wanted = typed
                    .as_deref()
                    .and_then(Mode::parse)
                    .filter(|m| *m == Mode::Messages || self.ticker);
                if let Some(mode) = wanted {
                    self.store.set_mode(&self.sink, chat.as_str(), mode).await?;
                }
                let mode = match wanted {
                    Some(mode) => mode,
                    None => self.store.prefs(&self.sink, chat.as_str()).await?.mode,
                };
                Ok(Answer::Mode {
                    mode: mode.as_str().to_owned(),
                    changed: wanted.is_some(),
                    available: self.ticker,
                })
            }
            Command::Result(typed) => self.result(typed.unwrap_or_default()).await,
            Command::Help => Ok(Answer::Help {
                ticker: self.ticker,
            }),
        }
    }

    /// `quiet`: shows, sets or clears the chat's quiet hours.
    async fn quiet(&self, chat: &Recipient, typed: Option<String>) -> Result<Answer, StoreError> {
        let shown = |quiet: Option<&Quiet>, changed: bool| Answer::Quiet {
            window: quiet.map(Quiet::window),
            zone: quiet.map_or_else(|| self.time_zone.clone(), |q| q.zone().to_owned()),
            drop: quiet.map(|q| q.dropped().to_vec()).unwrap_or_default(),
            changed,
        };
        let Some(typed) = typed else {
            let prefs = self.store.prefs(&self.sink, chat.as_str()).await?;
            return Ok(shown(prefs.quiet.as_ref(), false));
        };
        match Quiet::setting(&typed, &self.time_zone) {
            Ok(quiet) => {
                self.store
                    .set_quiet(&self.sink, chat.as_str(), quiet.as_ref())
                    .await?;
                if let Some(quiet) = &quiet {
                    tracing::info!(sink = %self.sink, chat = %chat, quiet = %quiet, "quiet hours set");
                }
                Ok(shown(quiet.as_ref(), true))
            }
            Err(e) => Ok(Answer::QuietInvalid {
                reason: e.to_string(),
            }),
        }
    }

    /// `result <team | match id>`: the score of that match (a team's latest).
    async fn result(&self, typed: String) -> Result<Answer, StoreError> {
        let wanted = match resolve(&self.store, &typed).await? {
            Resolved::Scope(Scope::Match(id)) => Some(Scope::Match(id)),
            Resolved::Scope(Scope::Team(team)) => Some(Scope::Team(team)),
            _ => None,
        };
        let found = match wanted {
            Some(scope) => self
                .store
                .matches(500)
                .await?
                .into_iter()
                .find(|m| match &scope {
                    Scope::Match(id) => &m.id == id,
                    Scope::Team(team) => {
                        crate::teams::same(&m.home, team) || crate::teams::same(&m.away, team)
                    }
                    _ => false,
                }),
            None => None,
        };
        Ok(match found {
            Some(m) => Answer::Result {
                game: LiveMatch {
                    // The clock only means something while the match runs.
                    clock: m.clock.clone().filter(|_| m.is_live()),
                    home: m.home,
                    away: m.away,
                    home_score: m.home_score,
                    away_score: m.away_score,
                    phase: m.phase,
                },
            },
            None => Answer::NoResult { typed },
        })
    }
}

impl CommandHandler for Service {
    fn handle(&self, command: Incoming) -> Pin<Box<dyn Future<Output = Reply> + Send + '_>> {
        Box::pin(async move {
            Reply {
                text: self.run(command).await,
            }
        })
    }
}
