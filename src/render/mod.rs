//! Turns events and replies into localized text with minijinja templates, shipped in the binary
//! and overridable or extended from a directory (`render.templates_dir`). Per locale:
//!
//! - `<locale>/<kind>.j2`: a notification; the first line of the output is the title, the rest
//!   the body;
//! - `<locale>/replies/<name>.j2`: what the bot answers a chat command ([`Reply`]);
//! - `<locale>/sms/<name>.j2`: what herald texts an SMS subscriber ([`SmsText`]), in GSM-7
//!   characters only so that a text stays one cheap segment;
//! - `<locale>/replies/words.j2` and `<locale>/sms/words.j2`: the macros those import
//!   (`{% import "words" as w %}`: how a followed target and a list of kinds read), and in
//!   `replies/words.j2` the `names` that choose the locale with `lang` (`português`).
//!
//! A locale must have every notification template. A reply or SMS template it lacks (a locale
//! added through `templates_dir` may bring only some, or none) is taken from `en`, file by
//! file, imports included. Which locale a request means is decided by one rule,
//! [`Renderer::resolve_locale`]. Output is plain text; each sink escapes it for its platform.

mod locale;
mod merged;
mod texts;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use include_dir::{Dir, include_dir};
use minijinja::value::Serde;
use minijinja::{Environment, Value};
use serde::Serialize;

pub use merged::{Digest, TICKER_LINES, TickerView};
pub use texts::{Followed, LiveMatch, Reply, SmsText, Target, Text};

use crate::model::{Clock, Event, EventKind, Phase, Score, Side};

/// The locales shipped in the binary, each complete.
pub const LOCALES: [&str; 4] = ["en", "es", "fr", "pt-BR"];

/// The template of spoiler-free texts of the kinds that reveal the score, in a locale.
const SPOILER_FREE: &str = "spoiler_free";

/// Where a reply or SMS template a locale lacks is taken from.
pub const FALLBACK_LOCALE: &str = "en";

static BUILT_IN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/src/render/templates");

/// Localized text of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The first line.
    pub title: String,
    /// The remaining lines.
    pub body: String,
}

/// Why templates could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template in the override directory could not be read.
    #[error("cannot read template {path}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A template does not parse or fails to render.
    #[error("template {name}: {message}")]
    Template {
        /// `<locale>/<kind>`, `<locale>/replies/<name>`, …
        name: String,
        /// minijinja's message.
        message: String,
    },
    /// A locale has no template for a kind (an override directory adding an incomplete locale).
    #[error("locale `{locale}` has no template for `{kind}`")]
    Missing {
        /// The locale.
        locale: String,
        /// The kind.
        kind: EventKind,
    },
    /// Neither the locale nor `en` has a reply or SMS template.
    #[error("no template `{path}` in locale `{locale}` nor in `en`")]
    MissingText {
        /// The locale.
        locale: String,
        /// `replies/<name>` or `sms/<name>`.
        path: String,
    },
    /// `render.default_locale` names no locale that has templates.
    #[error("no templates for the default locale `{0}`")]
    UnknownDefault(String),
}

/// Renders events and replies; built once at startup, shared by every sink worker, chat
/// service and the SMS signup.
#[derive(Debug)]
pub struct Renderer {
    env: Environment<'static>,
    /// Every loaded template name (`pt-BR/goal`, `en/replies/help`).
    templates: Arc<BTreeSet<String>>,
    locales: BTreeSet<String>,
    /// Lowercased words that choose a locale (`português` → `pt-BR`).
    names: BTreeMap<String, String>,
    default_locale: String,
}

