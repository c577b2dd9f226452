//! The progress bar of `sealdrop send` across all files and pieces (the only user of
//! indicatif). Drawn on standard error, and only when it is a terminal.

use indicatif::{ProgressBar, ProgressStyle};

/// Bytes confirmed by the portal, out of all files' bytes.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar for `total` bytes.
    pub fn new(total: u64) -> Bar {
        let bar = ProgressBar::new(total);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:20!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar { bar }
    }

    /// The file `name`, whose bytes start at `base` of the total, stands at `offset` (what the
    /// portal confirmed).
    pub fn set(&self, name: &str, base: u64, offset: u64) {
        self.bar.set_message(name.to_owned());
        self.bar.set_position(base + offset);
    }

    /// Prints `line` on standard error above the bar.
    pub fn note(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
