//! Test databases: a fresh SQLite file, and a fresh PostgreSQL database created on the server
//! named by `HERALD_TEST_POSTGRES_URL` (default: the local `test` database). In CI (`CI` set)
//! PostgreSQL is required: an unreachable server fails the tests instead of skipping them.

use std::sync::atomic::{AtomicU32, Ordering};

use herald::config::StoreConfig;
use herald::store::Store;
use sqlx::Executor;

/// The variable naming a PostgreSQL database the tests may create databases from.
pub(crate) const POSTGRES_URL_VAR: &str = "HERALD_TEST_POSTGRES_URL";
/// Where the tests look without the variable: this machine's PostgreSQL.
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database made for one test.
pub(crate) struct TestDb {
    pub(crate) url: String,
    pub(crate) backend: &'static str,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub(crate) fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("herald.db").display());
        Self {
            url,
            backend: "sqlite",
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` outside CI when no server answers.
    pub(crate) async fn postgres() -> Option<Self> {
        let admin =
            std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let name = format!(
            "herald_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            rand_suffix()
        );
        sqlx::any::install_default_drivers();
        let mut conn = match <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await {
            Ok(conn) => conn,
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("PostgreSQL at {admin} is required in CI ({POSTGRES_URL_VAR}): {e}")
            }
            Err(e) => {
                eprintln!(
                    "PostgreSQL at {admin} is unreachable ({e}): skipping the PostgreSQL variant"
                );
                return None;
            }
        };
        sweep_abandoned(&mut conn).await;
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        let (base, _) = admin.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        Some(Self {
            url,
            backend: "postgres",
            _dir: None,
            postgres: Some((admin, name)),
        })
    }

    /// Both backends: SQLite always, PostgreSQL when available.
    pub(crate) async fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite()];
        dbs.extend(Self::postgres().await);
        dbs
    }

    pub(crate) fn config(&self) -> StoreConfig {
        StoreConfig {
            url: self.url.clone(),
            ..StoreConfig::default()
        }
    }

    pub(crate) async fn store(&self) -> Store {
        let store = Store::connect(&self.config()).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// Drops the PostgreSQL database (SQLite files go with the temp dir).
    pub(crate) async fn cleanup(self) {
        if let Some((admin, name)) = &self.postgres {
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin)
                .await
                .unwrap();
            conn.execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await
            .unwrap();
        }
    }
}

/// Drops test databases left by test processes that died before cleaning up.
async fn sweep_abandoned(conn: &mut sqlx::AnyConnection) {
    use sqlx::Row;
    let rows = sqlx::query("SELECT datname::text FROM pg_database WHERE datname LIKE 'herald_t_%'")
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_default();
    for row in rows {
        let name: String = row.get(0);
        let pid = name.split('_').nth(2).unwrap_or_default();
        if !pid.is_empty() && !std::path::Path::new("/proc").join(pid).exists() {
            let _dropped = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }
}

fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    u32::try_from(h.finish() % 1_000_000).unwrap()
}
