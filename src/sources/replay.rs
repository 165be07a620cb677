//! Replays a recorded match (the `fixtures/<format>/<match>/` layout: `manifest.json` plus one
//! `steps/NNN.json` per poll) through the real provider code, at a chosen speed. A copy of the
//! 2018 World Cup final ships inside the binary, so `herald run` shows a real match with no
//! network and no setup.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use include_dir::{Dir, include_dir};
use serde::Deserialize;

use super::api_football::ApiFootball;
use super::fifa::{self, Fifa};
use super::football_data::FootballData;
use super::livescore::LiveScore;
use super::{NextPoll, Poll, Response, Source, SourceError, Transport, parse_rfc3339};

/// The fixture compiled into the binary: France 4-2 Croatia, 2018, as the FIFA API served it.
static BUNDLED: Dir<'static> =
    include_dir!("$CARGO_MANIFEST_DIR/fixtures/fifa/2018-wc-final-fra-cro");

/// The name `path` takes to mean the bundled fixture.
pub const BUNDLED_NAME: &str = "bundled";

/// A minute of match time per second of replay: a whole match in about two minutes.
pub const DEFAULT_SPEED: f64 = 60.0;
/// Longest wait between two steps, so half-time does not look like a hang.
pub const DEFAULT_MAX_GAP: Duration = Duration::from_secs(5);
/// Pause before a looping replay starts over.
pub const LOOP_PAUSE: Duration = Duration::from_secs(20);

/// `[sources.<id>]` with `type = "replay"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// A fixture directory, or `"bundled"` for the match shipped in the binary.
    #[serde(default = "bundled")]
    pub path: PathBuf,
    /// How many times faster than real time (the steps' wall-clock gaps divided by this).
    #[serde(default = "default_speed")]
    pub speed: f64,
    /// The longest wait between two steps, whatever the speed.
    #[serde(default = "default_max_gap", with = "humantime_serde")]
    pub max_gap: Duration,
    /// Start over (as a new match run) after the last step.
    #[serde(default, rename = "loop")]
    pub repeat: bool,
}

fn bundled() -> PathBuf {
    PathBuf::from(BUNDLED_NAME)
}

fn default_speed() -> f64 {
    DEFAULT_SPEED
}

fn default_max_gap() -> Duration {
    DEFAULT_MAX_GAP
}

impl Default for Config {
    fn default() -> Self {
        Self {
            path: bundled(),
            speed: DEFAULT_SPEED,
            max_gap: DEFAULT_MAX_GAP,
            repeat: false,
        }
    }
}

/// Where a replay stands, for progress displays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The step just played (0-based).
    pub step: usize,
    /// How many steps the fixture has.
    pub steps: usize,
    /// The match clock label of the step (`38'`, `half-time`).
    pub label: String,
}

type ProgressHook = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A source that plays a fixture.
pub struct ReplaySource {
    provider: Provider,
    transport: Recorded,
    steps: Vec<Arc<Step>>,
    /// The next step to play.
    next: usize,
    /// Which time through the fixture (1 for the first); later runs get their own match ids.
    run: u32,
    config: Config,
    progress: Option<ProgressHook>,
}

impl fmt::Debug for ReplaySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplaySource")
            .field("config", &self.config)
            .field("steps", &self.steps.len())
            .field("next", &self.next)
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

enum Provider {
    Fifa(Fifa<Recorded>),
    FootballData(FootballData<Recorded>),
    LiveScore(LiveScore<Recorded>),
    ApiFootball(ApiFootball<Recorded>),
}

#[derive(Debug, Deserialize)]
struct Manifest {
    format: String,
    #[serde(default)]
    ids: BTreeMap<String, serde_json::Value>,
    steps: Vec<ManifestStep>,
}

#[derive(Debug, Deserialize)]
struct ManifestStep {
    file: String,
}

