//! WhatsApp sink: notifications as WhatsApp messages through Twilio's Messages API, only to
//! numbers that opted in; free-form text inside WhatsApp's 24-hour customer-service window, the
//! approved Content template outside it. Who opted in and when each number last wrote are the
//! core's to keep (in the store, shared by every instance): the sink reads them through
//! [`Sessions`], attached once the core has built it.

mod config;
mod plugin;
mod render;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::ExposeSecret;
use sink_api::{BoxError, Limits, Notification, Rate, Receipt, Recipient, Sink, SinkError};

pub use config::{Field, WhatsAppConfig};
pub use plugin::WhatsAppPlugin;

use crate::client::{self, BuildError, OUTSIDE_WINDOW, TwilioError};
use crate::phone;

/// What Twilio puts before a number to mean its WhatsApp account (`whatsapp:+14155552671`).
pub const PREFIX: &str = "whatsapp:";

/// How long after a user's last message a business may write to them freely.
pub const WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// How much earlier than WhatsApp herald counts the window as closed: a free-form message sent
/// in the window's last minutes could reach WhatsApp after it closed (Twilio queues what
/// exceeds the sender's throughput), and would then fail with 63016 instead of arriving.
pub const WINDOW_MARGIN: Duration = Duration::from_secs(5 * 60);

/// WhatsApp's limit per user ("pair rate"): about one message every 6 seconds, with short
/// bursts tolerated; ten a minute lets a goal and its correction through at once.
const PER_RECIPIENT: (u32, Duration) = (10, Duration::from_secs(60));

/// `+14155552671` → `whatsapp:+14155552671`.
pub fn address(e164: &str) -> String {
    format!("{PREFIX}{e164}")
}

/// `whatsapp:+14155552671` → `+14155552671` (anything without the prefix as it is).
pub fn number(address: &str) -> &str {
    address.strip_prefix(PREFIX).unwrap_or(address)
}

/// What herald knows of one WhatsApp number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Session {
    /// Whether it asked for notifications (subscribed from WhatsApp, or sent START) and has
    /// not sent STOP since.
    pub opted_in: bool,
    /// When it last wrote to the sender (milliseconds since the Unix epoch), if ever.
    pub last_inbound_at_ms: Option<i64>,
}

impl Session {
    /// Whether a free-form message sent at `now_ms` is inside the customer-service window (less
    /// [`WINDOW_MARGIN`]).
    pub fn window_open(&self, now_ms: i64) -> bool {
        let open_for = ms(WINDOW.saturating_sub(WINDOW_MARGIN));
        self.last_inbound_at_ms
            .is_some_and(|last| now_ms.saturating_sub(last) < open_for)
    }
}

/// The future of [`Sessions::session`].
pub type SessionFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Session>, BoxError>> + Send + 'a>>;

/// Where a WhatsApp sink reads who opted in and when each number last wrote: the core's store,
/// so every herald instance sees the same window.
pub trait Sessions: Send + Sync + 'static {
    /// What is known of `phone` (E.164); `None` for a number that never wrote.
    fn session<'a>(&'a self, phone: &'a str) -> SessionFuture<'a>;
}

/// Why the WhatsApp sink did not send.
#[derive(Debug, thiserror::Error)]
pub enum WhatsAppError {
    /// The number never opted in, or sent STOP: [`SinkError::RecipientGone`], so that what it
    /// follows is paused (START resumes it) instead of each event becoming a dead letter.
    #[error("{0} has not opted in")]
    NotOptedIn(String),
    /// The core never attached its [`Sessions`]: nobody can be known to have opted in.
    #[error("no opt-in record is attached to the WhatsApp sink")]
    NoSessions,
    /// Sessions were attached twice.
    #[error("the WhatsApp sink already has its opt-in record")]
    AlreadyAttached,
    /// The opt-in record could not be read.
    #[error("cannot read the opt-in record")]
    Sessions(#[source] BoxError),
}

/// Delivers WhatsApp messages through one Twilio account and sender; see the module docs.
#[derive(Clone)]
pub struct WhatsAppSink {
    client: client::Client,
    config: Arc<WhatsAppConfig>,
    /// Who opted in and when they last wrote; attached by the core after building the sink.
    sessions: Arc<OnceLock<Arc<dyn Sessions>>>,
}

impl fmt::Debug for WhatsAppSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsAppSink")
            .field("config", &self.config)
            .field("sessions", &self.sessions.get().is_some())
            .finish_non_exhaustive()
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, ms)
}

impl WhatsAppSink {
    /// A sink for the account and sender `config` describes, with no [`Sessions`] yet.
    ///
    /// # Errors
    /// An HTTP client that cannot be built.
    pub fn new(config: WhatsAppConfig) -> Result<Self, BuildError> {
        Ok(Self {
            client: client::Client::new()?,
            config: Arc::new(config),
            sessions: Arc::new(OnceLock::new()),
        })
    }

    /// The sink's configuration.
    pub fn config(&self) -> &WhatsAppConfig {
        &self.config
    }

