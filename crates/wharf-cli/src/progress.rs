//! How a copy shows its progress: one indicatif bar per blob when stderr is a terminal, one
//! plain line per blob otherwise (skopeo's `Copying blob sha256:… done`, readable in CI logs),
//! nothing when quiet. The copy pipeline only calls a [`wharf_transport::Progress`] callback;
//! everything shown lives here.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write};
use std::sync::{Arc, Mutex, PoisonError};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use wharf_oci::Digest;
use wharf_transport::{BlobKind, Event, Progress};

/// What to show while copying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// Nothing (`--quiet`).
    Quiet,
    /// One line per blob on stdout.
    Lines,
    /// A bar per blob on stderr.
    Bars,
}

impl Display {
    /// Bars when stderr is a terminal, lines otherwise, nothing when `quiet`.
    pub fn detect(quiet: bool) -> Self {
        if quiet {
            Self::Quiet
        } else if std::io::stderr().is_terminal() {
            Self::Bars
        } else {
            Self::Lines
        }
    }

    /// The callback for [`wharf_transport::CopyOptions::progress`]; `None` when quiet.
    pub fn progress(self) -> Option<Progress> {
        match self {
            Self::Quiet => None,
            Self::Lines => Some(Arc::new(|e: &Event| {
                if let Some(line) = line(e) {
                    // A closed stdout must not fail the copy.
                    let _ = writeln!(std::io::stdout().lock(), "{line}");
                }
            })),
            Self::Bars => {
                let bars = Bars::new(ProgressDrawTarget::stderr());
                Some(Arc::new(move |e: &Event| bars.event(e)))
            }
        }
    }
}

fn noun(kind: BlobKind) -> &'static str {
    match kind {
        BlobKind::Config => "config",
        BlobKind::Layer => "blob",
    }
}

/// The plain line for an event, as skopeo writes it without a terminal; `None` for events
/// that only move a bar.
pub fn line(e: &Event) -> Option<String> {
    Some(match e {
        Event::BlobSkipped { digest, kind, .. } => {
            format!("Copying {} {digest} skipped: already exists", noun(*kind))
        }
        Event::BlobMounted { digest, kind, .. } => {
            format!("Copying {} {digest} skipped: mounted", noun(*kind))
        }
        Event::BlobDone { digest, kind, .. } => format!("Copying {} {digest} done", noun(*kind)),
        Event::BlobRetry {
            digest,
            attempt,
            error,
        } => format!("Copying blob {digest} failed, retry {attempt}: {error}"),
        Event::ManifestWritten { .. } => "Writing manifest to image destination".into(),
        Event::BlobStarted { .. } | Event::BlobProgress { .. } => return None,
    })
}

/// One bar per blob in flight, lines above them for everything else.
struct Bars {
    multi: MultiProgress,
    in_flight: Mutex<HashMap<Digest, ProgressBar>>,
    style: ProgressStyle,
}

fn short(d: &Digest) -> String {
    d.digest().chars().take(12).collect()
}

impl Bars {
    fn new(target: ProgressDrawTarget) -> Self {
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        Self {
            multi: MultiProgress::with_draw_target(target),
            in_flight: Mutex::new(HashMap::new()),
            style,
        }
    }

    fn event(&self, e: &Event) {
        let mut bars = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match e {
            Event::BlobStarted { digest, size, kind } => {
                let bar = self.multi.add(ProgressBar::new(*size));
                bar.set_style(self.style.clone());
                bar.set_prefix(format!("Copying {} {}", noun(*kind), short(digest)));
                bars.insert(digest.clone(), bar);
            }
            Event::BlobProgress { digest, done } => {
                if let Some(b) = bars.get(digest) {
                    b.set_position(*done);
                }
            }
            Event::BlobDone { digest, .. } => {
                if let Some(b) = bars.remove(digest) {
                    b.finish();
                }
            }
            other => {
                if let Some(l) = line(other) {
                    let _ = self.multi.println(l);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_like_skopeo() {
        let d = wharf_oci::digest::sha256(b"x");
        let done = Event::BlobDone {
            digest: d.clone(),
            size: 1,
            kind: BlobKind::Layer,
        };
        assert_eq!(line(&done).unwrap(), format!("Copying blob {d} done"));
        let cfg = Event::BlobSkipped {
            digest: d.clone(),
            size: 1,
            kind: BlobKind::Config,
        };
        assert_eq!(
            line(&cfg).unwrap(),
            format!("Copying config {d} skipped: already exists")
        );
        assert!(line(&Event::BlobProgress { digest: d, done: 1 }).is_none());
        assert_eq!(Display::detect(true), Display::Quiet);
        assert!(Display::Quiet.progress().is_none());
    }

    #[test]
    fn bars_follow_blobs() {
        let bars = Bars::new(ProgressDrawTarget::hidden());
        let d = wharf_oci::digest::sha256(b"y");
        bars.event(&Event::BlobStarted {
            digest: d.clone(),
            size: 100,
            kind: BlobKind::Layer,
        });
        bars.event(&Event::BlobProgress {
            digest: d.clone(),
            done: 40,
        });
        let pos = bars.in_flight.lock().unwrap()[&d].position();
        assert_eq!(pos, 40);
        bars.event(&Event::BlobDone {
            digest: d,
            size: 100,
            kind: BlobKind::Layer,
        });
        assert!(bars.in_flight.lock().unwrap().is_empty());
    }
}