#[derive(Debug, Deserialize)]
struct StepFile {
    #[serde(default)]
    at: Option<StepAt>,
    wall_clock_utc: Option<String>,
    responses: BTreeMap<String, RecordedResponse>,
}

#[derive(Debug, Deserialize)]
struct StepAt {
    label: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RecordedResponse {
    status: u16,
    body: serde_json::Value,
}

/// One recorded poll.
#[derive(Debug)]
struct Step {
    label: String,
    now: i64,
    responses: Vec<(String, BTreeMap<String, String>, u16, Bytes)>,
}

/// Query parameters that carry credentials in the recordings; a replay does not send them.
const CREDENTIALS: [&str; 2] = ["key", "secret"];

impl ReplaySource {
    /// Opens a fixture: a directory, or [`BUNDLED_NAME`].
    ///
    /// # Errors
    /// When the manifest or a step cannot be read or parsed, or the format is unknown.
    pub fn open(config: Config) -> Result<Self, SourceError> {
        let files = FixtureFiles::new(&config.path);
        let manifest: Manifest = files.json("manifest.json")?;
        let mut steps = Vec::with_capacity(manifest.steps.len());
        for entry in &manifest.steps {
            let step: StepFile = files.json(&entry.file)?;
            steps.push(Arc::new(Step::from_file(step)));
        }
        if steps.is_empty() {
            return Err(files.error("the manifest lists no steps"));
        }
        let transport = Recorded::default();
        let id = |key: &str| -> String {
            match manifest.ids.get(key) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            }
        };
        let provider = match manifest.format.as_str() {
            "fifa" => Provider::Fifa(Fifa::new(
                fifa::Config {
                    endpoint: String::new(),
                    competition: id("idCompetition"),
                    season: id("idSeason"),
                    language: "en-GB".into(),
                },
                transport.clone(),
            )),
            "football-data" => {
                Provider::FootballData(FootballData::new(Vec::new(), transport.clone()))
            }
            "livescore" => Provider::LiveScore(LiveScore::new(None, transport.clone())),
            "api-football" => {
                let fixture = id("fixture").parse().ok().into_iter().collect();
                Provider::ApiFootball(ApiFootball::new(Vec::new(), fixture, transport.clone()))
            }
            other => return Err(files.error(&format!("unknown fixture format `{other}`"))),
        };
        Ok(Self {
            provider,
            transport,
            steps,
            next: 0,
            run: 1,
            config,
            progress: None,
        })
    }

    /// Calls `hook` after every step, e.g. to draw a progress bar.
    #[must_use]
    pub fn with_progress(mut self, hook: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(hook));
        self
    }

    /// How many steps the fixture has.
    pub fn steps(&self) -> usize {
        self.steps.len()
    }

    fn gap_after(&self, step: usize) -> Duration {
        let (Some(this), Some(next)) = (self.steps.get(step), self.steps.get(step + 1)) else {
            return Duration::ZERO;
        };
        let seconds = u64::try_from(next.now - this.now).unwrap_or(0);
        let scaled = Duration::from_secs(seconds).div_f64(self.config.speed.max(0.001));
        scaled.min(self.config.max_gap)
    }
}

impl Source for ReplaySource {
    async fn poll(&mut self) -> Result<Poll, SourceError> {
        let index = self.next;
        let step = Arc::clone(&self.steps[index]);
        self.transport.set(Arc::clone(&step));
        let mut poll = match &mut self.provider {
            Provider::Fifa(p) => p.poll().await?,
            Provider::FootballData(p) => p.poll().await?,
            Provider::LiveScore(p) => p.poll().await?,
            Provider::ApiFootball(p) => p.poll().await?,
        };
        if self.run > 1 {
            for m in &mut poll.snapshot.matches {
                m.id = format!("{}~{}", m.id, self.run);
            }
        }
        if let Some(hook) = &self.progress {
            hook(&Progress {
                step: index,
                steps: self.steps.len(),
                label: step.label.clone(),
            });
        }
        let last = index + 1 == self.steps.len();
        poll.next = match (last, self.config.repeat) {
            (false, _) => NextPoll::After(self.gap_after(index)),
            (true, true) => NextPoll::After(LOOP_PAUSE),
            (true, false) => NextPoll::Done,
        };
        if last {
            self.next = 0;
            self.run += 1;
        } else {
            self.next = index + 1;
        }
        poll.cursor = Some(format!("{}:{}", self.run, self.next));
        if last && !self.config.repeat {
            poll.cursor = Some(format!("done:{}", self.steps.len()));
        }
        Ok(poll)
    }