    /// Gives the sink (and its clones) the record of who opted in.
    ///
    /// # Errors
    /// When one is attached already.
    pub fn attach(&self, sessions: Arc<dyn Sessions>) -> Result<(), WhatsAppError> {
        self.sessions
            .set(sessions)
            .map_err(|_| WhatsAppError::AlreadyAttached)
    }

    /// A reply made ready to send (trimmed, cut to Twilio's 1,600 characters).
    pub fn prepare(&self, text: &str) -> String {
        sink_api::text::truncate(text.trim(), 1600)
    }

    /// Whether `signature` (`X-Twilio-Signature`) is Twilio's for a POST of `params` to `url`.
    pub fn verify(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        crate::signature::verify(
            self.config.auth_token.expose_secret(),
            url,
            params,
            signature,
        )
    }

    /// Creates a message to `to` (E.164) from the sender with `content` (a `Body`, or a
    /// template), reporting its status where configured.
    async fn create(&self, to: &str, content: &[(&str, &str)]) -> Result<Receipt, SinkError> {
        let (to, from) = (address(to), address(self.config.sender()));
        let mut form: Vec<(&str, &str)> = vec![("To", &to), ("From", &from)];
        form.extend_from_slice(content);
        if let Some(cb) = &self.config.status_callback {
            form.push(("StatusCallback", cb));
        }
        self.client
            .create_message(self.config.account(), &form)
            .await
    }

    /// Sends the approved template with `msg`'s variables. Outside the window is what a template
    /// is for, so a 63016 here is a template WhatsApp will not take: permanent.
    async fn send_template(&self, to: &str, msg: &Notification) -> Result<Receipt, SinkError> {
        let variables = render::content_variables(&self.config.content_variables, msg);
        let mut content = vec![("ContentSid", self.config.content_sid.trim())];
        if let Some(variables) = &variables {
            content.push(("ContentVariables", variables));
        }
        match self.create(to, &content).await {
            Err(SinkError::Transient(e))
                if e.downcast_ref::<TwilioError>()
                    .is_some_and(|e| e.code == OUTSIDE_WINDOW) =>
            {
                Err(SinkError::Permanent(e))
            }
            other => other,
        }
    }
}

impl Sink for WhatsAppSink {
    const KIND: &'static str = "whatsapp";

    /// Refuses numbers that have not opted in without calling Twilio, as gone (what they follow
    /// is paused until they opt in); sends free-form text inside the window and the template
    /// outside it.
    async fn send(&self, to: &Recipient, msg: &Notification) -> Result<Receipt, SinkError> {
        let phone = to.as_str();
        let sessions = self
            .sessions
            .get()
            .ok_or_else(|| SinkError::permanent(WhatsAppError::NoSessions))?;
        let session = sessions
            .session(phone)
            .await
            .map_err(|e| SinkError::transient(WhatsAppError::Sessions(e)))?;
        let Some(session) = session.filter(|s| s.opted_in) else {
            return Err(SinkError::gone(WhatsAppError::NotOptedIn(phone::mask(
                phone,
            ))));
        };
        if session.window_open(now_ms()) {
            self.create(phone, &[("Body", &render::text(msg))]).await
        } else {
            self.send_template(phone, msg).await
        }
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        self.client.fetch_account(self.config.account()).await
    }

    /// One message every `1 / messages_per_second` over all recipients, and WhatsApp's pair
    /// rate per recipient.
    fn limits(&self) -> Limits {
        let period = Duration::from_secs_f64(1.0 / self.config.messages_per_second);
        let (count, per) = PER_RECIPIENT;
        Limits {
            global: vec![Rate::new(1, period)],
            per_recipient: vec![Rate::new(count, per)],
            daily_per_recipient: None,
        }
    }

    /// WhatsApp bills per message: a backlog goes out merged.
    fn merges(&self) -> bool {
        true
    }

    /// Within WhatsApp's body limit before any cut.
    fn fits(&self, msg: &Notification) -> bool {
        render::fits(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_carry_the_prefix_on_the_wire_only() {
        assert_eq!(address("+14155552671"), "whatsapp:+14155552671");
        assert_eq!(number("whatsapp:+14155552671"), "+14155552671");
        assert_eq!(number("+14155552671"), "+14155552671");
    }

    #[test]
    fn the_window_closes_a_margin_before_24_hours() {
        let now = 1_700_000_000_000;
        let at = |ago: Duration| Session {
            opted_in: true,
            last_inbound_at_ms: Some(now - ms(ago)),
        };
        assert!(at(Duration::ZERO).window_open(now));
        assert!(at(Duration::from_secs(23 * 3600)).window_open(now));
        assert!(!at(WINDOW - WINDOW_MARGIN).window_open(now));
        assert!(!at(WINDOW).window_open(now));
        assert!(!at(Duration::from_secs(25 * 3600)).window_open(now));
        assert!(!Session::default().window_open(now), "never wrote");
    }
}
