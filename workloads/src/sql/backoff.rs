//! A pause after a failed connect, so a worker bound to a node that is down does not spin.
//!
//! Ops are paced globally (one stagger shared by every worker), so a worker whose connects
//! fail at once would take most op slots from the workers of healthy nodes and fill the
//! history with `fail`s. Waiting a little before reporting the failure keeps its rate near
//! one op per [`CONNECT_RETRY`]. The op is still `fail` (nothing was sent).

use faultline_core::{Completion, OpType};
use std::time::Duration;

/// How long a worker waits after a connect failed before reporting it.
pub const CONNECT_RETRY: Duration = Duration::from_millis(500);

/// Returns `c` at once, or after [`CONNECT_RETRY`] when it is a failed connect.
pub async fn after_connect_failure(c: Completion) -> Completion {
    let connect_failed = c.kind == OpType::Fail
        && c.error
            .as_deref()
            .is_some_and(|e| e.starts_with("connect:"));
    if connect_failed {
        tokio::time::sleep(CONNECT_RETRY).await;
    }
    c
}