    fn resume(&mut self, cursor: &str) {
        if let Some((run, next)) = cursor.split_once(':') {
            if run == "done" {
                // A finished, non-looping replay stays finished: play nothing twice.
                self.next = self.steps.len() - 1;
                return;
            }
            if let (Ok(run), Ok(next)) = (run.parse(), next.parse::<usize>())
                && next < self.steps.len()
            {
                self.run = run;
                self.next = next;
            }
        }
    }
}

impl Step {
    fn from_file(file: StepFile) -> Self {
        let responses = file
            .responses
            .into_iter()
            .map(|(key, recorded)| {
                let (path, query) = split_request(&key);
                let body = Bytes::from(serde_json::to_vec(&recorded.body).unwrap_or_default());
                (path, query, recorded.status, body)
            })
            .collect();
        Self {
            label: file.at.and_then(|a| a.label).unwrap_or_default(),
            now: file
                .wall_clock_utc
                .as_deref()
                .and_then(parse_rfc3339)
                .unwrap_or(0),
            responses,
        }
    }
}

/// `/a/b?x=1&Y=2` → (`/a/b`, {x: 1, y: 2}) with lower-cased keys and credentials dropped.
fn split_request(request: &str) -> (String, BTreeMap<String, String>) {
    let (path, query) = request.split_once('?').unwrap_or((request, ""));
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let query = pairs
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .filter(|(k, _)| !CREDENTIALS.contains(&k.as_str()))
        .collect();
    (path.to_owned(), query)
}

/// Serves the current step's recorded responses to the provider code.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    step: Arc<Mutex<Option<Arc<Step>>>>,
}

impl Recorded {
    fn set(&self, step: Arc<Step>) {
        *self.step.lock().unwrap_or_else(PoisonError::into_inner) = Some(step);
    }

    /// A transport serving the responses of one step file (`steps/NNN.json`), as a replay
    /// does: the input of the provider fuzz targets ([`crate::fuzzing`]).
    ///
    /// # Errors
    /// When `json` is not a step file.
    pub(crate) fn from_step(json: &[u8]) -> Result<Self, serde_json::Error> {
        let step: StepFile = serde_json::from_slice(json)?;
        let recorded = Self::default();
        recorded.set(Arc::new(Step::from_file(step)));
        Ok(recorded)
    }
}

impl Transport for Recorded {
    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Response, SourceError> {
        let step = self
            .step
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| SourceError::Replay {
                path: path.to_owned(),
                message: "no step loaded".into(),
            })?;
        let wanted: BTreeMap<String, String> = query
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .filter(|(k, _)| !CREDENTIALS.contains(&k.as_str()))
            .collect();
        let found = step
            .responses
            .iter()
            .find(|(p, q, _, _)| p.ends_with(path) && *q == wanted);
        let (status, body) = match found {
            Some((_, _, status, body)) => (*status, body.clone()),
            None => (404, Bytes::from_static(b"{}")),
        };
        Ok(Response {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body,
            now: step.now,
        })
    }
}

/// Reads fixture files from a directory or from the bundled copy.
enum FixtureFiles<'a> {
    Bundled,
    Dir(&'a Path),
}

impl<'a> FixtureFiles<'a> {
    fn new(path: &'a Path) -> Self {
        if path == Path::new(BUNDLED_NAME) {
            Self::Bundled
        } else {
            Self::Dir(path)
        }
    }

