//! The terminal: progress bars for transfers (drawn on standard error, only when it is a
//! terminal) and colour for verdicts (only on a terminal, and never when `NO_COLOR` is set).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A colour for a word.
#[derive(Debug, Clone, Copy)]
pub enum Colour {
    /// Good news.
    Green,
    /// Worth a look.
    Yellow,
    /// Bad news.
    Red,
}

/// Whether standard output takes colour: a terminal, and `NO_COLOR` unset or empty.
fn colour_on() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// `text` in `colour` when standard output takes colour, else as it is.
pub fn paint(text: &str, colour: Colour) -> String {
    if !colour_on() {
        return text.to_owned();
    }
    let code = match colour {
        Colour::Green => 32,
        Colour::Yellow => 33,
        Colour::Red => 31,
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// A scan verdict (`pass`, `warn`, `block`, `pending`) in its colour.
pub fn verdict(status: &str) -> String {
    match status {
        "pass" => paint(status, Colour::Green),
        "warn" => paint(status, Colour::Yellow),
        "block" => paint(status, Colour::Red),
        _ => status.to_owned(),
    }
}

/// One finding of a scan as a line: severity (coloured by how grave), words, and the
/// file and line it is about.
pub fn finding(finding: &serde_json::Value) -> String {
    let text = |key: &str| finding[key].as_str().unwrap_or("").to_owned();
    let place = match (finding["file"].as_str(), finding["line"].as_i64()) {
        (Some(file), Some(line)) => format!(" ({file}:{line})"),
        (Some(file), None) => format!(" ({file})"),
        _ => String::new(),
    };
    let severity = text("severity");
    let padded = format!("{severity:<8}");
    let severity = match severity.to_ascii_lowercase().as_str() {
        "critical" | "high" => paint(&padded, Colour::Red),
        "medium" => paint(&padded, Colour::Yellow),
        _ => padded,
    };
    format!("  {severity} {}{place}", text("detail"))
}

/// A byte-count bar for a transfer called `what` (hidden when standard error is not a
/// terminal); its length is set when the size is known.
pub fn transfer(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}

/// The callback a transfer reports to: moves `bar`.
pub fn follow(bar: &ProgressBar) -> impl FnMut(u64, Option<u64>) + Send + 'static {
    let bar = bar.clone();
    move |done, total| {
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_position(done);
    }
}
