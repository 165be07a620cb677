//! Configuration of the Socket.IO sink.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// Well under what one process serves (see the README's benchmark), and a ceiling on file
/// descriptors and memory.
pub(crate) const DEFAULT_MAX_CLIENTS: usize = 10_000;
/// Texts one socket may send per [`DEFAULT_TEXT_WINDOW`].
pub(crate) const DEFAULT_TEXT_LIMIT: u32 = 5;
/// The window of the text limit.
pub(crate) const DEFAULT_TEXT_WINDOW: Duration = Duration::from_secs(10);

/// `[sinks.<id>]` with `type = "socketio"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Connections beyond this number are refused (`connect_error` saying so).
    pub max_clients: usize,
    /// When set, sending `text` needs this token, given in the handshake's `auth.token` (or
    /// `?token=`); without it clients may join rooms and read, not talk.
    #[serde(deserialize_with = "sink_api::secret::optional")]
    pub token: Option<SecretString>,
    /// Texts one socket may send per `text_window`; more are refused with a `status` warning.
    pub text_limit: u32,
    /// The window of `text_limit`.
    #[serde(with = "humantime_serde")]
    pub text_window: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_clients: DEFAULT_MAX_CLIENTS,
            token: None,
            text_limit: DEFAULT_TEXT_LIMIT,
            text_window: DEFAULT_TEXT_WINDOW,
        }
    }
}

impl Config {
    /// Checks the values; pure, no I/O.
    ///
    /// # Errors
    /// The key whose value is out of range, and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.max_clients == 0 {
            return Err(("max_clients", "must be at least 1".into()));
        }
        if self.text_limit == 0 {
            return Err(("text_limit", "must be at least 1".into()));
        }
        if self.text_window < Duration::from_secs(1) {
            return Err(("text_window", "must be at least 1s".into()));
        }
        if let Some(token) = &self.token
            && secrecy::ExposeSecret::expose_secret(token).trim().len() < 8
        {
            return Err(("token", "must be at least 8 characters".into()));
        }
        Ok(())
    }
}