    fn error(&self, message: &str) -> SourceError {
        SourceError::Replay {
            path: match self {
                Self::Bundled => BUNDLED_NAME.to_owned(),
                Self::Dir(p) => p.display().to_string(),
            },
            message: message.to_owned(),
        }
    }

    fn json<T: serde::de::DeserializeOwned>(&self, file: &str) -> Result<T, SourceError> {
        let bytes = match self {
            Self::Bundled => BUNDLED
                .get_file(file)
                .map(|f| f.contents().to_vec())
                .ok_or_else(|| self.error(&format!("{file} is missing")))?,
            Self::Dir(dir) => {
                std::fs::read(dir.join(file)).map_err(|e| self.error(&format!("{file}: {e}")))?
            }
        };
        serde_json::from_slice(&bytes).map_err(|e| self.error(&format!("{file}: {e}")))
    }
}

/// The replay, as the plug-in list names it: `type = "replay"`.
#[derive(Debug)]
pub struct Plugin;

impl crate::plugins::SourcePlugin for Plugin {
    const KIND: &'static str = "replay";
    type Config = Config;
    type Source = ReplaySource;

    fn validate(config: &Config) -> Result<(), sink_api::Invalid> {
        if config.speed.is_finite() && config.speed > 0.0 {
            Ok(())
        } else {
            Err(sink_api::Invalid::new(
                "speed",
                "must be a number greater than 0",
            ))
        }
    }

    fn describe(config: &Config) -> String {
        format!("{} at {}x", config.path.display(), config.speed)
    }

    fn build(
        config: &Config,
        _id: &str,
        _store: &crate::store::Store,
    ) -> Result<ReplaySource, SourceError> {
        ReplaySource::open(config.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Phase;

    #[tokio::test]
    async fn the_bundled_fixture_plays_from_pre_match_to_full_time() {
        let mut replay = ReplaySource::open(Config::default()).unwrap();
        assert_eq!(replay.steps(), 23);
        let first = replay.poll().await.unwrap();
        let m = first
            .snapshot
            .matches
            .iter()
            .find(|m| m.home.name == "France")
            .unwrap();
        assert_eq!(m.phase, Phase::Pre);
        assert!(matches!(first.next, NextPoll::After(d) if d <= DEFAULT_MAX_GAP));
        let mut last = first;
        for _ in 1..23 {
            last = replay.poll().await.unwrap();
        }
        let m = last
            .snapshot
            .matches
            .iter()
            .find(|m| m.home.name == "France")
            .unwrap();
        assert_eq!(m.phase, Phase::Finished);
        assert_eq!(m.score.to_string(), "4-2");
        assert_eq!(last.next, NextPoll::Done);
        assert_eq!(last.cursor.as_deref(), Some("done:23"));
    }

    #[tokio::test]
    async fn a_looping_replay_gives_each_run_its_own_match_ids_and_resumes_from_its_cursor() {
        let config = Config {
            repeat: true,
            ..Config::default()
        };
        let mut replay = ReplaySource::open(config.clone()).unwrap();
        let mut cursor = None;
        for _ in 0..23 {
            let poll = replay.poll().await.unwrap();
            cursor = poll.cursor;
        }
        assert_eq!(cursor.as_deref(), Some("2:0"));
        let mut resumed = ReplaySource::open(config).unwrap();
        resumed.resume(cursor.as_deref().unwrap());
        let poll = resumed.poll().await.unwrap();
        assert!(poll.snapshot.matches.iter().all(|m| m.id.ends_with("~2")));
    }

    #[test]
    fn requests_match_recordings_without_credentials_and_case() {
        let (path, query) =
            split_request("/api-client/scores/events.json?key=demo-key&secret=s&id=901002");
        assert_eq!(path, "/api-client/scores/events.json");
        assert_eq!(
            query.into_iter().collect::<Vec<_>>(),
            vec![("id".to_owned(), "901002".to_owned())]
        );
    }
}