impl Renderer {
    /// Loads the built-in templates, then `dir` over them, and renders every template once with
    /// sample values so that a broken override fails at startup rather than at the first goal.
    ///
    /// # Errors
    /// An unreadable or invalid template, a locale missing a kind, or a default locale without
    /// templates.
    pub fn new(dir: Option<&Path>, default_locale: &str) -> Result<Self, RenderError> {
        let mut sources = BTreeMap::new();
        built_in(&BUILT_IN, &mut sources);
        if let Some(dir) = dir {
            read_overrides(dir, dir, &mut sources)?;
        }
        // Blank lines left by block tags are dropped when the output is split into title and
        // body (and replies are trimmed), so templates keep the default whitespace rules.
        let mut env = Environment::new();
        let mut locales = BTreeSet::new();
        for (name, source) in sources {
            if let Some((locale, _)) = name.split_once('/') {
                locales.insert(locale.to_owned());
            }
            env.add_template_owned(name.clone(), source)
                .map_err(|e| RenderError::Template {
                    name,
                    message: e.to_string(),
                })?;
        }
        let templates: Arc<BTreeSet<String>> =
            Arc::new(env.templates().map(|(n, _)| n.to_owned()).collect());
        let known = Arc::clone(&templates);
        env.set_path_join_callback(move |name, parent| join(&known, name, parent).into());
        env.add_global(
            "locales",
            Value::from(locales.iter().cloned().collect::<Vec<_>>()),
        );
        let mut renderer = Self {
            env,
            templates,
            locales,
            names: BTreeMap::new(),
            default_locale: String::new(),
        };
        renderer.names = renderer.locale_names()?;
        renderer.default_locale = renderer
            .resolve_locale(default_locale)
            .ok_or_else(|| RenderError::UnknownDefault(default_locale.to_owned()))?
            .to_owned();
        renderer.check()?;
        Ok(renderer)
    }

    /// Every locale that has templates.
    pub fn locales(&self) -> impl Iterator<Item = &str> {
        self.locales.iter().map(String::as_str)
    }

    /// Whether `locale` has templates, exactly as spelled.
    pub fn has_locale(&self, locale: &str) -> bool {
        self.locales.contains(locale)
    }

    /// The locale of whoever did not choose one.
    pub fn default_locale(&self) -> &str {
        &self.default_locale
    }

    /// The loaded locale `wanted` means, if any, by the one rule every part of herald uses:
    /// the same tag in any case, `_` for `-` (`pt_br` → `pt-BR`); else a name the locale
    /// gives itself in `replies/words.j2` (`Português`, `english`); else the first loaded
    /// locale of the same language, compared on the subtag before `-` (`pt` or `pt-PT` →
    /// `pt-BR`, `es-MX` → `es`; a bare `pt` wins over `pt-BR` when both are loaded).
    pub fn resolve_locale(&self, wanted: &str) -> Option<&str> {
        locale::resolve(wanted, &self.locales, &self.names)
    }

    /// [`Self::resolve_locale`], else the default locale.
    pub fn locale_or_default(&self, wanted: &str) -> &str {
        self.resolve_locale(wanted).unwrap_or(&self.default_locale)
    }

    /// Renders `event` in `locale` (resolved with [`Self::locale_or_default`]).
    ///
    /// # Errors
    /// When the template fails at render time.
    pub fn render(&self, event: &Event, locale: &str) -> Result<Rendered, RenderError> {
        self.render_for(event, locale, true)
    }

    /// Renders `event` in `locale`; with `spoilers` false, without what gives the result away:
    /// the kinds that reveal it ([`EventKind::reveals_score`]) from `<locale>/spoiler_free.j2`,
    /// the others from their own template without the score.
    ///
    /// # Errors
    /// When the template fails at render time.
    pub fn render_for(
        &self,
        event: &Event,
        locale: &str,
        spoilers: bool,
    ) -> Result<Rendered, RenderError> {
        let locale = self.locale_or_default(locale);
        let hidden;
        let (event, name) = if spoilers || event.kind == EventKind::Announcement {
            (event, format!("{locale}/{}", event.kind.as_str()))
        } else {
            hidden = event.without_spoilers();
            let name = if event.kind.reveals_score() {
                pick(&self.templates, locale, SPOILER_FREE)
                    .unwrap_or_else(|| format!("{locale}/{SPOILER_FREE}"))
            } else {
                format!("{locale}/{}", event.kind.as_str())
            };
            (&hidden, name)
        };
        let template = self
            .env
            .get_template(&name)
            .map_err(|_| RenderError::Missing {
                locale: locale.to_owned(),
                kind: event.kind,
            })?;
        let text = template
            .render(Value::from(Serde(Context::new(event))))
            .map_err(|e| RenderError::Template {
                name: name.clone(),
                message: e.to_string(),
            })?;
        Ok(split(&text))
    }

