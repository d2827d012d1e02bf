//! STAND-INS for pd-server, tikv-server and tidb-server: the real binaries cannot be
//! installed on the machines this is tested on. The test binary re-executes itself through
//! symlinks named like the real binaries; the name (argv[0]) says which one to impersonate.
//! Each takes the real component's flags and talks plain TCP / HTTP/1.0, enough to exercise
//! the playground's proxies, partitions, kills, pauses and the PD leader lookup:
//!
//! * PD: serves `/pd/api/v1/{health,members,leader,stores}` on its client URL and a ping on
//!   its peer URL; probes the other members through their advertised peer URLs every 100 ms.
//!   Leader rule (fixed, documented): the lowest-named member among itself and the members
//!   it reaches. `/pd/api/v1/stores?register=<addr>` records a TiKV.
//! * TiKV: every 100 ms registers with every PD (advertised client URLs) and learns the
//!   stores, keeps one connection open to every other store and pings through it.
//! * TiDB: serves its MySQL port (a greeting line, not MySQL) and asks every PD for health.
//!
//! Every attempt is logged to the `--log-file` as `reach <kind> <addr> ok|fail`.

pub mod observe;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ROUND: Duration = Duration::from_millis(100);
const IO: Duration = Duration::from_millis(500);

/// Runs the stand-in named by argv[0], if it is one; returns otherwise.
pub fn run_if_standin() {
    let argv: Vec<String> = std::env::args().collect();
    let name = argv[0].rsplit('/').next().unwrap_or_default().to_string();
    let flags = parse(&argv[1..]);
    match name.as_str() {
        "pd-server" => pd(flags),
        "tikv-server" => tikv(flags),
        "tidb-server" => tidb(flags),
        _ => return,
    }
    std::process::exit(0);
}

/// `--k=v`, `--k v` and `-P v` into a map.
fn parse(args: &[String]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].trim_start_matches('-').to_string();
        if let Some((k, v)) = a.split_once('=') {
            out.insert(k.to_string(), v.to_string());
        } else if i + 1 < args.len() {
            out.insert(a, args[i + 1].clone());
            i += 1;
        }
        i += 1;
    }
    out
}

struct Log(Mutex<std::fs::File>);

impl Log {
    fn open(flags: &HashMap<String, String>) -> Arc<Log> {
        let path = flags.get("log-file").expect("--log-file");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        Arc::new(Log(Mutex::new(f)))
    }
    fn reach(&self, kind: &str, addr: &str, ok: bool) {
        let line = format!("reach {kind} {addr} {}\n", if ok { "ok" } else { "fail" });
        let _ = self.0.lock().unwrap().write_all(line.as_bytes());
    }
}

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// Serves every connection on `addr` with `handle` in its own thread.
fn serve(addr: &str, handle: impl Fn(TcpStream) + Send + Sync + 'static) {
    let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("binding {addr}: {e}"));
    let handle = Arc::new(handle);
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            let h = handle.clone();
            std::thread::spawn(move || h(s));
        }
    });
}

/// Answers one HTTP request with `body(path)`.
fn http(s: TcpStream, body: impl Fn(&str) -> String) {
    let mut r = BufReader::new(s);
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
    }
    let b = body(&path);
    let mut s = r.into_inner();
    let _ = write!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
        b.len()
    );
}

