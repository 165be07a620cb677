//! Applies `migrations/` to SQLite or PostgreSQL. The files are written for both; the one
//! construct that differs (auto-increment keys) is rewritten for PostgreSQL here, and a line
//! starting with `-- postgres: ` is a statement only PostgreSQL runs (storage settings).

use std::borrow::Cow;

use sqlx::AnyConnection;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migrate, MigrateError, Migration, Migrator};

use super::Backend;

static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// SQLite's auto-increment key and its PostgreSQL equivalent.
const SQLITE_AUTO_ID: &str = "INTEGER PRIMARY KEY AUTOINCREMENT";
const POSTGRES_AUTO_ID: &str = "BIGSERIAL PRIMARY KEY";
/// The start of a line that only PostgreSQL runs (a comment to SQLite; never the first line).
const POSTGRES_ONLY: &str = "-- postgres: ";

/// The migrations as `backend` runs them.
fn migrator(backend: Backend) -> Migrator {
    match backend {
        Backend::Sqlite => Migrator {
            migrations: MIGRATIONS.migrations.clone(),
            ..Migrator::DEFAULT
        },
        Backend::Postgres => {
            let migrations = MIGRATIONS
                .iter()
                .map(|m| {
                    // Only what these rewrites touch changes: the text of the migrations a
                    // database has applied (their checksums) stays as it was.
                    let sql = m
                        .sql
                        .as_str()
                        .replace(SQLITE_AUTO_ID, POSTGRES_AUTO_ID)
                        .replace(&format!("\n{POSTGRES_ONLY}"), "\n");
                    Migration::new(
                        m.version,
                        m.description.clone(),
                        m.migration_type,
                        sqlx::AssertSqlSafe(sql).into_sql_str(),
                        m.no_tx,
                    )
                })
                .collect::<Vec<_>>();
            Migrator {
                migrations: Cow::Owned(migrations),
                ..Migrator::DEFAULT
            }
        }
    }
}

/// Applies every pending migration. Returns how many were applied.
pub(crate) async fn run(conn: &mut AnyConnection, backend: Backend) -> Result<usize, MigrateError> {
    let migrator = migrator(backend);
    conn.ensure_migrations_table(&migrator.table_name).await?;
    let pending = pending(conn, backend).await?;
    migrator.run(&mut *conn).await?;
    Ok(pending)
}

/// How many of herald's migrations `conn`'s database has not applied. Reads only: on a
/// database herald never migrated (no migrations table) it fails.
pub(crate) async fn pending(
    conn: &mut AnyConnection,
    backend: Backend,
) -> Result<usize, MigrateError> {
    let migrator = migrator(backend);
    let applied = conn.list_applied_migrations(&migrator.table_name).await?;
    Ok(migrator
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .count())
}