    /// Renders `<locale>/<path>.j2` (the locale's own, else `en`'s) with `context`.
    fn render_file(
        &self,
        path: &str,
        locale: &str,
        context: impl Serialize,
    ) -> Result<Rendered, RenderError> {
        let locale = self.locale_or_default(locale);
        let name = pick(&self.templates, locale, path).ok_or_else(|| RenderError::MissingText {
            locale: locale.to_owned(),
            path: path.to_owned(),
        })?;
        let text = self
            .env
            .get_template(&name)
            .and_then(|t| t.render(Value::from(Serde(context))))
            .map_err(|e| RenderError::Template {
                name,
                message: e.to_string(),
            })?;
        Ok(split(&text))
    }

    /// The words each locale's `replies/words.j2` gives as its names (its own file only: a
    /// locale without one is chosen by its tag).
    fn locale_names(&self) -> Result<BTreeMap<String, String>, RenderError> {
        let mut names = BTreeMap::new();
        for locale in &self.locales {
            let name = format!("{locale}/replies/words");
            let Ok(template) = self.env.get_template(&name) else {
                continue;
            };
            let captured = template
                .render_captured(())
                .map_err(|e| RenderError::Template {
                    name: name.clone(),
                    message: e.to_string(),
                })?;
            let Some(list) = captured.state().lookup("names") else {
                continue;
            };
            let Ok(items) = list.try_iter() else {
                continue;
            };
            for item in items {
                if let Some(word) = item.as_str() {
                    names
                        .entry(word.trim().to_lowercase())
                        .or_insert_with(|| locale.clone());
                }
            }
        }
        Ok(names)
    }

    fn check(&self) -> Result<(), RenderError> {
        for locale in &self.locales {
            for kind in EventKind::ALL {
                let name = format!("{locale}/{}", kind.as_str());
                if !self.templates.contains(&name) {
                    return Err(RenderError::Missing {
                        locale: locale.clone(),
                        kind,
                    });
                }
                self.render(&sample(kind), locale)?;
            }
            for kind in EventKind::ALL {
                self.render_for(&sample(kind), locale, false)?;
            }
            merged::check(self, locale)?;
            for reply in Reply::samples() {
                self.text(&reply, locale)?;
            }
            for text in SmsText::samples() {
                self.text(&text, locale)?;
            }
        }
        Ok(())
    }
}

/// The template for `path` (`replies/help`) in `locale`: the locale's own, else `en`'s.
fn pick(templates: &BTreeSet<String>, locale: &str, path: &str) -> Option<String> {
    [locale, FALLBACK_LOCALE]
        .into_iter()
        .map(|l| format!("{l}/{path}"))
        .find(|name| templates.contains(name))
}

/// The template an `{% import %}` or `{% include %}` of `name` in `parent` means: a full name
/// as is; else `name` beside `parent`, in `parent`'s locale or else `en` (so `"words"` in
/// `de/replies/help` is `de/replies/words`, or `en/replies/words` when `de` has none).
fn join(templates: &BTreeSet<String>, name: &str, parent: &str) -> String {
    if templates.contains(name) {
        return name.to_owned();
    }
    let dir = parent.rsplit_once('/').map_or("", |(dir, _)| dir);
    let joined = if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    };
    match joined.split_once('/') {
        Some((locale, path)) => pick(templates, locale, path).unwrap_or(joined),
        None => joined,
    }
}

