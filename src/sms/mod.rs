//! SMS subscribers: signup with double opt-in (a code texted to the number, confirmed by
//! replying with it or YES, or by typing it on the page), the inbound keywords (STOP, START,
//! HELP), and the defences against SMS pumping (country allowlist, optional Lookup, rate
//! limits per IP, per number and per number prefix). The Twilio sink delivers; this module
//! decides who receives.

mod extension;
pub(crate) mod http;
mod replies;

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use sink_api::SinkError;
use sink_twilio::keywords::{self, Keyword};
use sink_twilio::phone::{self, Phone, PhoneError};
use sink_twilio::{SignupConfig, TwilioSink};
use subtle::ConstantTimeEq;

pub use extension::{Extension, Slot};
pub use http::router;

use crate::dispatch::error_chain;
use crate::preferences::{Quiet, QuietError};
use crate::render::{Renderer, SmsText};
use crate::routing::Scope;
use crate::store::{PendingSignup, Store, StoreError, now_ms};

/// What a signup asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The number as typed.
    pub phone: String,
    /// Teams to follow (none and no competitions: everything).
    pub teams: Vec<String>,
    /// Competitions to follow.
    pub competitions: Vec<String>,
    /// Kinds or groups (`goals`, `cards`); empty for all.
    pub kinds: Vec<String>,
    /// Locale of the texts; the default locale when unset.
    pub locale: Option<String>,
    /// Quiet hours (`23:00-07:00 Europe/Lisbon`, optionally `drop cards`).
    pub quiet: Option<String>,
}

/// Who asked, for the per-origin rate limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A web client, by IP address.
    Ip(std::net::IpAddr),
    /// A chat that used a bot command (`slack:C123`).
    Chat(String),
}

/// A signup waiting for its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The number, E.164.
    pub phone: String,
    /// How long the code is valid.
    pub expires_in: Duration,
}

/// A confirmed subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    /// The number, E.164.
    pub phone: String,
    /// What it follows, in words.
    pub following: String,
}

