//! Prometheus metrics (`GET /_ec2lite/metrics`): requests by action and outcome, their
//! latency, how long write transactions hold the single writer, and (gathered at each
//! scrape) the resources stored by type and state, block bytes and import tasks.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BOUNDS: [f64; 14] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// Observations at or under each bound; the last slot counts those above them all.
    buckets: [u64; BOUNDS.len() + 1],
    sum_seconds: f64,
    count: u64,
}

impl Histogram {
    pub fn observe(&mut self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let slot = BOUNDS.iter().position(|bound| seconds <= *bound).unwrap_or(BOUNDS.len());
        self.buckets[slot] += 1;
        self.sum_seconds += seconds;
        self.count += 1;
    }

    /// The `_bucket` (cumulative), `_sum` and `_count` lines of `name{labels}`.
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let separator = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, count) in BOUNDS.iter().zip(&self.buckets) {
            cumulative += count;
            let _ = writeln!(out, "{name}_bucket{{{labels}{separator}le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{separator}le=\"+Inf\"}} {}", self.count);
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum_seconds);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// What the server counts as it answers.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (action, outcome code or `ok`) → answers.
    requests: Mutex<BTreeMap<(String, String), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    write_transactions: Mutex<Histogram>,
}

impl Metrics {
    pub fn record_request(&self, action: &str, outcome: &str, elapsed: Duration) {
        // Unknown actions are one label, so that junk requests cannot grow the maps.
        let action = if crate::actions::is_ec2_action(action) || action.starts_with("AmazonSSM.") {
            action
        } else {
            "(unknown)"
        };
        *self.requests.lock().expect("not poisoned").entry((action.to_string(), outcome.to_string())).or_default() += 1;
        self.latency.lock().expect("not poisoned").entry(action.to_string()).or_default().observe(elapsed);
    }

    pub fn record_write_transaction(&self, held: Duration) {
        self.write_transactions.lock().expect("not poisoned").observe(held);
    }

    /// The counters kept in memory, in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        out.push_str("# HELP ec2lite_requests_total Answers by action and outcome (ok or the EC2 error code).\n");
        out.push_str("# TYPE ec2lite_requests_total counter\n");
        for ((action, outcome), count) in self.requests.lock().expect("not poisoned").iter() {
            let _ = writeln!(out, "ec2lite_requests_total{{action=\"{action}\",outcome=\"{outcome}\"}} {count}");
        }
        out.push_str("# HELP ec2lite_request_duration_seconds Time from request to answer, by action.\n");
        out.push_str("# TYPE ec2lite_request_duration_seconds histogram\n");
        for (action, histogram) in self.latency.lock().expect("not poisoned").iter() {
            histogram.render(out, "ec2lite_request_duration_seconds", &format!("action=\"{action}\""));
        }
        out.push_str("# HELP ec2lite_write_transaction_seconds How long each write transaction held the writer.\n");
        out.push_str("# TYPE ec2lite_write_transaction_seconds histogram\n");
        self.write_transactions.lock().expect("not poisoned").render(out, "ec2lite_write_transaction_seconds", "");
    }
}

/// A gauge family gathered at scrape time: `name{labels} value` lines under one header.
pub fn render_gauges(out: &mut String, name: &str, help: &str, rows: &[(Vec<(&str, String)>, i64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, value) in rows {
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        let _ = writeln!(out, "{name}{{{}}} {value}", labels.join(","));
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_latency_render_as_prometheus_text() {
        let metrics = Metrics::default();
        metrics.record_request("DescribeImages", "ok", Duration::from_micros(300));
        metrics.record_request("DescribeImages", "InvalidAMIID.NotFound", Duration::from_millis(2));
        metrics.record_request("Frobnicate", "InvalidAction", Duration::from_micros(50));
        let mut out = String::new();
        metrics.render(&mut out);
        assert!(out.contains("ec2lite_requests_total{action=\"DescribeImages\",outcome=\"ok\"} 1\n"));
        assert!(out.contains("ec2lite_requests_total{action=\"(unknown)\",outcome=\"InvalidAction\"} 1\n"));
        assert!(out.contains("ec2lite_request_duration_seconds_bucket{action=\"DescribeImages\",le=\"0.0005\"} 1\n"));
        assert!(out.contains("ec2lite_request_duration_seconds_bucket{action=\"DescribeImages\",le=\"0.0025\"} 2\n"));
        assert!(out.contains("ec2lite_request_duration_seconds_count{action=\"DescribeImages\"} 2\n"));
        assert!(out.contains("ec2lite_write_transaction_seconds_count 0\n"));
    }

    #[test]
    fn gauges_escape_their_labels() {
        let mut out = String::new();
        render_gauges(&mut out, "g", "help", &[(vec![("state", "a\"b".to_string())], 3)]);
        assert_eq!(out, "# HELP g help\n# TYPE g gauge\ng{state=\"a\\\"b\"} 3\n");
    }
}
