//! `serve` on loopback: files of the store, nothing outside it.

use std::io::{Read, Write};

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn the_store_is_served_and_nothing_outside_it() {
    let base = std::env::temp_dir().join(format!("fl-serve-{}", std::process::id()));
    let store = base.join("store");
    std::fs::create_dir_all(store.join("bank/run1")).unwrap();
    std::fs::write(store.join("index.html"), "<h1>runs</h1>").unwrap();
    std::fs::write(
        store.join("bank/run1/results.json"),
        "{\"valid\":\"valid\"}",
    )
    .unwrap();
    std::fs::write(base.join("secret.txt"), "outside").unwrap();
    std::os::unix::fs::symlink(base.join("secret.txt"), store.join("link.txt")).unwrap();
    let (server, root) = faultline_nightly::serve::bind(&store, 0).unwrap();
    let addr = server.server_addr().to_ip().unwrap();
    assert!(addr.ip().is_loopback());
    let server = std::sync::Arc::new(server);
    let s2 = server.clone();
    let handle = std::thread::spawn(move || faultline_nightly::serve::serve_forever(&s2, &root));

    let r = get(addr, "/");
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("<h1>runs</h1>"),
        "{r}"
    );
    let r = get(addr, "/bank/run1/results.json");
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("application/json"),
        "{r}"
    );
    for bad in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/bank/..%2f..%2fsecret.txt",
        "/link.txt",
        "/nope",
    ] {
        let r = get(addr, bad);
        assert!(
            r.starts_with("HTTP/1.1 404") && !r.contains("outside"),
            "{bad}: {r}"
        );
    }
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "DELETE /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 405"), "{out}");
    assert!(store.join("index.html").is_file());

    server.unblock();
    handle.join().unwrap();
    std::fs::remove_dir_all(&base).unwrap();
}
