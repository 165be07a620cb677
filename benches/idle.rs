//! Run with `cargo bench --bench idle` (options after `--`: `--postgres URL`, `--seconds N`).
//!
//! Idle cost: one herald instance with nothing to do (an SSE stream and a Telegram sink, no
//! traffic), measured over a window after a warm-up: the transactions it runs on PostgreSQL
//! per second (`pg_stat_database` of its own database; every statement outside an explicit
//! transaction is one) and its CPU time. Also the CPU of the same instance on SQLite.
//! Target: at most one query per second.

use std::time::Duration;

mod common;
#[path = "common/postgres.rs"]
mod postgres;

const CONFIG: &str = "[sources]\n\n[sinks.sse]\n\n[sinks.tg]\ntype = \"telegram\"\n\
                      token = \"123:idle\"\nendpoint = \"http://127.0.0.1:9\"\ncommands = false\n";

/// User + system CPU time of `pid`, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which ends at the last ')').
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after the name and state.
    (ticks(11) + ticks(12)) / 100.0
}

async fn transactions(admin: &str, database: &str) -> i64 {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap();
    let row = sqlx::query(
        "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = $1",
    )
    .bind(database)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    row.get(0)
}

#[tokio::main]
async fn main() {
    let window = Duration::from_secs(common::option("--seconds", 60));
    let warm_up = Duration::from_secs(15);
    let sqlite = common::Server::start(None, "", CONFIG).await;
    tokio::time::sleep(warm_up).await;
    let before = cpu_seconds(sqlite.pid());
    tokio::time::sleep(window).await;
    let cpu = cpu_seconds(sqlite.pid()) - before;
    let rss = common::rss_kib(sqlite.pid());
    sqlite.stop();
    println!(
        "idle on SQLite: CPU {:.2} % of a core over {} s, RSS {:.1} MiB",
        cpu / window.as_secs_f64() * 100.0,
        window.as_secs(),
        rss as f64 / 1024.0
    );

    let Some(admin) = postgres::postgres_admin() else {
        println!("PostgreSQL run skipped: pass --postgres URL");
        return;
    };
    let database = "herald_bench_idle";
    let url = postgres::fresh_postgres(&admin, database).await;
    let server = common::Server::start(Some(&url), "", CONFIG).await;
    tokio::time::sleep(warm_up).await;
    let (tx_before, cpu_before) = (
        transactions(&admin, database).await,
        cpu_seconds(server.pid()),
    );
    tokio::time::sleep(window).await;
    // Statistics reach pg_stat_database when a backend reports them (within about 10 s of
    // going idle): wait that long after the window, and count what herald ran in it.
    let cpu = cpu_seconds(server.pid()) - cpu_before;
    let after_window = transactions(&admin, database).await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    let settled = transactions(&admin, database).await;
    server.stop();
    let per_second = (settled - tx_before) as f64 / (window.as_secs_f64() + 11.0);
    println!(
        "idle on PostgreSQL: {:.2} queries/s ({} in {} s incl. {} reported late), CPU {:.2} % of a core",
        per_second,
        settled - tx_before,
        window.as_secs() + 11,
        settled - after_window,
        cpu / window.as_secs_f64() * 100.0,
    );
}
