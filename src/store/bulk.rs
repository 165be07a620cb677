//! Many rows in one statement: the rows go as one JSON array of arrays, bound as a single
//! parameter, and the database reads it back as a table (`jsonb_array_elements` on
//! PostgreSQL, `json_each` on SQLite).
//!
//! One statement text serves every batch size, so it is prepared once and cached; a batch is
//! one value to bind, not thousands. (A statement with a parameter per value costs more with
//! each one: SQLite looks every `$n` up by name in a list, quadratic in their number, and
//! PostgreSQL plans a long `VALUES` list row by row. Measured on 10,000 outbox rows: SQLite
//! 320 ms → 40 ms, PostgreSQL 1,050 ms → 230 ms.)

use super::Backend;

/// A column of [`rows`]: its SQL type, as PostgreSQL casts the JSON text to it. SQLite reads
/// JSON numbers and strings as they are.
#[derive(Debug, Clone, Copy)]
pub(super) enum Column {
    /// `BIGINT`.
    Int,
    /// `TEXT` (JSON `null` reads as SQL `NULL`).
    Text,
}

/// `SELECT c0, c1, …, n FROM <the JSON array bound at $param>`: one row per element of the
/// array, in order (`n` is the element's position), column `ci` being its `i`-th item.
pub(super) fn rows(backend: Backend, param: usize, columns: &[Column]) -> String {
    let (source, item) = match backend {
        Backend::Postgres => (
            format!("jsonb_array_elements(${param}::jsonb) WITH ORDINALITY AS r(e, n)"),
            "e",
        ),
        Backend::Sqlite => (
            format!("(SELECT value, key AS n FROM json_each(${param})) AS r"),
            "value",
        ),
    };
    let columns = columns
        .iter()
        .enumerate()
        .map(|(i, column)| match (backend, column) {
            (Backend::Postgres, Column::Int) => format!("({item}->>{i})::bigint AS c{i}"),
            _ => format!("{item}->>{i} AS c{i}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("SELECT {columns}, n FROM {source}")
}

/// A statement for each backend, written once: `write` gets the backend and returns its text.
pub(super) struct PerBackend {
    postgres: String,
    sqlite: String,
}

impl PerBackend {
    /// Both texts of `write`.
    pub(super) fn new(write: impl Fn(Backend) -> String) -> Self {
        Self {
            postgres: write(Backend::Postgres),
            sqlite: write(Backend::Sqlite),
        }
    }

    /// The text for `backend`.
    pub(super) fn get(&self, backend: Backend) -> &str {
        match backend {
            Backend::Postgres => &self.postgres,
            Backend::Sqlite => &self.sqlite,
        }
    }
}

/// A statement per backend, formatted once per call site into a `static` (like `sql!`):
/// `per_backend!(|backend| format!(…))`.
macro_rules! per_backend {
    ($write:expr) => {{
        static TEXT: std::sync::LazyLock<$crate::store::bulk::PerBackend> =
            std::sync::LazyLock::new(|| $crate::store::bulk::PerBackend::new($write));
        &*TEXT
    }};
}
pub(super) use per_backend;

/// `rows` (tuples of numbers, strings and options of them) as the one JSON value to bind.
pub(super) fn json<T: serde::Serialize>(rows: &[T]) -> String {
    // Tuples of numbers and strings always serialize.
    serde_json::to_string(rows).expect("rows of numbers and strings serialize to JSON")
}
