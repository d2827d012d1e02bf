//! One member's v3 key-value API over its JSON gRPC gateway (`POST /v3/kv/...`, keys and
//! values base64 in JSON), the three calls the register workload needs.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use faultline::serde_json::{json, Value};

use crate::errors::EtcdError;

/// A client of one member, at its client URL (`http://10.x.y.z:2379`).
#[derive(Debug, Clone)]
pub struct EtcdClient {
    http: reqwest::Client,
    base: String,
}

impl EtcdClient {
    /// A client of the member at `url`; every request gives up after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, EtcdError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| EtcdError::Connect(e.to_string()))?;
        Ok(EtcdClient {
            http,
            base: url.trim_end_matches('/').to_string(),
        })
    }

    async fn call(&self, path: &str, body: Value) -> Result<Value, EtcdError> {
        self.post(&format!("kv/{path}"), body).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, EtcdError> {
        let url = format!("{}/v3/{path}", self.base);
        let resp = self.http.post(&url).json(&body).send().await.map_err(|e| {
            if e.is_connect() {
                EtcdError::Connect(e.to_string())
            } else {
                EtcdError::Transport(e.to_string())
            }
        })?;
        let v: Value = resp
            .json()
            .await
            .map_err(|e| EtcdError::Transport(e.to_string()))?;
        if let Some(code) = v.get("code").and_then(Value::as_i64) {
            let message = v.get("message").or(v.get("error")).and_then(Value::as_str);
            return Err(EtcdError::Status {
                code,
                message: message.unwrap_or("").to_string(),
            });
        }
        Ok(v)
    }

    /// The value of `key`, if any: linearizable, or `serializable` (the member's own state,
    /// possibly stale).
    pub async fn get(&self, key: &str, serializable: bool) -> Result<Option<String>, EtcdError> {
        let v = self
            .call(
                "range",
                json!({"key": B64.encode(key), "serializable": serializable}),
            )
            .await?;
        match v.get("kvs").and_then(|k| k.get(0)) {
            None => Ok(None),
            Some(kv) => decode(kv.get("value")).map(Some),
        }
    }

    /// Sets `key` to `value`.
    pub async fn put(&self, key: &str, value: &str) -> Result<(), EtcdError> {
        self.call(
            "put",
            json!({"key": B64.encode(key), "value": B64.encode(value)}),
        )
        .await?;
        Ok(())
    }

    /// Sets `key` to `new` if its value is `old`, in one txn; whether it did.
    pub async fn cas(&self, key: &str, old: &str, new: &str) -> Result<bool, EtcdError> {
        let k = B64.encode(key);
        let body = json!({
            "compare": [{"key": k, "target": "VALUE", "result": "EQUAL", "value": B64.encode(old)}],
            "success": [{"request_put": {"key": k, "value": B64.encode(new)}}],
        });
        let v = self.call("txn", body).await?;
        Ok(v.get("succeeded").and_then(Value::as_bool).unwrap_or(false))
    }
}

impl EtcdClient {
    /// The member's own id and the id of the leader it follows (0: none), from its
    /// maintenance status (served locally, even without quorum).
    pub async fn status(&self) -> Result<(u64, u64), EtcdError> {
        let v = self.post("maintenance/status", json!({})).await?;
        let id = |x: Option<&Value>| -> u64 {
            x.and_then(|x| x.as_str().and_then(|s| s.parse().ok()).or(x.as_u64()))
                .unwrap_or(0)
        };
        Ok((id(v.pointer("/header/member_id")), id(v.get("leader"))))
    }

    /// One atomic transaction (etcd's Txn, in the gateway's JSON): `compare`s, then the
    /// `success` or the `failure` requests. Returns the gateway's answer (`succeeded`,
    /// `responses`, `header.revision`).
    pub async fn txn(&self, body: Value) -> Result<Value, EtcdError> {
        self.call("txn", body).await
    }
}

impl EtcdClient {
    /// Deletes every key that starts with `prefix` (a DeleteRange up to the prefix's
    /// successor); how many it deleted.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<u64, EtcdError> {
        let mut end = prefix.as_bytes().to_vec();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        let v = self
            .call(
                "deleterange",
                json!({"key": B64.encode(prefix), "range_end": B64.encode(&end)}),
            )
            .await?;
        Ok(v.get("deleted")
            .and_then(|d| d.as_str().and_then(|s| s.parse().ok()).or(d.as_u64()))
            .unwrap_or(0))
    }
}

/// A key or value as the gateway carries it (base64).
pub fn encode(s: &str) -> String {
    B64.encode(s)
}

/// A key or value of a gateway answer, decoded (absent: empty, as proto3 leaves it out).
pub fn decode_field(v: Option<&Value>) -> Result<String, EtcdError> {
    decode(v)
}

fn decode(v: Option<&Value>) -> Result<String, EtcdError> {
    // An empty value is left out of the JSON (proto3 default).
    let s = v.and_then(Value::as_str).unwrap_or("");
    let bytes = B64
        .decode(s)
        .map_err(|e| EtcdError::BadAnswer(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| EtcdError::BadAnswer(e.to_string()))
}
