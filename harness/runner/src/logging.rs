//! Logging: human lines on stderr, everything in the run's harness.log. Nothing logged ever
//! contains a password: endpoints display masked. `FAULTLINE_LOG=debug` shows more.

use std::path::Path;
use tracing_subscriber::fmt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; `log_file` receives a copy of every line.
pub fn init(log_file: Option<&Path>) {
    // fuser logs "Failed to send FUSE reply" at ERROR whenever a mariadbd on a FUSE data dir
    // dies mid-request (io_error, disk_full, kill): expected under disk faults, so off unless
    // FAULTLINE_LOG asks for it.
    let filter = EnvFilter::try_from_env("FAULTLINE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,mysql_async=warn,fuser=off"));
    // Lines go above the progress line when one is drawn.
    let stderr = fmt::layer()
        .with_writer(|| crate::progress::LogWriter)
        .with_target(false);
    let file = log_file
        .and_then(|p| std::fs::File::create(p).ok())
        .map(|f| {
            fmt::layer()
                .with_writer(std::sync::Mutex::new(f))
                .with_ansi(false)
        });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file)
        .try_init();
}
