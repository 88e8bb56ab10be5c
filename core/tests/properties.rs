//! Invariants under random interleavings of logging, flows, flushes and
//! transport faults, with one to four batches in flight: every accepted
//! record is delivered exactly once; the batches, taken in the order they
//! were sent, hold the records in queue order; a batch is stored after at
//! most `max_in_flight - 1` batches sent after it (with one in flight,
//! everything is stored in queue order); step indices are sequential;
//! filtered records are never sent; the counters add up.

mod common;
mod double;

use std::collections::HashMap;
use std::time::Duration;

use double::{Fault, MockTransport};
use proptest::prelude::*;
use serde_json::json;
use timber_core::{Client, Flow, Level, LogEntry, LogOptions, OverflowPolicy};

/// Producer 0 and flow 0 log through the plain methods (`info` and
/// friends, with data and tags), the others through whole `LogEntry`s, so
/// that both kinds of queue entry interleave.
trait Logger {
    fn log_either(&self, plain: bool, level: Level, message: &str);
}

impl Logger for Client {
    fn log_either(&self, plain: bool, level: Level, message: &str) {
        if !plain {
            self.log(LogEntry::new(level, message));
            return;
        }
        let (data, tags) = (json!({"m": message}), LogOptions::tags(["p"]));
        match level {
            Level::Debug => self.debug(message, data, tags),
            Level::Info => self.info(message, data, tags),
            Level::Warn => self.warn(message, data, tags),
            Level::Error => self.error(message, data, tags),
        };
    }
}

impl Logger for Flow {
    fn log_either(&self, plain: bool, level: Level, message: &str) {
        if !plain {
            self.log(LogEntry::new(level, message));
            return;
        }
        match level {
            Level::Debug => self.debug(message, json!({"m": 1}), None),
            Level::Info => self.info(message, json!({"m": 1}), None),
            Level::Warn => self.warn(message, (), None),
            Level::Error => self.error(message, (), None),
        };
    }
}

#[derive(Clone, Debug)]
enum Op {
    Log { producer: usize, level: Level },
    FlowLog { flow: usize, level: Level },
    Flush,
    Fault(Fault),
}

