//! Tests of the dispatcher's pure parts: backoff and limits.

use super::limiters::quota;
use super::*;
use sink_api::{Limits, Rate};

#[test]
fn backoff_doubles_with_jitter_and_is_capped() {
    let config = DispatchConfig {
        backoff_base: Duration::from_secs(2),
        backoff_max: Duration::from_secs(60),
        ..DispatchConfig::default()
    };
    for _ in 0..100 {
        let first = backoff(&config, 1);
        assert!(
            first >= Duration::from_secs(1) && first <= Duration::from_secs(2),
            "{first:?}"
        );
        let third = backoff(&config, 3);
        assert!(
            third >= Duration::from_secs(4) && third <= Duration::from_secs(8),
            "{third:?}"
        );
        let late = backoff(&config, 40);
        assert!(
            late >= Duration::from_secs(30) && late <= Duration::from_secs(60),
            "{late:?}"
        );
    }
}

#[test]
fn rates_become_quotas_with_their_burst() {
    let q = quota(Rate::per_minute(20)).unwrap();
    assert_eq!(q.replenish_interval(), Duration::from_secs(3));
    assert_eq!(q.burst_size().get(), 20);
}

#[tokio::test]
async fn a_costly_message_takes_its_units_of_the_global_rate() {
    let limiters = Limiters::new(&Limits {
        global: vec![Rate::new(1, Duration::from_millis(100))],
        ..Limits::default()
    });
    let start = tokio::time::Instant::now();
    limiters.wait(&[], "a", 1).await;
    assert!(start.elapsed() < Duration::from_millis(50));
    // Three segments: three cells, two of which must wait a period each.
    limiters.wait(&[], "b", 3).await;
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(280),
        "three units after one took {elapsed:?}"
    );
}

#[tokio::test]
async fn a_per_recipient_limit_spaces_one_recipients_sends_but_not_anothers() {
    let limiters = Limiters::new(&Limits::default());
    let rates = [Rate::new(1, Duration::from_millis(200))];
    let start = tokio::time::Instant::now();
    limiters.wait(&rates, "a", 1).await;
    limiters.wait(&rates, "b", 1).await;
    assert!(start.elapsed() < Duration::from_millis(100));
    limiters.wait(&rates, "a", 1).await;
    assert!(
        start.elapsed() >= Duration::from_millis(150),
        "{:?}",
        start.elapsed()
    );
}
