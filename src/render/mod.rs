//! Turns an event into localized text with minijinja templates: one file per locale and kind
//! (`templates/<locale>/<kind>.j2`), shipped in the binary and overridable from a directory.
//! The first line of the output is the title, the rest the body. Output is plain text; each
//! sink escapes it for its platform.

use std::collections::BTreeSet;
use std::path::Path;

use include_dir::{Dir, include_dir};
use minijinja::Environment;
use serde::Serialize;

use crate::model::{Clock, Event, EventKind, Phase, Score, Side};

/// The locales shipped in the binary.
pub const LOCALES: [&str; 4] = ["en", "es", "fr", "pt-BR"];

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
        /// `<locale>/<kind>`.
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
}

/// Renders events; built once at startup, shared by every sink worker.
#[derive(Debug)]
pub struct Renderer {
    env: Environment<'static>,
    locales: BTreeSet<String>,
    default_locale: String,
}

impl Renderer {
    /// Loads the built-in templates, then `dir` over them, and renders every template once with
    /// a sample event so that a broken override fails at startup rather than at the first goal.
    ///
    /// # Errors
    /// An unreadable or invalid template, or a locale missing a kind.
    pub fn new(dir: Option<&Path>, default_locale: &str) -> Result<Self, RenderError> {
        // Blank lines left by block tags are dropped when the output is split into title and
        // body, so templates keep the default whitespace rules.
        let mut env = Environment::new();
        let mut locales = BTreeSet::new();
        for locale_dir in BUILT_IN.dirs() {
            let locale = locale_dir.path().to_string_lossy().into_owned();
            for file in locale_dir.files() {
                let Some(kind) = file.path().file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                let source = file.contents_utf8().unwrap_or_default().to_owned();
                add(&mut env, &locale, kind, source)?;
            }
            locales.insert(locale);
        }
        if let Some(dir) = dir {
            for (locale, kind, source) in read_overrides(dir)? {
                add(&mut env, &locale, &kind, source)?;
                locales.insert(locale);
            }
        }
        let renderer = Self {
            env,
            locales,
            default_locale: default_locale.to_owned(),
        };
        renderer.check()?;
        Ok(renderer)
    }

    /// Every locale that has templates.
    pub fn locales(&self) -> impl Iterator<Item = &str> {
        self.locales.iter().map(String::as_str)
    }

    /// Whether `locale` can be rendered.
    pub fn has_locale(&self, locale: &str) -> bool {
        self.locales.contains(locale)
    }

    /// Renders `event` in `locale`, falling back to the default locale when `locale` is
    /// unknown.
    ///
    /// # Errors
    /// When the template fails at render time.
    pub fn render(&self, event: &Event, locale: &str) -> Result<Rendered, RenderError> {
        let locale = if self.has_locale(locale) {
            locale
        } else {
            &self.default_locale
        };
        let name = format!("{locale}/{}", event.kind.as_str());
        let template = self
            .env
            .get_template(&name)
            .map_err(|_| RenderError::Missing {
                locale: locale.to_owned(),
                kind: event.kind,
            })?;
        let text = template
            .render(minijinja::Value::from(minijinja::value::Serde(
                Context::new(event),
            )))
            .map_err(|e| RenderError::Template {
                name: name.clone(),
                message: e.to_string(),
            })?;
        Ok(split(&text))
    }

    fn check(&self) -> Result<(), RenderError> {
        for locale in &self.locales {
            for kind in EventKind::ALL {
                let name = format!("{locale}/{}", kind.as_str());
                if self.env.get_template(&name).is_err() {
                    return Err(RenderError::Missing {
                        locale: locale.clone(),
                        kind,
                    });
                }
                self.render(&sample(kind), locale)?;
            }
        }
        Ok(())
    }
}

fn add(
    env: &mut Environment<'static>,
    locale: &str,
    kind: &str,
    source: String,
) -> Result<(), RenderError> {
    let name = format!("{locale}/{kind}");
    env.add_template_owned(name.clone(), source)
        .map_err(|e| RenderError::Template {
            name,
            message: e.to_string(),
        })
}

/// `<dir>/<locale>/<kind>.j2` files.
fn read_overrides(dir: &Path) -> Result<Vec<(String, String, String)>, RenderError> {
    let read_err = |path: &Path, source| RenderError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut out = Vec::new();
    for locale in std::fs::read_dir(dir).map_err(|e| read_err(dir, e))? {
        let locale = locale.map_err(|e| read_err(dir, e))?.path();
        if !locale.is_dir() {
            continue;
        }
        let name = locale
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        for file in std::fs::read_dir(&locale).map_err(|e| read_err(&locale, e))? {
            let file = file.map_err(|e| read_err(&locale, e))?.path();
            if file.extension().and_then(|e| e.to_str()) != Some("j2") {
                continue;
            }
            let Some(kind) = file.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let source = std::fs::read_to_string(&file).map_err(|e| read_err(&file, e))?;
            out.push((name.clone(), kind.to_owned(), source));
        }
    }
    Ok(out)
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