fn level() -> impl Strategy<Value = Level> {
    prop::sample::select(Level::ALL.to_vec())
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::Unavailable),
        Just(Fault::Connection),
        Just(Fault::LostResponse),
        (0u64..3).prop_map(|ms| Fault::Delay(Duration::from_millis(ms))),
        (1u64..3).prop_map(|ms| Fault::RetryAfter(Duration::from_millis(ms))),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..3, level()).prop_map(|(producer, level)| Op::Log { producer, level }),
        4 => (0usize..2, level()).prop_map(|(flow, level)| Op::FlowLog { flow, level }),
        1 => Just(Op::Flush),
        1 => fault().prop_map(Op::Fault),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn exactly_once_in_order_with_sequential_steps(
        ops in prop::collection::vec(op(), 1..120),
        batch_size in 1usize..8,
        extra_records in 0usize..8,
        in_flight in 1usize..5,
        min_level in level(),
    ) {
        let order = common::SendOrder::default();
        let mock = order.mock.clone();
        let errors = common::Errors::default();
        let client = common::builder(&mock, &errors)
            .shared_transport(std::sync::Arc::new(order.clone()))
            .batch_size(batch_size)
            .max_batch_records(batch_size + extra_records)
            .max_in_flight(in_flight)
            .min_level(min_level)
            .queue_capacity(10_000)
            .build()
            .unwrap();
        let flows = [client.flow("a").unwrap(), client.flow("b").unwrap()];
        let mut expected: Vec<String> = Vec::new();
        let mut counters = [0usize; 3];
        for (i, op) in ops.iter().enumerate() {
            match op {
                Op::Log { producer, level } => {
                    let message = format!("p{producer}-{}", counters[*producer]);
                    counters[*producer] += 1;
                    client.log_either(*producer == 0, *level, &message);
                    if *level >= min_level {
                        expected.push(message);
                    }
                }
                Op::FlowLog { flow, level } => {
                    let message = format!("f{flow}-{i}");
                    flows[*flow].log_either(*flow == 0, *level, &message);
                    if *level >= min_level {
                        expected.push(message);
                    }
                }
                // Each fault costs at most one retry of the three, so the
                // pipeline always recovers: nothing may be lost.
                Op::Flush => { let _ = client.flush(); }
                Op::Fault(f) => { mock.push_fault(f.clone()); }
            }
        }
        // Faults left unused must not fail the final flush: clear them.
        let outcome = client.flush();
        mock.clear_faults();
        if outcome.is_err() {
            client.flush().unwrap();
        }
        let sent: Vec<String> = mock.records().into_iter().map(|r| r.message).collect();

        // Exactly once.
        let mut seen = HashMap::new();
        for m in &sent {
            *seen.entry(m.clone()).or_insert(0) += 1;
        }
        prop_assert!(seen.values().all(|n| *n == 1), "duplicates: {:?}", seen);
        let mut a = sent.clone();
        a.sort();
        let mut b = expected.clone();
        b.sort();
        prop_assert_eq!(a, b, "accepted set differs from delivered set");
        // Batches in the order they were sent hold the records in queue
        // order, and overtake each other only within the window.
        let (in_send_order, overtaken) = order.messages_in_send_order();
        prop_assert_eq!(&in_send_order, &expected);
        prop_assert!(overtaken < in_flight, "a batch overtaken by {} batches", overtaken);
        if in_flight == 1 {
            prop_assert_eq!(&sent, &expected);
        }
        // Sequential steps per flow, in queue order; each step stored once.
        for flow in &flows {
            let steps = |records: Vec<String>| -> Vec<u32> {
                let by_message: HashMap<String, u32> = mock.records().into_iter()
                    .filter(|r| r.flow_id.as_deref() == Some(flow.id()))
                    .map(|r| (r.message, r.step_index.unwrap()))
                    .collect();
                records.iter().filter_map(|m| by_message.get(m).copied()).collect()
            };
            let in_queue_order = steps(in_send_order.clone());
            prop_assert_eq!(in_queue_order.clone(), (0..in_queue_order.len() as u32).collect::<Vec<_>>());
        }
        let stats = client.stats();
        prop_assert_eq!(stats.accepted, stats.sent + stats.pending + stats.dropped + stats.lost);
        prop_assert_eq!(stats.sent as usize, expected.len());
        prop_assert_eq!(stats.pending, 0);
    }

    #[test]
    fn a_shared_flow_never_duplicates_steps_across_threads(threads in 2usize..5, per_thread in 1usize..60) {
        let mock = MockTransport::new();
        let (client, _) = common::client(&mock);
        let flow = client.flow("shared").unwrap();
        std::thread::scope(|s| {
            for t in 0..threads {
                let flow = flow.clone();
                s.spawn(move || {
                    for i in 0..per_thread {
                        flow.info(format!("t{t}-{i}"), (), None);
                    }
                });
            }
        });
        client.flush().unwrap();
        let records = mock.records();
        let steps: Vec<u32> = records.iter().map(|r| r.step_index.unwrap()).collect();
        prop_assert_eq!(steps, (0..(threads * per_thread) as u32).collect::<Vec<_>>());
        // Per-producer order holds within the flow.
        for t in 0..threads {
            let mine: Vec<String> = records.iter().map(|r| r.message.clone())
                .filter(|m| m.starts_with(&format!("t{t}-"))).collect();
            let want: Vec<String> = (0..per_thread).map(|i| format!("t{t}-{i}")).collect();
            prop_assert_eq!(mine, want);
        }
    }

    #[test]
    fn a_bounded_queue_only_loses_what_it_counts(
        n in 1usize..200,
        capacity in 1usize..20,
        in_flight in 1usize..5,
        policy in prop::sample::select(vec![
            OverflowPolicy::DropNewest,
            OverflowPolicy::DropOldest,
            OverflowPolicy::Block { max_wait: Duration::from_millis(1) },
        ]),
    ) {
        let order = common::SendOrder::default();
        let mock = order.mock.clone();
        let errors = common::Errors::default();
        mock.push_fault(Fault::Delay(Duration::from_millis(5)));
        let client = common::builder(&mock, &errors)
            .shared_transport(std::sync::Arc::new(order.clone()))
            .batch_size(1)
            .queue_capacity(capacity)
            .max_in_flight(in_flight)
            .overflow(policy)
            .build()
            .unwrap();
        for i in 0..n {
            client.info(format!("m{i}"), (), None);
        }
        client.flush().unwrap();
        let stats = client.stats();
        prop_assert_eq!(stats.accepted as usize, n);
        prop_assert_eq!(stats.sent as usize + stats.dropped as usize, n);
        prop_assert_eq!(mock.count(), stats.sent as usize);
        // What was delivered is in order, without duplicates.
        let (in_send_order, overtaken) = order.messages_in_send_order();
        let idx: Vec<usize> = in_send_order.iter().map(|m| m[1..].parse().unwrap()).collect();
        prop_assert!(idx.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(overtaken < in_flight);
        // Every drop was reported, in totals that add up.
        let reported: u64 = errors.all().iter().map(|e| match e {
            timber_core::Error::Dropped { records, .. } => *records,
            _ => 0,
        }).sum();
        prop_assert_eq!(reported, stats.dropped);
    }
}
