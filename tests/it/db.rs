//! Test databases: a fresh SQLite file, and a fresh PostgreSQL database when
//! `HERALD_TEST_POSTGRES_URL` is set. In CI (`CI` set) PostgreSQL is required: a missing URL
//! fails the tests instead of skipping them.

use std::sync::atomic::{AtomicU32, Ordering};

use herald::config::StoreConfig;
use herald::store::Store;
use sqlx::Executor;

/// The variable naming a PostgreSQL database the tests may create databases from.
pub(crate) const POSTGRES_URL_VAR: &str = "HERALD_TEST_POSTGRES_URL";

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

    /// A fresh PostgreSQL database, or `None` outside CI when no server is configured.
    pub(crate) async fn postgres() -> Option<Self> {
        let admin = match std::env::var(POSTGRES_URL_VAR) {
            Ok(url) => url,
            Err(_) if std::env::var_os("CI").is_some() => {
                panic!(
                    "{POSTGRES_URL_VAR} must be set in CI: the PostgreSQL tests may not be skipped"
                )
            }
            Err(_) => {
                eprintln!("{POSTGRES_URL_VAR} is not set: skipping the PostgreSQL variant");
                return None;
            }
        };
        let name = format!(
            "herald_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            rand_suffix()
        );
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
            .await
            .unwrap();
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