/// GET through a fresh connection; the body when the answer was complete.
fn get(addr: &str, path: &str) -> Option<String> {
    let sa = addr.to_socket_addrs().ok()?.next()?;
    let mut s = TcpStream::connect_timeout(&sa, IO).ok()?;
    s.set_read_timeout(Some(IO)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

fn pd(flags: HashMap<String, String>) {
    let log = Log::open(&flags);
    let me = flags["name"].clone();
    let members: BTreeMap<String, String> = flags["initial-cluster"]
        .split(',')
        .filter_map(|m| m.split_once('='))
        .map(|(n, u)| (n.to_string(), host_port(u)))
        .collect();
    let reach: Arc<Mutex<BTreeSet<String>>> = Arc::new(Mutex::new([me.clone()].into()));
    let stores: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let name = me.clone();
    serve(&host_port(&flags["peer-urls"]), move |s| {
        http(s, |_| name.clone())
    });
    let (r, st, name, all) = (reach.clone(), stores.clone(), me.clone(), members.clone());
    serve(&host_port(&flags["client-urls"]), move |s| {
        http(s, |path| {
            let reached = r.lock().unwrap().clone();
            let leader = reached.iter().next().cloned().unwrap_or_default();
            let (route, query) = path.split_once('?').unwrap_or((path, ""));
            match route {
                "/pd/api/v1/health" => serde_json::to_string(
                    &all.keys().map(|m| serde_json::json!({"name": m, "health": reached.contains(m)})).collect::<Vec<_>>(),
                )
                .unwrap(),
                "/pd/api/v1/leader" => serde_json::json!({ "name": leader }).to_string(),
                "/pd/api/v1/members" => serde_json::json!({
                    "members": all.keys().map(|m| serde_json::json!({"name": m})).collect::<Vec<_>>(),
                    "leader": {"name": leader}, "self": name,
                })
                .to_string(),
                "/pd/api/v1/stores" => {
                    let mut st = st.lock().unwrap();
                    if let Some(addr) = query.strip_prefix("register=") {
                        st.insert(addr.to_string());
                    }
                    serde_json::to_string(&*st).unwrap()
                }
                _ => "{}".into(),
            }
        })
    });
    let others: Vec<(String, String)> = members.into_iter().filter(|(n, _)| *n != me).collect();
    let mut last: BTreeMap<String, bool> = BTreeMap::new();
    loop {
        for (n, addr) in &others {
            let ok = get(addr, "/ping").is_some_and(|b| b == *n);
            if last.insert(n.clone(), ok) != Some(ok) {
                log.reach("pd", n, ok);
            }
            let mut r = reach.lock().unwrap();
            if ok {
                r.insert(n.clone());
            } else {
                r.remove(n);
            }
        }
        std::thread::sleep(ROUND);
    }
}

fn tikv(flags: HashMap<String, String>) {
    let log = Log::open(&flags);
    let me = flags["advertise-addr"].clone();
    let greeting = format!("tikv {me}\n");
    serve(&flags["addr"], move |s| {
        let mut w = s.try_clone().unwrap();
        if w.write_all(greeting.as_bytes()).is_err() {
            return;
        }
        for line in BufReader::new(s).lines() {
            match line {
                Ok(l) if l == "ping" => {
                    if w.write_all(b"pong\n").is_err() {
                        return;
                    }
                }
                _ => return,
            }
        }
    });
    serve(&flags["status-addr"], |s| http(s, |_| "{}".into()));
    let pds: Vec<String> = flags["pd-endpoints"].split(',').map(host_port).collect();
    let mut stores: BTreeSet<String> = BTreeSet::new();
    let mut open: BTreeMap<String, BufReader<TcpStream>> = BTreeMap::new();
    loop {
        for pd in &pds {
            let body = get(pd, &format!("/pd/api/v1/stores?register={me}"));
            log.reach("pd", pd, body.is_some());
            if let Some(list) = body.and_then(|b| serde_json::from_str::<Vec<String>>(&b).ok()) {
                stores.extend(list);
            }
        }
        for store in stores.iter().filter(|s| **s != me) {
            let ok = ping(&mut open, store);
            if !ok {
                open.remove(store);
            }
            log.reach("tikv", store, ok);
        }
        std::thread::sleep(ROUND);
    }
}

/// Pings `store` through the open connection, opening one (and reading the greeting) first.
fn ping(open: &mut BTreeMap<String, BufReader<TcpStream>>, store: &str) -> bool {
    if !open.contains_key(store) {
        let Some(sa) = store.to_socket_addrs().ok().and_then(|mut a| a.next()) else {
            return false;
        };
        let Ok(s) = TcpStream::connect_timeout(&sa, IO) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(IO));
        let mut r = BufReader::new(s);
        let mut hello = String::new();
        if r.read_line(&mut hello).unwrap_or(0) == 0 || !hello.starts_with("tikv ") {
            return false;
        }
        open.insert(store.to_string(), r);
    }
    let r = open.get_mut(store).unwrap();
    let mut pong = String::new();
    r.get_mut().write_all(b"ping\n").is_ok()
        && r.read_line(&mut pong).unwrap_or(0) > 0
        && pong == "pong\n"
}

fn tidb(flags: HashMap<String, String>) {
    let log = Log::open(&flags);
    let host = flags["host"].clone();
    serve(&format!("{host}:{}", flags["P"]), |mut s| {
        let _ = s.write_all(b"tidb stand-in (not MySQL)\n");
    });
    serve(&format!("{host}:{}", flags["status"]), |s| {
        http(s, |_| "{}".into())
    });
    let pds: Vec<String> = flags["path"].split(',').map(host_port).collect();
    loop {
        for pd in &pds {
            log.reach("pd", pd, get(pd, "/pd/api/v1/health").is_some());
        }
        std::thread::sleep(ROUND * 5);
    }
}
