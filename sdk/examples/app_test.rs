//! An application unit test with the mock transport: the code under test
//! takes a `Client`; the test gives it one backed by
//! `timber_sdk::test::MockTransport`, then asserts what was logged, and how
//! the code copes when the service fails.
//!
//! ```sh
//! cargo test --example app_test --features test
//! ```

use timber_sdk::{json, Client, LogOptions};

/// The application: charges an order, logging what happens.
pub fn charge(client: &Client, order: u64, cents: u64) -> Result<(), ChargeError> {
    if cents == 0 {
        client.warn("empty charge refused", json!({ "order": order }), None);
        return Err(ChargeError::Empty);
    }
    if cents > 100_000 {
        let err = ChargeError::OverLimit { cents };
        client.error("charge refused", &err, LogOptions::tags(["payments"]));
        return Err(err);
    }
    client.info(
        "charged",
        json!({ "order": order, "cents": cents }),
        LogOptions::tags(["payments"]),
    );
    Ok(())
}

/// Why a charge was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ChargeError {
    /// Nothing to charge.
    Empty,
    /// Above the per-order limit.
    OverLimit {
        /// The amount asked for.
        cents: u64,
    },
}

impl std::fmt::Display for ChargeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChargeError::Empty => f.write_str("nothing to charge"),
            ChargeError::OverLimit { cents } => write!(f, "{cents} cents is over the limit"),
        }
    }
}

impl std::error::Error for ChargeError {}

fn main() -> Result<(), timber_sdk::Error> {
    // Run as a program, it logs one charge through the mock and prints it.
    let mock = timber_sdk::test::MockTransport::new();
    let client = Client::builder()
        .source("shop")
        .api_key("tb_test_app")
        .transport(mock.clone())
        .build()?;
    let _ = charge(&client, 1, 4200);
    client.flush()?;
    println!("{:?}", mock.records());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use timber_sdk::test::{Fault, MockTransport};
    use timber_sdk::{Client, Level, RetryPolicy};

    use super::*;

    fn client(mock: &MockTransport) -> Client {
        Client::builder()
            .source("shop")
            .api_key("tb_test_app")
            // Quick retries, so the outage test takes milliseconds.
            .retry(RetryPolicy {
                initial_delay: Duration::from_millis(1),
                ..RetryPolicy::default()
            })
            .transport(mock.clone())
            .build()
            .unwrap()
    }

    #[test]
    fn a_charge_is_logged_with_its_order_and_amount() {
        let mock = MockTransport::new();
        let client = client(&mock);
        charge(&client, 42, 4200).unwrap();
        client.flush().unwrap();

        let record = mock.last().unwrap();
        assert_eq!(record.level, Level::Info);
        assert_eq!(record.message, "charged");
        assert_eq!(record.data.unwrap()["cents"], 4200);
        assert_eq!(mock.by_tag("payments").len(), 1);
    }

    #[test]
    fn a_refused_charge_is_an_error_record_naming_the_error() {
        let mock = MockTransport::new();
        let client = client(&mock);
        assert!(charge(&client, 7, 500_000).is_err());
        assert!(charge(&client, 8, 0).is_err());
        client.flush().unwrap();

        let errors = mock.by_level(Level::Error);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].error_name.as_deref(), Some("ChargeError"));
        assert_eq!(
            errors[0].data.as_ref().unwrap()["message"],
            "500000 cents is over the limit"
        );
        assert_eq!(
            mock.by_level(Level::Warn)[0].message,
            "empty charge refused"
        );
    }

    #[test]
    fn logging_survives_an_outage_of_the_service() {
        let mock = MockTransport::new();
        mock.fail_next(2, Fault::Unavailable);
        let client = client(&mock);
        charge(&client, 1, 100).unwrap();
        client.flush().unwrap();
        assert_eq!(mock.count(), 1, "delivered after two retries");
        assert_eq!(mock.attempts(), 3);
    }
}
