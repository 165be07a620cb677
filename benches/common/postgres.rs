//! PostgreSQL for the benches that run on it too: a fresh database per run.

/// A new, empty PostgreSQL database `name` on the server of `admin` (dropped first if it
/// exists); returns its URL.
pub(crate) async fn fresh_postgres(admin: &str, name: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap();
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    sqlx::query(sqlx::AssertSqlSafe(drop))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// The PostgreSQL server to bench on: `--postgres URL`, else `HERALD_TEST_POSTGRES_URL`.
pub(crate) fn postgres_admin() -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--postgres")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .or_else(|| std::env::var("HERALD_TEST_POSTGRES_URL").ok())
}
