//! The few PD HTTP API calls the playground makes, over a plain HTTP/1.1 GET: who leads
//! (`/pd/api/v1/leader` → `{"name": ...}`) and which members are healthy
//! (`/pd/api/v1/health` → `[{"name": ..., "health": true}, ...]`). We call each PD on its
//! real client port, not through its proxy, so a partition never hides the answer from us.

use crate::{ClusterError, Result};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// GETs `path` from `addr` and parses the body as JSON.
pub async fn get_json(addr: SocketAddr, path: &str, timeout: Duration) -> Result<Value> {
    let fail = |what: String| ClusterError::Other(format!("PD at {addr} {path}: {what}"));
    let body = tokio::time::timeout(timeout, async {
        let mut s = TcpStream::connect(addr).await?;
        let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    })
    .await
    .map_err(|_| fail(format!("no answer within {timeout:?}")))?
    .map_err(|e| fail(e.to_string()))?;
    let text = String::from_utf8_lossy(&body);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| fail("not an HTTP answer".into()))?;
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(fail(format!("answered {status:?}")));
    }
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    serde_json::from_str(&body).map_err(|e| fail(format!("bad JSON ({e}): {body:.200}")))
}

/// The body of a `Transfer-Encoding: chunked` answer.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// The PD leader's member name, as PD at `addr` reports it.
pub async fn leader(addr: SocketAddr) -> Result<String> {
    let v = get_json(addr, "/pd/api/v1/leader", Duration::from_secs(3)).await?;
    v.get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ClusterError::Other(format!("PD at {addr} named no leader: {v}")))
}

/// The members PD at `addr` reports healthy.
pub async fn healthy_members(addr: SocketAddr) -> Result<Vec<String>> {
    let v = get_json(addr, "/pd/api/v1/health", Duration::from_secs(3)).await?;
    Ok(v.as_array()
        .map(|members| {
            members
                .iter()
                .filter(|m| m.get("health").and_then(Value::as_bool) == Some(true))
                .filter_map(|m| m.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            super::dechunk("4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n"),
            "{\"a\":1}"
        );
    }
}
