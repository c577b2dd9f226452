//! Counters for monitoring, rendered in the Prometheus text format on the admin socket. They
//! count events and states, never anything a reporter wrote.

use crate::adminapi::CaseView;
use crate::deadlines::ClockState;
use crate::record::{Category, Status};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds (seconds) of the upload duration histogram.
const BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// The portal's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    submissions: [AtomicU64; 3],
    follow_ups: AtomicU64,
    bytes: AtomicU64,
    files: AtomicU64,
    rejections: Mutex<BTreeMap<&'static str, u64>>,
    duration_buckets: [AtomicU64; BUCKETS.len()],
    duration_count: AtomicU64,
    duration_micros: AtomicU64,
}

fn category_index(c: Category) -> usize {
    match c {
        Category::Vulnerability => 0,
        Category::DataBreach => 1,
        Category::Incident => 2,
    }
}

impl Metrics {
    /// A stored submission (or follow-up) with its plaintext bytes, files and upload time.
    pub fn stored(
        &self,
        category: Category,
        follow_up: bool,
        bytes: u64,
        files: u64,
        took: Duration,
    ) {
        if follow_up {
            self.follow_ups.fetch_add(1, Relaxed);
        } else {
            self.submissions[category_index(category)].fetch_add(1, Relaxed);
        }
        self.bytes.fetch_add(bytes, Relaxed);
        self.files.fetch_add(files, Relaxed);
        let secs = took.as_secs_f64();
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.duration_buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.duration_count.fetch_add(1, Relaxed);
        self.duration_micros
            .fetch_add(took.as_micros().min(u128::from(u64::MAX)) as u64, Relaxed);
    }

    /// A refused request, by its stable error code.
    pub fn rejected(&self, code: &'static str) {
        let mut map = match self.rejections.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        *map.entry(code).or_default() += 1;
    }

    /// The text exposition: counters, plus gauges from the current cases and storage.
    pub fn render(&self, cases: &[CaseView], free_bytes: u64, uploads_running: usize) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "# HELP sealdrop_submissions_total Submissions stored since start, by category.\n# TYPE sealdrop_submissions_total counter"
        );
        for c in Category::ALL {
            let _ = writeln!(
                o,
                "sealdrop_submissions_total{{category=\"{c}\"}} {}",
                self.submissions[category_index(c)].load(Relaxed)
            );
        }
        let simple = |o: &mut String, name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(
                o,
                "# HELP sealdrop_{name} {help}\n# TYPE sealdrop_{name} {kind}\nsealdrop_{name} {v}"
            );
        };
        simple(
            &mut o,
            "follow_ups_total",
            "counter",
            "Follow-ups stored since start.",
            self.follow_ups.load(Relaxed),
        );
        simple(
            &mut o,
            "received_bytes_total",
            "counter",
            "Plaintext bytes of stored uploads since start.",
            self.bytes.load(Relaxed),
        );
        simple(
            &mut o,
            "received_files_total",
            "counter",
            "Files stored since start.",
            self.files.load(Relaxed),
        );
        let _ = writeln!(
            o,
            "# HELP sealdrop_rejections_total Refused requests since start, by error code.\n# TYPE sealdrop_rejections_total counter"
        );
        if let Ok(map) = self.rejections.lock() {
            for (code, n) in map.iter() {
                let _ = writeln!(o, "sealdrop_rejections_total{{code=\"{code}\"}} {n}");
            }
        }
        let _ = writeln!(
            o,
            "# HELP sealdrop_upload_duration_seconds Time from the first byte to the durable commit.\n# TYPE sealdrop_upload_duration_seconds histogram"
        );
        for (i, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                o,
                "sealdrop_upload_duration_seconds_bucket{{le=\"{le}\"}} {}",
                self.duration_buckets[i].load(Relaxed)
            );
        }
        let count = self.duration_count.load(Relaxed);
        let _ = writeln!(
            o,
            "sealdrop_upload_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            o,
            "sealdrop_upload_duration_seconds_sum {}",
            self.duration_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(o, "sealdrop_upload_duration_seconds_count {count}");

        let _ = writeln!(
            o,
            "# HELP sealdrop_cases Cases (not follow-ups, not deleted) by state.\n# TYPE sealdrop_cases gauge"
        );
        let live: Vec<&CaseView> = cases
            .iter()
            .filter(|v| v.record.parent.is_none() && v.record.purged_at.is_none())
            .collect();
        for s in Status::ALL {
            let n = live.iter().filter(|v| v.record.status == s).count();
            let _ = writeln!(o, "sealdrop_cases{{status=\"{s}\"}} {n}");
        }
        let _ = writeln!(
            o,
            "# HELP sealdrop_overdue_clocks Running deadline clocks past due, by clock.\n# TYPE sealdrop_overdue_clocks gauge"
        );
        for kind in ["acknowledge", "assess", "resolve", "notify-authority"] {
            let n = live
                .iter()
                .flat_map(|v| &v.clocks)
                .filter(|c| c.kind.as_str() == kind && c.state == ClockState::Overdue)
                .count();
            let _ = writeln!(o, "sealdrop_overdue_clocks{{clock=\"{kind}\"}} {n}");
        }
        simple(
            &mut o,
            "free_bytes",
            "gauge",
            "Bytes free on the data file system.",
            free_bytes,
        );
        simple(
            &mut o,
            "uploads_running",
            "gauge",
            "Uploads in progress.",
            uploads_running as u64,
        );
        o
    }
}
