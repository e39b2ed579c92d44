//! Prints the cues Concord reads in each side of contradiction-set items
//! (a tool for reading a dev set's misses, never the test split's):
//! `cargo run --release -p concord-similar --example cues -- FILE [ID...]`.

use concord_similar::analyse::analyse_doc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: cues FILE [ID...]");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{file}: {e}");
            std::process::exit(1);
        }
    };
    let items: Vec<serde_json::Value> = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{file}: not a JSON array of items: {e}");
            std::process::exit(1);
        }
    };
    let wanted = &args[1..];
    for item in &items {
        let id = item["id"].as_str().unwrap_or("?");
        if !wanted.is_empty() && !wanted.iter().any(|w| w == id) {
            continue;
        }
        println!("== {id} {} {}", item["label"], item["kind"]);
        for side in ["a", "b"] {
            let title = item[side]["title"].as_str().unwrap_or("");
            let body = item[side]["text"].as_str().unwrap_or("");
            println!("  {side}: {body}");
            for c in analyse_doc(title, body).cues {
                println!(
                    "     {:?} sign {} value {} asks {} head {:?} \"{}\" {:?}",
                    c.kind, c.sign, c.value, c.asks, c.head, c.phrase, c.anchors
                );
            }
        }
        println!("  note: {}", item["note"].as_str().unwrap_or(""));
    }
}
