//! Gathers the web assets the server embeds: the NHS.UK design system and
//! htmx (pinned in `web/package-lock.json`, fetched with `npm ci` when
//! `web/node_modules` is missing) and our own files in `assets/`. They are
//! copied into OUT_DIR and listed in `assets.rs`, with one version (a hash
//! of every byte) that goes into their addresses, so that browsers may keep
//! them for a year and still see a new release at once.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// Our own files, served as they are.
const OURS: &[&str] = &["site.css", "concord.js"];

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let web = manifest.join("../../web");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=../../web/package-lock.json");
    println!("cargo:rerun-if-changed=../../web/package.json");
    println!("cargo:rerun-if-changed=assets");

    let modules = web.join("node_modules");
    if !modules.join("nhsuk-frontend/package.json").exists()
        || !modules.join("htmx.org/package.json").exists()
    {
        npm_ci(&web);
    }
    let nhsuk = modules.join("nhsuk-frontend/dist/nhsuk");
    let htmx = modules.join("htmx.org/dist");

    // (served name, file on disk, content type)
    let mut files: Vec<(String, Vec<u8>, &str)> = Vec::new();
    let css = read(&nhsuk.join("nhsuk-frontend.min.css"));
    files.push((
        "nhsuk-frontend.min.css".into(),
        // The version is filled in below, once every file is known.
        adapt_nhsuk_css(&String::from_utf8(css).expect("nhsuk css is UTF-8")).into_bytes(),
        "text/css; charset=utf-8",
    ));
    files.push((
        "nhsuk-frontend.min.js".into(),
        read(&nhsuk.join("nhsuk-frontend.min.js")),
        "text/javascript; charset=utf-8",
    ));
    files.push((
        "htmx.min.js".into(),
        read(&htmx.join("htmx.min.js")),
        "text/javascript; charset=utf-8",
    ));
    let images = nhsuk.join("assets/images");
    let mut names: Vec<PathBuf> = fs::read_dir(&images)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", images.display()))
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let kind = match path.extension().and_then(|e| e.to_str()) {
            Some("svg") => "image/svg+xml",
            Some("png") => "image/png",
            Some("ico") => "image/x-icon",
            _ => continue,
        };
        files.push((format!("images/{name}"), read(&path), kind));
    }
    for name in OURS {
        let kind = if name.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        files.push((
            name.to_string(),
            read(&manifest.join("assets").join(name)),
            kind,
        ));
    }

    let mut hash = Fnv::new();
    for (name, bytes, _) in &files {
        hash.feed(name.as_bytes());
        hash.feed(bytes);
    }
    let version = format!("{:012x}", hash.0 & 0xffff_ffff_ffff);
    // The stylesheet names its icons by absolute address.
    let prefix = format!("/assets/{version}/images/");
    for (name, bytes, _) in files.iter_mut() {
        if name.ends_with(".css") {
            let text = String::from_utf8(std::mem::take(bytes)).unwrap();
            *bytes = text.replace("/assets/images/", &prefix).into_bytes();
        }
    }

    let dir = out.join("web");
    fs::create_dir_all(dir.join("images")).unwrap();
    let mut table = format!(
        "/// Changes whenever any asset does; part of every asset's address.\n\
         pub const VERSION: &str = \"{version}\";\n\
         /// (name under /assets/VERSION/, content type, bytes)\n\
         pub static FILES: &[(&str, &str, &[u8])] = &[\n"
    );
    for (name, bytes, kind) in &files {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        let _ = writeln!(
            table,
            "    ({name:?}, {kind:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    table.push_str("];\n");
    fs::write(out.join("assets.rs"), table).unwrap();
}

/// The design system loads its Frutiger web font from the NHS's own
/// servers; our CSP allows only our origin, and the font's licence is not
/// ours to redistribute, so its @font-face rules go and the stack falls back
/// to Arial, as the design system intends when the font is missing.
fn adapt_nhsuk_css(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("@font-face{") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after.find('}').map(|j| j + 1).unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\n\
             The web assets come from npm: run `npm ci --ignore-scripts` in web/ \
             (Debian: `apt-get install -y npm` first).",
            path.display()
        )
    })
}

fn npm_ci(web: &Path) {
    let status = Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(web)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`npm ci --ignore-scripts` in {} failed ({s}); the server embeds the NHS.UK \
             design system and htmx from there. Run it by hand to see why.",
            web.display()
        ),
        Err(e) => panic!(
            "building concord-server needs npm to fetch the web assets pinned in \
             web/package-lock.json, and npm could not be run ({e}). \
             On Debian: `apt-get install -y npm`, then build again."
        ),
    }
}

/// FNV-1a: a version stamp, not a security measure.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn feed(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
