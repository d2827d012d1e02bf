//! `faultline serve`: the store, read-only, on loopback. GET and HEAD of files under the
//! store only: a path that leaves it (`..`, a link pointing out) is refused with 404, as is
//! anything that is not a file; a folder serves its index.html.

use std::path::{Component, Path, PathBuf};
use tiny_http::{Header, Method, Request, Response, Server};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the store {0} is not a folder (run a test first, or give its path)")]
    NoStore(PathBuf),
    #[error("cannot listen on 127.0.0.1:{port}: {message} (choose another --port)")]
    Listen { port: u16, message: String },
}

/// Binds 127.0.0.1:`port` (0: any free port); [`serve_forever`] answers.
pub fn bind(store: &Path, port: u16) -> Result<(Server, PathBuf), ServeError> {
    let root = store
        .canonicalize()
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| ServeError::NoStore(store.to_owned()))?;
    let server = Server::http(("127.0.0.1", port)).map_err(|e| ServeError::Listen {
        port,
        message: e.to_string(),
    })?;
    Ok((server, root))
}

/// Answers requests until the server is dropped or unblocked.
pub fn serve_forever(server: &Server, root: &Path) {
    for request in server.incoming_requests() {
        answer(request, root);
    }
}

/// The file under `root` that `url` names, if it is one and stays inside `root`.
pub fn resolve(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path)?;
    let mut p = root.to_path_buf();
    for c in Path::new(&decoded).components() {
        match c {
            Component::Normal(part) => p.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    let mut p = p.canonicalize().ok()?;
    if !p.starts_with(root) {
        return None;
    }
    if p.is_dir() {
        p = p.join("index.html");
    }
    p.is_file().then_some(p)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("svg") => "image/svg+xml",
        _ => "text/plain; charset=utf-8",
    }
}

fn answer(request: Request, root: &Path) {
    let result = if !matches!(request.method(), Method::Get | Method::Head) {
        request.respond(Response::from_string("read-only").with_status_code(405))
    } else {
        match resolve(root, request.url()).and_then(|p| Some((std::fs::File::open(&p).ok()?, p))) {
            Some((file, p)) => {
                let header =
                    Header::from_bytes("Content-Type", content_type(&p)).expect("a valid header");
                request.respond(Response::from_file(file).with_header(header))
            }
            None => request.respond(Response::from_string("not found").with_status_code(404)),
        }
    };
    if let Err(e) = result {
        tracing::debug!("serve: {e}");
    }
}
