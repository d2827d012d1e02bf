//! `--db mysql://user:password@host1:port1,host2:port2/database`: an existing cluster the
//! harness did not start. It has no fault capabilities of its own (faults need a backend
//! that can reach it), so only `--nemesis none` runs against it.
//!
//! Before a run, every node is checked: an unreachable node or a wrong password is one clear
//! line naming the node, with the password masked.

use crate::{ClusterError, Endpoint, Result};
use async_trait::async_trait;
use faultline_core::db::{Db, DbResult};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub struct External {
    endpoints: Vec<Endpoint>,
}

impl External {
    /// Parses `mysql://user:password@h1:p1,h2:p2/db` (port 3306 and database `jepsen` by
    /// default); nodes are named n1, n2, ... in the order given.
    pub fn parse(url: &str) -> Result<External> {
        let bad = |why: &str| {
            ClusterError::Other(format!(
                "--db {}: {why} (expected mysql://user:password@host:port,host:port/database)",
                crate::endpoint::mask_url_passwords(url)
            ))
        };
        let rest = url
            .strip_prefix("mysql://")
            .ok_or_else(|| bad("not a mysql:// URL"))?;
        let (auth, rest) = rest.rsplit_once('@').ok_or_else(|| bad("no user@ part"))?;
        let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
        let (hosts, database) = rest.split_once('/').unwrap_or((rest, "jepsen"));
        let mut endpoints = Vec::new();
        for (i, h) in hosts.split(',').enumerate() {
            let (host, port) = match h.rsplit_once(':') {
                Some((host, port)) => (
                    host,
                    port.parse::<u16>()
                        .map_err(|_| bad(&format!("bad port in {h:?}")))?,
                ),
                None => (h, 3306),
            };
            if host.is_empty() {
                return Err(bad("empty host"));
            }
            endpoints.push(Endpoint {
                node: format!("n{}", i + 1),
                scheme: "mysql".into(),
                host: host.to_string(),
                port,
                user: user.to_string(),
                password: password.to_string(),
                database: if database.is_empty() {
                    "jepsen".into()
                } else {
                    database.to_string()
                },
            });
        }
        if user.is_empty() {
            return Err(bad("no user"));
        }
        Ok(External { endpoints })
    }

    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.endpoints.clone()
    }

    /// Connects to every node once: a clear error for the first that cannot be used.
    pub async fn check(&self) -> Result<()> {
        for e in &self.endpoints {
            check_one(e).await?;
        }
        Ok(())
    }
}

async fn check_one(e: &Endpoint) -> Result<()> {
    let opts = mysql_async::Opts::from_url(&e.url_with_secret())
        .map_err(|err| ClusterError::Other(format!("{} ({e}): bad URL: {err}", e.node)))?;
    let conn = tokio::time::timeout(Duration::from_secs(5), mysql_async::Conn::new(opts)).await;
    let mut conn = match conn {
        Err(_) => {
            return Err(ClusterError::Other(format!(
                "{} ({e}) is unreachable: no answer within 5 s; check the host, the port and the firewall",
                e.node
            )))
        }
        Ok(Err(mysql_async::Error::Server(s))) if s.code == 1045 => {
            return Err(ClusterError::Other(format!(
                "{} ({e}): wrong user or password (1045); check the user and password in --db",
                e.node
            )))
        }
        Ok(Err(mysql_async::Error::Server(s))) if s.code == 1049 => {
            return Err(ClusterError::Other(format!(
                "{} ({e}): database {:?} does not exist; create it or name another in --db",
                e.node, e.database
            )))
        }
        Ok(Err(err)) => {
            return Err(ClusterError::Other(format!(
                "{} ({e}) is unreachable: {}",
                e.node,
                crate::endpoint::mask_url_passwords(&err.to_string())
            )))
        }
        Ok(Ok(c)) => c,
    };
    let one: Option<u8> = conn
        .query_first("SELECT 1")
        .await
        .map_err(|err| ClusterError::Other(format!("{} ({e}): SELECT 1 failed: {err}", e.node)))?;
    let _ = conn.disconnect().await;
    if one != Some(1) {
        return Err(ClusterError::Other(format!(
            "{} ({e}): SELECT 1 did not answer 1",
            e.node
        )));
    }
    Ok(())
}

#[async_trait]
impl Db for External {
    fn name(&self) -> &str {
        "external"
    }

    fn nodes(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.node.clone()).collect()
    }

    async fn heal_all(&self) -> DbResult<()> {
        Ok(())
    }

    async fn wait_ready(&self, timeout: Duration) -> DbResult<()> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.check().await {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() > deadline => return Err(e.into()),
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    async fn teardown(&self) -> DbResult<()> {
        Ok(())
    }

    fn facts(&self) -> Value {
        json!({
            "db": "external",
            "nodes": self.nodes(),
            "endpoints": self.endpoints.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_database() {
        let x = External::parse("mysql://u:secret@10.0.0.1:4000,db2/test").unwrap();
        let e = x.endpoints();
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].host.as_str(), e[0].port, e[0].database.as_str()),
            ("10.0.0.1", 4000, "test")
        );
        assert_eq!((e[1].node.as_str(), e[1].port), ("n2", 3306));
        assert_eq!(e[1].password, "secret");
    }

    #[test]
    fn bad_urls_say_what_is_wrong_without_the_password() {
        let err = External::parse("mysql://u:secret@h:port/x")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("bad port") && !err.contains("secret"), "{err}");
        let err = External::parse("postgres://u@h").err().unwrap().to_string();
        assert!(err.contains("not a mysql:// URL"), "{err}");
    }
}
