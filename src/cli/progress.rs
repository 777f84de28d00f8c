//! Progress bars (indicatif) on stderr, installed only when stderr is a terminal: rows or
//! persons per second while an import, a run or an export works. Under cron, systemd or a pipe
//! nothing is drawn (no carriage returns in a log); the summary lines are printed either way.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;

struct Bars {
    bar: Mutex<Option<ProgressBar>>,
}

impl crate::progress::Sink for Bars {
    fn start(&self, what: &str, unit: &'static str, total: Option<u64>) {
        let bar = match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let template = match total {
            Some(_) => format!("{{msg}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)"),
            None => format!("{{spinner}} {{msg}}: {{pos}} {unit} ({{per_sec}})"),
        };
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.replace(bar) {
                old.finish_and_clear();
            }
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.inc(n);
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}

/// Draw progress bars when stderr is a terminal and `--json` is not asked for.
pub fn install_if_terminal(json: bool) {
    if !json && std::io::stderr().is_terminal() {
        crate::progress::install(Box::new(Bars { bar: Mutex::new(None) }));
    }
}
