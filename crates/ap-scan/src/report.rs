//! Findings, layers and the verdict.

use serde::{Deserialize, Serialize};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Minor.
    Low,
    /// Published with a warning.
    Medium,
    /// Blocks the package.
    High,
}

/// A layer's or the package's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing worth a warning.
    Pass,
    /// Findings worth a warning.
    Warn,
    /// A block-worthy finding.
    Block,
    /// Not run (an earlier layer blocked, or it does not apply).
    Skip,
}

/// One line around a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextLine {
    /// Line number (1-based).
    pub line: usize,
    /// The line's text (at most 200 characters).
    pub text: String,
    /// Whether this is the line of the finding.
    pub highlight: bool,
}

/// Something the scan found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// How serious.
    pub severity: Severity,
    /// What kind (`zip_slip`, `secret`, `pipe_to_shell`, …).
    pub category: String,
    /// The rule that found it.
    pub rule: String,
    /// A sentence a publisher understands.
    pub detail: String,
    /// The file (archive path), when it concerns one.
    pub file: Option<String>,
    /// The line (1-based), when it concerns one.
    pub line: Option<usize>,
    /// The matched text (at most 120 characters; secrets are masked).
    #[serde(rename = "match")]
    pub matched: Option<String>,
    /// Lines around it.
    pub context: Vec<ContextLine>,
}

impl Finding {
    /// A finding about the package or a file as a whole.
    pub fn new(severity: Severity, category: &str, rule: &str, detail: impl Into<String>) -> Self {
        Finding {
            severity,
            category: category.to_owned(),
            rule: rule.to_owned(),
            detail: detail.into(),
            file: None,
            line: None,
            matched: None,
            context: Vec::new(),
        }
    }

    /// The same, about `file`.
    pub fn in_file(mut self, file: &str) -> Self {
        self.file = Some(file.to_owned());
        self
    }
}

/// One layer of the scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// Its name (`archive_safety`, …).
    pub name: String,
    /// Its outcome.
    pub status: Status,
    /// What it found.
    pub findings: Vec<Finding>,
}

impl Layer {
    /// A layer that ran and found `findings`.
    pub fn ran(name: &str, findings: Vec<Finding>) -> Self {
        Layer { name: name.to_owned(), status: verdict(&findings), findings }
    }

    /// A layer that did not run.
    pub fn skipped(name: &str) -> Self {
        Layer { name: name.to_owned(), status: Status::Skip, findings: Vec::new() }
    }
}

/// `block` for any HIGH finding, `warn` for any MEDIUM, else `pass`.
pub fn verdict(findings: &[Finding]) -> Status {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::High) => Status::Block,
        Some(Severity::Medium) => Status::Warn,
        _ => Status::Pass,
    }
}

/// 10 for a clean package, minus 5 per HIGH, 2 per MEDIUM and 1 per LOW finding, at least 0.
pub fn score(findings: &[Finding]) -> u8 {
    let penalty: u32 = findings
        .iter()
        .map(|f| match f.severity {
            Severity::High => 5,
            Severity::Medium => 2,
            Severity::Low => 1,
            Severity::Info => 0,
        })
        .sum();
    10u32.saturating_sub(penalty) as u8
}

/// The outcome of scanning one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `pass`, `warn` or `block`.
    pub status: Status,
    /// 0–10, 10 = clean.
    pub score: u8,
    /// Every finding of every layer, in layer order.
    pub findings: Vec<Finding>,
    /// The layers in order.
    pub layers: Vec<Layer>,
    /// Content hash of the files (docs/API.md, Content hash), when the archive could be read.
    pub content_hash: Option<String>,
}

impl Report {
    /// The report of these layers.
    pub fn of(layers: Vec<Layer>, content_hash: Option<String>) -> Self {
        let findings: Vec<Finding> = layers.iter().flat_map(|l| l.findings.clone()).collect();
        Report {
            status: verdict(&findings),
            score: score(&findings),
            findings,
            layers,
            content_hash,
        }
    }
}
