//! The report: an aligned table for the terminal and the same figures as markdown for
//! docs/PERFORMANCE.md.

use std::fmt::Write as _;
use std::time::Duration;

use crate::measure::Stats;

/// One line: a workload's product figures beside its raw baseline from the same run. A
/// reference line (the naive join) has raw figures only.
#[derive(Debug, Clone)]
pub struct BenchRow {
    /// The target in PERFORMANCE_TARGETS ("P2", "P3", …).
    pub id: &'static str,
    pub workload: String,
    pub product: Option<Stats>,
    pub raw: Stats,
}

impl BenchRow {
    /// Product p50 over raw p50.
    pub fn ratio(&self) -> Option<f64> {
        let raw = self.raw.p50.as_secs_f64();
        self.product
            .as_ref()
            .filter(|_| raw > 0.0)
            .map(|p| p.p50.as_secs_f64() / raw)
    }
}

/// Building the demo city, when the store was empty.
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub persons: u64,
    pub households: u64,
    pub elapsed: Duration,
    pub persons_per_sec: f64,
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Which bench: "registry bench", "campaign bench".
    pub title: &'static str,
    /// What the product lines go through.
    pub product: &'static str,
    /// "sqlite" or "postgres".
    pub backend: &'static str,
    /// The store, as `StorageConfig::describe` puts it (no password).
    pub store: String,
    pub persons: u64,
    pub build: Option<BuildReport>,
    /// What was measured on: the district, community, grid and tag picked.
    pub targets: String,
    /// How the raw lines were measured.
    pub baseline: String,
    pub rows: Vec<BenchRow>,
}

pub(crate) fn duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.1} µs")
    } else if us < 1e6 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

pub(crate) fn rate(ops: f64) -> String {
    if ops >= 100.0 {
        format!("{ops:.0}")
    } else {
        format!("{ops:.1}")
    }
}

const HEADER: [&str; 10] = [
    "workload",
    "rows",
    "n",
    "product p50",
    "product p99",
    "product ops/s",
    "raw p50",
    "raw p99",
    "raw ops/s",
    "product/raw",
];

impl BenchReport {
    fn cells(&self) -> Vec<[String; 10]> {
        let dash = || "—".to_owned();
        self.rows
            .iter()
            .map(|r| {
                let (pp50, pp99, pops, n) = match &r.product {
                    Some(p) => (
                        duration(p.p50),
                        duration(p.p99),
                        rate(p.ops_per_sec),
                        p.samples,
                    ),
                    None => (dash(), dash(), dash(), r.raw.samples),
                };
                let rows = r.product.as_ref().unwrap_or(&r.raw).rows_per_op;
                [
                    r.workload.clone(),
                    format!("{rows:.0}"),
                    n.to_string(),
                    pp50,
                    pp99,
                    pops,
                    duration(r.raw.p50),
                    duration(r.raw.p99),
                    rate(r.raw.ops_per_sec),
                    r.ratio().map_or_else(dash, |x| format!("{x:.2}×")),
                ]
            })
            .collect()
    }

    fn heading(&self) -> String {
        let mut s = format!(
            "{}: {} ({}), {} persons\n{}\n{}; product = {}; one thread, sequential\n",
            self.title,
            self.backend,
            self.store,
            self.persons,
            self.targets,
            self.baseline,
            self.product
        );
        if let Some(b) = &self.build {
            let _ = writeln!(
                s,
                "demo city built: {} persons, {} households in {:.1} s ({:.0} persons/s)",
                b.persons,
                b.households,
                b.elapsed.as_secs_f64(),
                b.persons_per_sec
            );
        }
        s
    }

    /// Notes under the table: the naive join against the covering index, row mismatches.
    fn notes(&self) -> String {
        let mut s = String::new();
        let covering = self
            .rows
            .iter()
            .find(|r| r.id == "P3" && r.product.is_some());
        let naive = self
            .rows
            .iter()
            .find(|r| r.id == "P3" && r.product.is_none());
        if let (Some(c), Some(n)) = (covering, naive) {
            let x = n.raw.p50.as_secs_f64() / c.raw.p50.as_secs_f64().max(f64::MIN_POSITIVE);
            let _ = writeln!(
                s,
                "naive join p50 is {x:.1}× the raw covering-index query (persons' tags only)."
            );
        }
        for r in &self.rows {
            if let Some(p) = &r.product
                && (p.rows_per_op - r.raw.rows_per_op).abs() > 0.5
            {
                let _ = writeln!(
                    s,
                    "note: {}: product returned {:.1} rows per op, raw {:.1}",
                    r.workload, p.rows_per_op, r.raw.rows_per_op
                );
            }
        }
        s
    }

    /// An aligned plain-text table with its heading.
    pub fn table(&self) -> String {
        let cells = self.cells();
        let mut widths = HEADER.map(|h| h.chars().count());
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |row: &[String]| {
            let mut s = String::new();
            for (i, (c, w)) in row.iter().zip(widths).enumerate() {
                let pad = w - c.chars().count();
                if i == 0 {
                    let _ = write!(s, "{c}{}", " ".repeat(pad));
                } else {
                    let _ = write!(s, "  {}{c}", " ".repeat(pad));
                }
            }
            s.push('\n');
            s
        };
        let mut s = self.heading();
        s.push_str(&line(&HEADER.map(str::to_owned)));
        let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
        s.push_str(&"-".repeat(total));
        s.push('\n');
        for row in &cells {
            s.push_str(&line(row));
        }
        s.push_str(&self.notes());
        s
    }

    /// The same figures as a markdown table.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        for l in self.heading().lines() {
            let _ = writeln!(s, "{l}  ");
        }
        s.push('\n');
        let _ = writeln!(s, "| {} |", HEADER.join(" | "));
        let _ = writeln!(s, "|---|{}", "---:|".repeat(HEADER.len() - 1));
        for row in self.cells() {
            let _ = writeln!(s, "| {} |", row.join(" | "));
        }
        let notes = self.notes();
        if !notes.is_empty() {
            s.push('\n');
            s.push_str(&notes);
        }
        s
    }
}
