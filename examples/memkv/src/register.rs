//! `memkv-register`: read / write / cas on a few keys over memkv's line protocol, checked
//! for linearizability per key (cas-register model). One TCP connection per client.
//!
//! Outcomes: an answer is ok (or fail for `NO` and `ERR`: the node refused or the cas did
//! not match, nothing changed); no connection is fail (nothing was sent); a connection that
//! breaks after the request was sent is info for a write or cas (it may have happened) and
//! fail for a read (it changed nothing).

use faultline::prelude::*;
use faultline::tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use faultline::tokio::net::TcpStream;

/// The options of the register workload.
#[derive(clap::Args, Clone, Debug, Serialize, Deserialize)]
#[serde(crate = "faultline::serde")]
pub struct RegisterOptions {
    /// Keys the ops spread over.
    #[arg(long, default_value_t = 4)]
    pub keys: i64,
    /// Writes and cas use values 0..values: few make cas succeed often, many make every
    /// read tell which write it saw.
    #[arg(long, default_value_t = 5)]
    pub values: i64,
}

pub struct Register;

impl WorkloadDef for Register {
    type Options = RegisterOptions;
    fn name(&self) -> &'static str {
        "memkv-register"
    }
    fn about(&self) -> &'static str {
        "read / write / cas on memkv keys; linearizability per key"
    }
    fn defaults(&self) -> Defaults {
        Defaults {
            db: Some("memkv"),
            ..Defaults::default()
        }
    }
    fn build(
        &self,
        opts: &RegisterOptions,
        sut: &Sut,
        _spec: &RunSpec,
    ) -> faultline::anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(RegisterRun {
            keys: opts.keys.max(1),
            values: opts.values.max(1),
            sut: sut.clone(),
        }))
    }
    fn checkers(&self, _: &RegisterOptions) -> faultline::anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![Box::new(LinearizableChecker::new(
            ModelKind::CasRegister,
        ))])
    }
}

struct RegisterRun {
    keys: i64,
    values: i64,
    sut: Sut,
}

#[async_trait]
impl Workload for RegisterRun {
    async fn setup(&self) -> faultline::anyhow::Result<()> {
        Ok(())
    }
    fn client(&self, node: &str) -> Box<dyn Client> {
        Box::new(KvClient {
            endpoint: self.sut.endpoint_for(node),
            conn: None,
        })
    }
    fn generator(&self) -> Gen<Invocation> {
        let (keys, values) = (self.keys, self.values);
        from_fn(move |ctx| {
            let key = ctx.rng.random_range(0..keys);
            let v = |ctx: &mut Ctx<'_>| ctx.rng.random_range(0..values);
            match ctx.rng.random_range(0..3) {
                0 => Invocation::new("read", json!({"key": key, "value": null})),
                1 => Invocation::new("write", json!({"key": key, "value": v(ctx)})),
                _ => Invocation::new("cas", json!({"key": key, "value": [v(ctx), v(ctx)]})),
            }
        })
    }
}

struct KvClient {
    endpoint: Endpoint,
    conn: Option<BufReader<TcpStream>>,
}

impl KvClient {
    /// Sends one request line and reads the answer line. `Err(true)`: the request may have
    /// reached the node; `Err(false)`: it did not.
    async fn ask(&mut self, line: String) -> Result<String, (bool, String)> {
        if self.conn.is_none() {
            let addr = format!("{}:{}", self.endpoint.host, self.endpoint.port);
            let s = TcpStream::connect(&addr)
                .await
                .map_err(|e| (false, format!("connecting to {addr}: {e}")))?;
            self.conn = Some(BufReader::new(s));
        }
        let c = self.conn.as_mut().expect("connected above");
        let mut answer = String::new();
        let sent = c.get_mut().write_all(format!("{line}\n").as_bytes()).await;
        let read = match sent {
            Ok(()) => c.read_line(&mut answer).await,
            Err(e) => Err(e),
        };
        match read {
            Ok(n) if n > 0 => Ok(answer.trim().to_string()),
            Ok(_) => {
                self.conn = None;
                Err((true, "the node closed the connection".into()))
            }
            Err(e) => {
                self.conn = None;
                Err((true, e.to_string()))
            }
        }
    }
}

#[async_trait]
impl Client for KvClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let key = op.value["key"].as_i64().unwrap_or(0);
        let line = match op.f.as_str() {
            "read" => format!("GET {key}"),
            "write" => format!("PUT {key} {}", op.value["value"]),
            _ => format!(
                "CAS {key} {} {}",
                op.value["value"][0], op.value["value"][1]
            ),
        };
        match self.ask(line).await {
            Ok(a) if a == "OK" => Completion::ok(None),
            Ok(a) if a == "NO" => Completion::fail("cas: the value differs"),
            Ok(a) if a.starts_with("VAL ") => {
                let v: Value = a[4..]
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or(Value::Null);
                Completion::ok(Some(json!({"key": key, "value": v})))
            }
            Ok(a) => Completion::fail(a),
            Err((true, e)) if op.f != "read" => Completion::info(e),
            Err((_, e)) => Completion::fail(e),
        }
    }
    fn reset(&mut self) {
        self.conn = None;
    }
    fn is_read_only(&self, op: &Invocation) -> bool {
        op.f == "read"
    }
}