/// Why a signup or a confirmation was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    /// The number does not parse or cannot exist.
    #[error(transparent)]
    Phone(#[from] PhoneError),
    /// The number's country is not on the allowlist.
    #[error("numbers from {0} are not accepted here")]
    Country(String),
    /// Lookup says the number is not real.
    #[error("this number cannot receive SMS")]
    NotReal,
    /// Texting the number costs extra (premium rate, satellite, …).
    #[error("{0} cannot subscribe")]
    Costly(&'static str),
    /// A team or competition herald does not know.
    #[error("unknown team or competition `{typed}`{}", suggest(.suggestions))]
    UnknownTarget {
        /// What was typed.
        typed: String,
        /// Close names herald knows.
        suggestions: Vec<String>,
    },
    /// A kind or group that does not exist.
    #[error("unknown kind `{0}` (use goals, cards, penalties, periods, or a kind such as goal)")]
    UnknownKind(String),
    /// A locale without templates.
    #[error("unknown locale `{typed}` (available: {})", .available.join(", "))]
    UnknownLocale {
        /// What was asked.
        typed: String,
        /// What exists.
        available: Vec<String>,
    },
    /// Quiet hours that do not parse.
    #[error("quiet hours: {0}")]
    Quiet(#[from] QuietError),
    /// Too many signups from this origin, number or prefix.
    #[error("too many signups {0}; try again later")]
    TooMany(&'static str),
    /// No signup is waiting for this number.
    #[error("no signup is waiting for this number; sign up first")]
    NothingPending,
    /// The code expired.
    #[error("the code expired; sign up again for a new one")]
    Expired,
    /// The code is wrong.
    #[error("the code is not right")]
    WrongCode,
    /// Too many wrong codes: the signup was dropped.
    #[error("too many wrong codes; sign up again for a new one")]
    TooManyAttempts,
    /// Twilio will not deliver to the number (it replied STOP, or it is not a mobile).
    #[error("this number cannot receive our texts (if it replied STOP, text START first)")]
    Unreachable,
    /// Twilio could not be reached or refused the request.
    #[error("the confirmation text could not be sent; try again later")]
    Send(#[source] SinkError),
    /// The store failed.
    #[error("signup is unavailable right now; try again later")]
    Store(#[from] StoreError),
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", suggestions.join(", "))
    }
}

/// The SMS signup of the Twilio sink `sink_id`.
#[derive(Debug)]
pub struct Signup {
    store: Store,
    sink_id: String,
    twilio: TwilioSink,
    config: SignupConfig,
    /// The texts' templates, the locales and the default one.
    renderer: Arc<Renderer>,
    client_ip: crate::http::client_ip::ClientIp,
    /// The zone of quiet hours given without one (`render.time_zone`).
    time_zone: String,
}

/// An hour, the period of the per-address and per-prefix limits.
const HOUR: Duration = Duration::from_secs(3600);

impl Signup {
    /// The signup of the sink `sink_id`, delivering through `twilio`, texting from
    /// `renderer`'s SMS templates, finding clients' addresses with `client_ip`.
    pub fn new(
        store: Store,
        sink_id: &str,
        twilio: TwilioSink,
        renderer: Arc<Renderer>,
        client_ip: crate::http::client_ip::ClientIp,
    ) -> Self {
        let config = twilio.config().signup.clone();
        Self {
            client_ip,
            store,
            sink_id: sink_id.to_owned(),
            twilio,
            config,
            renderer,
            time_zone: "UTC".to_owned(),
        }
    }

    /// Reads quiet hours given without a zone in `zone` (`render.time_zone`).
    #[must_use]
    pub fn with_time_zone(mut self, zone: &str) -> Self {
        zone.clone_into(&mut self.time_zone);
        self
    }

    /// Quiet hours as typed; none when absent, blank or `off`.
    fn quiet(&self, typed: Option<&str>) -> Result<Option<Quiet>, QuietError> {
        typed.map_or(Ok(None), |t| Quiet::setting(t, &self.time_zone))
    }

    /// How the client's address is found.
    pub(crate) fn client_ip(&self) -> &crate::http::client_ip::ClientIp {
        &self.client_ip
    }

    /// Whether numbers typed without a `+` are read as national numbers of
    /// `signup.default_country`.
    pub fn takes_national_numbers(&self) -> bool {
        self.config.default_country.is_some()
    }

    /// The sink instance id.
    pub fn sink_id(&self) -> &str {
        &self.sink_id
    }

    /// The Twilio client (for webhook signatures).
    pub(crate) fn twilio(&self) -> &TwilioSink {
        &self.twilio
    }

    fn phone(&self, typed: &str) -> Result<Phone, SignupError> {
        let phone = phone::normalize(typed, self.config.default_country.as_deref())?;
        if !self.config.countries.is_empty() {
            let allowed = phone.country.as_ref().is_some_and(|c| {
                self.config
                    .countries
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(c))
            });
            if !allowed {
                return Err(SignupError::Country(
                    phone.country.unwrap_or_else(|| "that country".into()),
                ));
            }
        }
        if let Some(why) = phone.costly
            && !self.config.allow_costly_numbers
        {
            return Err(SignupError::Costly(why));
        }
        Ok(phone)
    }

    fn locale(&self, wanted: Option<&str>) -> Result<String, SignupError> {
        let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
            return Ok(self.renderer.default_locale().to_owned());
        };
        self.renderer
            .resolve_locale(wanted)
            .map(str::to_owned)
            .ok_or_else(|| SignupError::UnknownLocale {
                typed: wanted.to_owned(),
                available: self.renderer.locales().map(str::to_owned).collect(),
            })
    }

    /// What the request follows, resolved against the names herald knows.
    async fn scopes(&self, request: &Request) -> Result<Vec<Scope>, SignupError> {
        let mut scopes = Vec::new();
        let typed = request
            .teams
            .iter()
            .chain(&request.competitions)
            .map(|t| t.trim())
            .filter(|t| !t.is_empty());
        for t in typed {
            match crate::targets::resolve(&self.store, t).await? {
                crate::targets::Resolved::Scope(scope) => {
                    if !scopes.contains(&scope) {
                        scopes.push(scope);
                    }
                }
                crate::targets::Resolved::Phone => {
                    return Err(SignupError::UnknownTarget {
                        typed: t.to_owned(),
                        suggestions: Vec::new(),
                    });
                }
                crate::targets::Resolved::Unknown(suggestions) => {
                    return Err(SignupError::UnknownTarget {
                        typed: t.to_owned(),
                        suggestions,
                    });
                }
            }
        }
        Ok(scopes)
    }

    fn kinds(request: &Request) -> Result<Vec<String>, SignupError> {
        request
            .kinds
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .map(|k| {
                crate::targets::kind_word(k).ok_or_else(|| SignupError::UnknownKind(k.to_owned()))
            })
            .collect()
    }

    /// Takes one unit of the origin's rate limit (before anything costly is looked at).
    async fn admit_origin(&self, origin: &Origin) -> Result<(), SignupError> {
        let origin = match origin {
            Origin::Ip(ip) => format!("ip:{ip}"),
            Origin::Chat(chat) => format!("chat:{chat}"),
        };
        self.admit(
            &origin,
            self.config.per_ip_per_hour,
            HOUR,
            "from this address",
        )
        .await
    }

    /// Takes one unit of the number's and the number prefix's rate limits.
    async fn admit_number(&self, phone: &Phone) -> Result<(), SignupError> {
        let number = format!("number:{}", phone.e164);
        self.admit(
            &number,
            self.config.per_number_per_day,
            HOUR * 24,
            "for this number",
        )
        .await?;
        let prefix = format!("prefix:{}", phone.prefix());
        self.admit(
            &prefix,
            self.config.per_prefix_per_hour,
            HOUR,
            "for numbers like this one",
        )
        .await
    }

    /// One unit of a limit kept in the store: it holds across restarts and instances.
    async fn admit(
        &self,
        key: &str,
        count: u32,
        period: Duration,
        refusal: &'static str,
    ) -> Result<(), SignupError> {
        let key = format!("sms:{}:{key}", self.sink_id);
        if self.store.rate_limit(&key, count, period).await? {
            Ok(())
        } else {
            Err(SignupError::TooMany(refusal))
        }
    }

    /// Starts a signup: validates everything, texts a code, and records the signup as pending.
    /// Nothing is stored when anything is wrong.
    ///
    /// # Errors
    /// Why the signup was refused.
    pub async fn start(&self, request: Request, origin: Origin) -> Result<Started, SignupError> {
        // Cheap checks of bounded input, then the rate limits, then what costs: matching team
        // names against the store, Lookup, the text.
        let phone = self.phone(&request.phone)?;
        let locale = self.locale(request.locale.as_deref())?;
        let kinds = Self::kinds(&request)?;
        let quiet = self.quiet(request.quiet.as_deref())?;
        self.admit_origin(&origin).await?;
        self.admit_number(&phone).await?;
        let scopes = self.scopes(&request).await?;
        let swept = self.store.sweep_signups(now_ms()).await?;
        let forgotten = self.store.sweep_rate_limits().await?;
        if swept + forgotten > 0 {
            tracing::debug!(
                swept,
                forgotten,
                "forgot expired SMS signups and rate limits"
            );
        }
        if self.config.lookup {
            match self.twilio.lookup(&phone.e164).await {
                Ok(true) => {}
                Ok(false) => return Err(SignupError::NotReal),
                Err(e) => return Err(SignupError::Send(e)),
            }
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
        let following = self.following(&scopes, &kinds, &locale);
        let pending = PendingSignup {
            sink: self.sink_id.clone(),
            phone: phone.e164.clone(),
            code: code.clone(),
            scopes,
            kinds: kinds.clone(),
            locale: locale.clone(),
            quiet,
            attempts: 0,
            expires_at_ms: now_ms()
                + i64::try_from(self.config.code_ttl.as_millis()).unwrap_or(i64::MAX),
        };
        self.store.put_signup(&pending).await?;
        let text = self.say(&SmsText::Code { code, following }, &locale);
        if let Err(error) = self.twilio.text(&phone.e164, &text).await {
            tracing::warn!(phone = %phone.masked(), error = %error_chain(&error), "cannot text a signup code");
            self.store.drop_signup(&self.sink_id, &phone.e164).await?;
            return Err(match error {
                SinkError::RecipientGone(_) => SignupError::Unreachable,
                other => SignupError::Send(other),
            });
        }
        tracing::info!(phone = %phone.masked(), "SMS signup started; code texted");
        Ok(Started {
            phone: phone.e164,
            expires_in: self.config.code_ttl,
        })
    }

    /// The pending signup of `phone`, checked for expiry and attempts.
    async fn pending(&self, phone: &str) -> Result<PendingSignup, SignupError> {
        let Some(pending) = self.store.signup(&self.sink_id, phone).await? else {
            return Err(SignupError::NothingPending);
        };
        if pending.expires_at_ms < now_ms() {
            self.store.drop_signup(&self.sink_id, phone).await?;
            return Err(SignupError::Expired);
        }
        if pending.attempts >= self.config.max_code_attempts {
            self.store.drop_signup(&self.sink_id, phone).await?;
            return Err(SignupError::TooManyAttempts);
        }
        Ok(pending)
    }

    async fn activate(&self, pending: PendingSignup) -> Result<Confirmed, SignupError> {
        self.store.confirm_signup(&pending).await?;
        tracing::info!(phone = %phone::mask(&pending.phone), "SMS subscriber confirmed");
        Ok(Confirmed {
            following: self.following(&pending.scopes, &pending.kinds, &pending.locale),
            phone: pending.phone,
        })
    }

    /// Confirms `phone` with the code it was texted, and texts the welcome.
    ///
    /// # Errors
    /// A wrong or expired code, or nothing pending.
    pub async fn confirm(&self, typed_phone: &str, code: &str) -> Result<Confirmed, SignupError> {
        let phone = self.phone(typed_phone)?;
        let (confirmed, locale) = self.confirm_code(&phone.e164, code).await?;
        let welcome = self.say(
            &SmsText::Welcome {
                following: confirmed.following.clone(),
            },
            &locale,
        );
        if let Err(error) = self.twilio.text(&confirmed.phone, &welcome).await {
            // The subscription is active; only the courtesy text was lost.
            tracing::warn!(phone = %phone.masked(), error = %error_chain(&error), "cannot text the welcome");
        }
        Ok(confirmed)
    }

    async fn confirm_code(
        &self,
        phone: &str,
        code: &str,
    ) -> Result<(Confirmed, String), SignupError> {
        // The attempt is counted before the code is compared, atomically: parallel guesses
        // cannot compare more codes than `max_code_attempts`.
        let attempt = || {
            self.store
                .take_signup_attempt(&self.sink_id, phone, self.config.max_code_attempts)
        };
        if !attempt().await? {
            // Expired, out of attempts or never started: `pending` says which. If it finds
            // none of these, a new signup of the number replaced the row meanwhile: try again.
            self.pending(phone).await?;
            if !attempt().await? {
                return Err(SignupError::TooManyAttempts);
            }
        }
        let Some(pending) = self.store.signup(&self.sink_id, phone).await? else {
            return Err(SignupError::NothingPending);
        };
        let given = code.trim();
        if !bool::from(given.as_bytes().ct_eq(pending.code.as_bytes())) {
            return Err(SignupError::WrongCode);
        }
        let locale = pending.locale.clone();
        Ok((self.activate(pending).await?, locale))
    }

    /// Records a delivery report of a failed text: a number that cannot receive texts is
    /// paused; a failure that may pass (an unreachable handset, 30003) changes nothing.
    ///
    /// # Errors
    /// Store failures (Twilio then retries the report).
    pub async fn delivery_failed(&self, to: &str, code: &str) -> Result<(), StoreError> {
        if !sink_twilio::webhook::undeliverable(code) {
            tracing::info!(phone = %phone::mask(to), code, "a text was not delivered");
            return Ok(());
        }
        let paused = self.store.pause_recipient(&self.sink_id, to).await?;
        tracing::warn!(phone = %phone::mask(to), code, paused, "number cannot receive texts; subscriber paused");
        Ok(())
    }

    /// Handles a text a subscriber sent; returns the reply, if any.
    ///
    /// # Errors
    /// Store failures (Twilio then retries the webhook).
    pub async fn inbound(&self, from: &str, body: &str) -> Result<Option<String>, StoreError> {
        let Ok(phone) = phone::normalize(from, None) else {
            return Ok(None);
        };
        let number = phone.e164.as_str();
        // A keyword is the whole text (`stop sending goals` is none); a code may be followed
        // by more.
        let keyword = keywords::keyword(body);
        let word = keywords::first_word(body);
        let pending = self.store.signup(&self.sink_id, number).await?;
        let locale = match &pending {
            Some(p) => p.locale.clone(),
            None => self
                .store
                .subscriber_locale(&self.sink_id, number)
                .await?
                .unwrap_or_else(|| self.renderer.default_locale().to_owned()),
        };
        let reply = |t: SmsText| {
            let text = self.say(&t, &locale);
            Ok((!text.is_empty()).then_some(text))
        };
        if keyword == Some(Keyword::Stop) {
            let paused = self.store.pause_recipient(&self.sink_id, number).await?;
            self.store.drop_signup(&self.sink_id, number).await?;
            tracing::info!(phone = %phone.masked(), paused, "SMS subscriber opted out");
            // Twilio answers STOP itself and blocks further texts until START.
            return Ok(None);
        }
        if keyword == Some(Keyword::Help) {
            return reply(SmsText::Help);
        }
        if keywords::QUIET.contains(&word.as_str()) {
            return reply(self.quiet_keyword(&phone, body).await?);
        }
        let is_code = (4..=8).contains(&word.len()) && word.chars().all(|c| c.is_ascii_digit());
        if keyword == Some(Keyword::Start) || is_code {
            if pending.is_some() {
                let outcome = if is_code {
                    self.confirm_code(number, &word).await.map(|(c, _)| c)
                } else {
                    match self.pending(number).await {
                        Ok(p) => self.activate(p).await,
                        Err(e) => Err(e),
                    }
                };
                return match outcome {
                    Ok(confirmed) => reply(SmsText::Welcome {
                        following: confirmed.following,
                    }),
                    Err(SignupError::WrongCode) => reply(SmsText::WrongCode),
                    Err(SignupError::Store(e)) => Err(e),
                    Err(_) => reply(SmsText::NothingPending),
                };
            }
            let resumed = self.store.resume_recipient(&self.sink_id, number).await?;
            if resumed > 0 {
                tracing::info!(phone = %phone.masked(), resumed, "SMS subscriber opted back in");
                return reply(SmsText::Resumed);
            }
            return reply(SmsText::NothingPending);
        }
        reply(SmsText::Help)
    }

    /// `QUIET 23:00-07:00 [zone] [drop cards]` or `QUIET OFF` from a subscriber; `QUIET`
    /// alone shows them.
    async fn quiet_keyword(&self, phone: &Phone, body: &str) -> Result<SmsText, StoreError> {
        let number = phone.e164.as_str();
        let typed = body
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ");
        let quiet = if typed.is_empty() {
            self.store.prefs(&self.sink_id, number).await?.quiet
        } else {
            match self.quiet(Some(&typed)) {
                Ok(quiet) => {
                    self.store
                        .set_quiet(&self.sink_id, number, quiet.as_ref())
                        .await?;
                    tracing::info!(phone = %phone.masked(), set = quiet.is_some(), "SMS quiet hours changed");
                    quiet
                }
                Err(_) => return Ok(SmsText::QuietInvalid),
            }
        };
        Ok(SmsText::Quiet {
            window: quiet.as_ref().map(Quiet::window),
            zone: quiet
                .as_ref()
                .map_or_else(|| self.time_zone.clone(), |q| q.zone().to_owned()),
            drop: quiet.map(|q| q.dropped().to_vec()).unwrap_or_default(),
        })
    }
}