/// `<locale>/…/<name>` for a `.j2` file at `path` (relative to the templates' root); `None`
/// for other files and files outside a locale directory.
fn template_name(path: &Path) -> Option<String> {
    if path.extension().and_then(|e| e.to_str()) != Some("j2") {
        return None;
    }
    let parts = path
        .with_extension("")
        .components()
        .map(|c| match c {
            std::path::Component::Normal(part) => part.to_str().map(str::to_owned),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    (parts.len() >= 2).then(|| parts.join("/"))
}

/// Every built-in template, by name.
fn built_in(dir: &'static Dir<'static>, out: &mut BTreeMap<String, String>) {
    for file in dir.files() {
        if let Some(name) = template_name(file.path()) {
            out.insert(name, file.contents_utf8().unwrap_or_default().to_owned());
        }
    }
    for sub in dir.dirs() {
        built_in(sub, out);
    }
}

/// `<root>/<locale>/…/<name>.j2` files, over what `out` holds.
fn read_overrides(
    root: &Path,
    dir: &Path,
    out: &mut BTreeMap<String, String>,
) -> Result<(), RenderError> {
    let read_err = |path: &Path, source| RenderError::Read {
        path: path.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(|e| read_err(dir, e))? {
        let path = entry.map_err(|e| read_err(dir, e))?.path();
        if path.is_dir() {
            read_overrides(root, &path, out)?;
            continue;
        }
        let Some(name) = path.strip_prefix(root).ok().and_then(template_name) else {
            continue;
        };
        let source = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
        out.insert(name, source);
    }
    Ok(())
}

fn split(text: &str) -> Rendered {
    let mut lines = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty());
    let title = lines.next().unwrap_or_default().trim().to_owned();
    let body = lines.collect::<Vec<_>>().join("\n");
    Rendered { title, body }
}

/// What templates see: the event's own fields plus ready-made pieces.
#[derive(Serialize)]
struct Context<'a> {
    #[serde(flatten)]
    event: &'a Event,
    /// `45+2'`, empty when unknown.
    clock: String,
    /// `France 2-1 Croatia`.
    score_line: String,
    /// `4-2`, empty when there is no shoot-out.
    pens_line: String,
}

impl<'a> Context<'a> {
    fn new(event: &'a Event) -> Self {
        let clock = event
            .minute
            .map(|minute| {
                Clock {
                    minute,
                    extra: event.extra,
                }
                .to_string()
            })
            .unwrap_or_default();
        let score_line = match (&event.home, &event.away, event.score) {
            (Some(h), Some(a), Some(s)) => format!("{h} {s} {a}"),
            (Some(h), Some(a), None) => format!("{h} v {a}"),
            _ => String::new(),
        };
        Self {
            event,
            clock,
            score_line,
            pens_line: event.pens.map(|p| p.to_string()).unwrap_or_default(),
        }
    }
}

/// A representative event of `kind`, to check templates at startup and in tests.
pub fn sample(kind: EventKind) -> Event {
    let mut e = Event::new(format!("sample:{}", kind.as_str()), kind);
    if kind == EventKind::Announcement {
        e.topic = Some("France".into());
        e.title = Some("Team news".into());
        e.text = Some("Mbappé starts.".into());
        return e;
    }
    e.match_id = Some("sample:1".into());
    e.competition = Some("FIFA World Cup".into());
    e.home = Some("France".into());
    e.away = Some("Croatia".into());
    e.phase = Some(Phase::FirstHalf);
    e.minute = Some(38);
    e.side = Some(Side::Home);
    e.team = Some("France".into());
    e.player = Some("GRIEZMANN".into());
    e.score = Some(Score::new(2, 1));
    match kind {
        EventKind::OwnGoal => e.player_team = Some("Croatia".into()),
        EventKind::PenaltyMissed => e.detail = Some("saved".into()),
        EventKind::PenaltyShootoutResult | EventKind::FullTime => {
            e.winner = Some("France".into());
            e.pens = Some(Score::new(4, 2));
        }
        EventKind::GoalDisallowed => e.corrects = Some("sample:1:g".into()),
        _ => {}
    }
    e
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_texts;
