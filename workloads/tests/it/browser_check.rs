//! The browser check that the report tests rely on (common::browser) catches what it is
//! there to catch: console errors, uncaught exceptions and resources that fail to load are
//! reported, a page without them reports none, and the report probe counts drawn SVGs per
//! section. Server-free: the pages are written here.

use crate::common::browser;

fn page(name: &str, body: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fl-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            "<!doctype html><html><head><title>{name}</title></head><body>{body}</body></html>"
        ),
    )
    .unwrap();
    p
}

#[test]
fn planted_errors_are_seen_and_a_clean_page_has_none() {
    let shot = std::env::temp_dir().join(format!("fl-browser-{}.png", std::process::id()));
    let bad = page(
        "bad.html",
        r#"<h2 id="latency">Latency</h2><div><svg width="200" height="100"><rect width="50" height="20"/></svg></div>
<img src="missing.png"><script>console.error("planted error"); throw new Error("planted throw");</script>"#,
    );
    let seen = browser::open(&bad, browser::REPORT_PROBE, &shot);
    println!("{:#?}", seen.errors);
    assert!(
        seen.errors.iter().any(|e| e.contains("planted error")),
        "{:?}",
        seen.errors
    );
    assert!(
        seen.errors.iter().any(|e| e.contains("planted throw")),
        "{:?}",
        seen.errors
    );
    assert!(
        seen.errors.iter().any(|e| e.contains("missing.png")),
        "{:?}",
        seen.errors
    );
    assert_eq!(seen.probe["latency"], 1, "{}", seen.probe);
    assert_eq!(seen.probe["throughput"], 0, "{}", seen.probe);
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000,
        "{} bytes",
        png.len()
    );

    let good = page(
        "good.html",
        r#"<h2 id="latency">Latency</h2><div><svg width="200" height="100"></svg><svg width="200" height="100"></svg></div><h2 id="throughput">T</h2><p>none</p>"#,
    );
    let seen = browser::open(&good, browser::REPORT_PROBE, &shot);
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    assert_eq!(seen.probe["latency"], 2, "{}", seen.probe);
    assert_eq!(seen.probe["title"], "good.html");
    std::fs::remove_dir_all(bad.parent().unwrap()).ok();
    std::fs::remove_file(&shot).ok();
}
