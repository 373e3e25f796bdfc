//! Forwarding the SDK's `tracing` events to the app's logger.
//!
//! The SDK never logs secrets (PINs, shares, nonces: ARCHITECTURE.md, invariant 3), so
//! whatever reaches the app's [`Logger`] is safe to keep.

use crate::errors::{HookError, InksealError, poisoned};
use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock, RwLock};
use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

/// How much to log, from the least to the most verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    /// Failures.
    Error,
    /// Things that went wrong but were handled (a retried request...).
    Warn,
    /// Milestones (a key created...).
    Info,
    /// Details for debugging.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    fn verbosity(self) -> u8 {
        match self {
            LogLevel::Error => 1,
            LogLevel::Warn => 2,
            LogLevel::Info => 3,
            LogLevel::Debug => 4,
            LogLevel::Trace => 5,
        }
    }
}

impl From<&tracing::Level> for LogLevel {
    fn from(l: &tracing::Level) -> Self {
        match *l {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warn,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::DEBUG => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }
}

/// The app's logger (Logcat, `os_log`...). Called on whichever thread logged; exceptions it
/// throws are ignored (a log line is never worth failing an operation).
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// One event: its level, its target (the Rust module, e.g. `inkseal_sdk::client`) and its
    /// message with its fields.
    fn log(&self, level: LogLevel, target: String, message: String) -> Result<(), HookError>;
}

type Sink = (Arc<dyn Logger>, LogLevel);

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

thread_local! {
    /// Set while this thread is inside the app's logger, so that a logger that calls back
    /// into the library does not recurse.
    static IN_LOGGER: Cell<bool> = const { Cell::new(false) };
}

fn current_sink() -> Option<Sink> {
    SINK.read().ok().and_then(|s| s.clone())
}

/// Sends the library's log events at `level` and below to `logger`, replacing any previous
/// logger. The first call installs the forwarding as the process's `tracing` subscriber; it
/// fails with `InvalidInput` if something else installed one first.
#[uniffi::export]
pub fn set_logger(logger: Arc<dyn Logger>, level: LogLevel) -> Result<(), InksealError> {
    let installed = INSTALLED.get_or_init(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Forward))
            .map_err(|e| e.to_string())
    });
    if let Err(e) = installed {
        return Err(InksealError::InvalidInput {
            detail: format!("another tracing subscriber is installed: {e}"),
        });
    }
    *SINK.write().map_err(|_| poisoned("the logger"))? = Some((logger, level));
    tracing::callsite::rebuild_interest_cache();
    Ok(())
}

/// Stops forwarding log events.
#[uniffi::export]
pub fn clear_logger() {
    if let Ok(mut sink) = SINK.write() {
        *sink = None;
    }
}

/// The layer that forwards events to the current sink.
struct Forward;

impl<S: Subscriber> Layer<S> for Forward {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // The level can change at any time: ask `enabled` for every event.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        current_sink().is_some_and(|(_, level)| {
            metadata.is_span() || LogLevel::from(metadata.level()).verbosity() <= level.verbosity()
        })
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if IN_LOGGER.with(Cell::get) {
            return;
        }
        let Some((logger, level)) = current_sink() else {
            return;
        };
        let event_level = LogLevel::from(event.metadata().level());
        if event_level.verbosity() > level.verbosity() {
            return;
        }
        let mut message = Message::default();
        event.record(&mut message);
        IN_LOGGER.with(|f| f.set(true));
        // A throwing logger is ignored: see `Logger`.
        let _ = logger.log(
            event_level,
            event.metadata().target().to_owned(),
            message.finish(),
        );
        IN_LOGGER.with(|f| f.set(false));
    }
}

/// `message key=value key=value`.
#[derive(Default)]
struct Message {
    text: String,
    fields: String,
}

impl Message {
    fn finish(self) -> String {
        if self.fields.is_empty() {
            self.text
        } else if self.text.is_empty() {
            self.fields.trim_start().to_owned()
        } else {
            self.text + &self.fields
        }
    }
}

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.text.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.text, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<(LogLevel, String, String)>>);

    impl Logger for Collect {
        fn log(&self, level: LogLevel, target: String, message: String) -> Result<(), HookError> {
            self.0.lock().expect("lock").push((level, target, message));
            Err(HookError::Failed {
                reason: "a throwing logger is ignored".into(),
            })
        }
    }

    #[test]
    fn events_reach_the_logger_at_its_level() {
        let logger = Arc::new(Collect::default());
        set_logger(logger.clone(), LogLevel::Info).expect("installed");
        tracing::info!(attempt = 2, "request failed; retrying");
        tracing::debug!("too verbose");
        set_logger(logger.clone(), LogLevel::Debug).expect("replaced");
        tracing::debug!("now shown");
        clear_logger();
        tracing::error!("not forwarded");
        // Other tests run in parallel threads: keep this test's events only.
        let seen: Vec<_> = logger
            .0
            .lock()
            .expect("lock")
            .iter()
            .filter(|(_, target, _)| target == module_path!())
            .cloned()
            .collect();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!(seen[0].0, LogLevel::Info);
        assert_eq!(seen[0].2, "request failed; retrying attempt=2");
        assert_eq!(
            (seen[1].0, seen[1].2.as_str()),
            (LogLevel::Debug, "now shown")
        );
    }
}
