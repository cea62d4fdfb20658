//! Progress bars on stderr (indicatif), hidden when stderr is not a terminal.

use std::sync::Mutex;

use dowse_engine::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar that appears on `begin` and disappears on `end`.
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    pub fn new() -> Bar {
        Bar {
            bar: Mutex::new(None),
        }
    }
}

impl Progress for Bar {
    fn begin(&self, title: &str, total: u64) {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        // Embedding counts chunks (and takes long: the rate and the time
        // left matter most there); indexing counts files.
        let unit = if title == "embedding" || title == "publishing" {
            "chunks"
        } else {
            "files"
        };
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{msg:>10}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)"
            ))
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(title.to_owned());
        *self.bar.lock().expect("bar lock") = Some(bar);
    }

    fn advance(&self, done: u64) {
        if let Some(bar) = self.bar.lock().expect("bar lock").as_ref() {
            bar.inc(done);
        }
    }

    fn end(&self) {
        if let Some(bar) = self.bar.lock().expect("bar lock").take() {
            bar.finish_and_clear();
        }
    }
}
