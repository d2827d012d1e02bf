//! How a client reaches a node (host, port, user, password, database), with the password
//! masked whenever it is shown. Recipes make endpoints; workloads' drivers use them; the
//! runner records them (masked) in test.json without knowing what kind of system they are.

use serde::Serialize;
use std::fmt;

/// How a client reaches one node over TCP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub node: String,
    /// The URL scheme clients speak: `mysql`, `http` (etcd's gateway), ...
    pub scheme: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    #[serde(skip)]
    pub password: String,
    pub database: String,
}

impl Endpoint {
    /// The URL with its password, for the driver only. Never log it.
    pub fn url_with_secret(&self) -> String {
        if self.user.is_empty() && self.password.is_empty() {
            return self.to_string();
        }
        format!(
            "{}://{}:{}@{}:{}/{}",
            self.scheme, self.user, self.password, self.host, self.port, self.database
        )
    }
}

/// Displays the URL with the password masked.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.user.is_empty() && self.password.is_empty() {
            return write!(
                f,
                "{}://{}:{}/{}",
                self.scheme, self.host, self.port, self.database
            );
        }
        write!(
            f,
            "{}://{}:***@{}:{}/{}",
            self.scheme, self.user, self.host, self.port, self.database
        )
    }
}

/// The endpoint of `node` among `endpoints`, or the first one when `node` has none of its
/// own (a TiDB playground's pd and tikv nodes: clients reach only tidb servers).
pub fn endpoint_for(endpoints: &[Endpoint], node: &str) -> Endpoint {
    endpoints
        .iter()
        .find(|e| e.node == node)
        .unwrap_or(&endpoints[0])
        .clone()
}

/// Masks the password of any `scheme://user:password@host` URL in `text`.
pub fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match (authority.find(':'), authority.rfind('@')) {
            (Some(c), Some(a)) if c < a => {
                out.push_str(&authority[..c]);
                out.push_str(":***");
                out.push_str(&authority[a..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_url_passwords("db mysql://root:hunter2@10.0.0.1:3306/x and http://a@b"),
            "db mysql://root:***@10.0.0.1:3306/x and http://a@b"
        );
        let e = Endpoint {
            node: "n1".into(),
            scheme: "mysql".into(),
            host: "h".into(),
            port: 1,
            user: "u".into(),
            password: "secret".into(),
            database: "d".into(),
        };
        assert!(!e.to_string().contains("secret"));
        assert!(e.url_with_secret().contains("secret"));
    }
}
