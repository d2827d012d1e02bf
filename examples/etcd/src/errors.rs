//! The one table of outcomes: which etcd answers prove an op did not happen (`fail`) and
//! which leave it unknown (`info`).

/// What went wrong talking to a member.
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    /// The request could not be sent: nothing reached the member.
    #[error("connect: {0}")]
    Connect(String),
    /// Sent, but no complete answer came back (timeout, reset).
    #[error("transport: {0}")]
    Transport(String),
    /// The member answered with a gRPC status.
    #[error("etcd: code {code}: {message}")]
    Status { code: i64, message: String },
    /// The member answered something we cannot read.
    #[error("bad answer: {0}")]
    BadAnswer(String),
}

/// How an op that got an error ends in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It definitely did not happen.
    Fail,
    /// It may or may not have happened.
    Info,
}

impl EtcdError {
    /// The table. gRPC codes: 3 InvalidArgument, 5 NotFound, 7 PermissionDenied, 8
    /// ResourceExhausted, 9 FailedPrecondition, 11 OutOfRange, 16 Unauthenticated are
    /// refused before a proposal; 14 Unavailable ("no leader") too, as etcd refuses a
    /// proposal without a leader. Everything else (4 DeadlineExceeded, "request timed
    /// out", 1 Canceled, 10 Aborted, 13 Internal, 2 Unknown) may have been committed.
    pub fn outcome(&self) -> Outcome {
        match self {
            EtcdError::Connect(_) => Outcome::Fail,
            EtcdError::Status { code, message } => match code {
                3 | 5 | 7 | 8 | 9 | 11 | 16 => Outcome::Fail,
                14 if message.contains("no leader") => Outcome::Fail,
                _ => Outcome::Info,
            },
            EtcdError::Transport(_) | EtcdError::BadAnswer(_) => Outcome::Info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_unknown_and_refusals_fail() {
        let st = |code, m: &str| EtcdError::Status {
            code,
            message: m.into(),
        };
        assert_eq!(st(14, "etcdserver: no leader").outcome(), Outcome::Fail);
        assert_eq!(
            st(14, "etcdserver: request timed out").outcome(),
            Outcome::Info
        );
        assert_eq!(st(4, "context deadline exceeded").outcome(), Outcome::Info);
        assert_eq!(
            st(3, "etcdserver: key is not provided").outcome(),
            Outcome::Fail
        );
        assert_eq!(
            EtcdError::Connect("refused".into()).outcome(),
            Outcome::Fail
        );
        assert_eq!(
            EtcdError::Transport("reset".into()).outcome(),
            Outcome::Info
        );
    }
}
