//! The global client: bridges installed before it exists log through it
//! once set, drop records while none is set, and a replaced guard leaves
//! its successor in place. One test: the global client is process-wide.

use tracing_subscriber::layer::SubscriberExt;

use timber_core::{global, set_global, Client, Error, Level};
use timber_log::TimberLogger;
use timber_tracing::TimberLayer;
use timber_transport_mock::MockTransport;

fn client(mock: &MockTransport, min_level: Level) -> Client {
    Client::builder()
        .source("global-test")
        .api_key("tb_test_global")
        .min_level(min_level)
        .transport(mock.clone())
        .build()
        .unwrap()
}

#[test]
fn bridges_follow_the_global_client() -> Result<(), Error> {
    // Installed before any client exists.
    let layer = TimberLayer::global();
    assert!(layer.client().is_none());
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("no other subscriber");
    let logger = TimberLogger::global();
    assert_eq!(logger.max_level(), log::LevelFilter::Trace);
    logger.try_init().expect("no other logger");

    // Nothing is set: records are dropped, nothing breaks.
    tracing::info!("before init");
    log::info!("before init");
    assert!(global().is_none());

    let first = MockTransport::new();
    let guard = set_global(client(&first, Level::Info));
    assert_eq!(
        TimberLogger::global().max_level(),
        log::LevelFilter::Info,
        "from the global client's min_level"
    );
    tracing::info!(order = 7, "paid");
    tracing::debug!("below min_level");
    log::warn!(attempt = 2; "retrying");
    {
        let checkout = tracing::info_span!("checkout", flow = "checkout");
        let _inside = checkout.enter();
        tracing::info!("in a flow");
    }
    global().expect("set").flush()?;
    let messages: Vec<String> = first.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["paid", "retrying", "in a flow"]);
    assert!(first.records()[2]
        .flow_id
        .as_deref()
        .is_some_and(|id| id.starts_with("checkout-")));

    // A second init replaces the first; dropping the first guard then
    // disconnects only its own client.
    let second = MockTransport::new();
    let second_guard = set_global(client(&second, Level::Debug));
    drop(guard);
    assert!(global().is_some(), "the second client stays global");
    tracing::info!("to the second");
    drop(second_guard);
    assert!(global().is_none());
    tracing::info!("after the guard");
    assert_eq!(first.count(), 3);
    let messages: Vec<String> = second.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["to the second"], "flushed by the guard's drop");
    Ok(())
}
