//! The README, run: every `sh` block of README.md runs in order against a hookgate started from
//! hookgate.example.toml, with the demo sink, as a newcomer would run them, so the README
//! cannot drift from what hookgate does.
//!
//! Conventions the README follows (see [`parse`]):
//! - A ` ```sh ` block runs unless the HTML comment `<!-- readme-test: skip -->` precedes it
//!   (for `scripts/run`, `docker compose` and the like). Each block runs in its own `bash -e`,
//!   in one working directory; variables it sets are kept for the next blocks.
//! - A ` ```text ` block after a block that runs (prose between them is fine, another fenced
//!   block is not) is its expected output: each non-empty
//!   line must match a line of the output, in order. `<name>` matches any text and captures
//!   it; a later command's `<name>` is replaced by the captured value.
//! - A ` ```text ` block preceded by `<!-- readme-test: demo-sink -->` is matched, the same
//!   way, against what the demo sink prints.
//! - The example's addresses (127.0.0.1:8080, :8081, :9000) are replaced by the test's.

use crate::helpers::*;
use crate::process::{ServeProcess, hookgate};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SKIP: &str = "<!-- readme-test: skip -->";
const DEMO_SINK: &str = "<!-- readme-test: demo-sink -->";

/// What a block of the README is to the test.
#[derive(Debug, PartialEq)]
enum Block {
    /// Shell lines to run (1-based README line of the fence, text).
    Run(usize, String),
    /// What the preceding `Run` prints.
    Output(usize, String),
    /// What the demo sink prints meanwhile.
    SinkOutput(usize, String),
}

/// The README's blocks that the test runs or checks, in order.
fn parse(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines().enumerate();
    let mut marker = None;
    let mut last_ran = false;
    while let Some((number, line)) = lines.next() {
        let line = line.trim_end();
        if line == SKIP || line == DEMO_SINK {
            marker = Some(line);
            continue;
        }
        let Some(lang) = line.strip_prefix("```").filter(|lang| !lang.is_empty()) else {
            continue;
        };
        let body: Vec<&str> = lines
            .by_ref()
            .map(|(_, line)| line)
            .take_while(|line| line.trim_end() != "```")
            .collect();
        let text = body.join("\n");
        let at = number + 1;
        let ran = match (lang, marker.take()) {
            ("sh", None) => {
                blocks.push(Block::Run(at, text));
                true
            }
            ("text", Some(DEMO_SINK)) => {
                blocks.push(Block::SinkOutput(at, text));
                false
            }
            ("text", None) if last_ran => {
                blocks.push(Block::Output(at, text));
                false
            }
            _ => false,
        };
        last_ran = ran;
    }
    blocks
}

/// Matches `expected` (lines with `<name>` wildcards) against `output` in order; answers the
/// captured values, or the first line that was not found. Runs of spaces count as one, so a
/// table in the README needs no exact column widths.
fn match_lines(expected: &str, output: &str) -> Result<BTreeMap<String, String>, String> {
    let mut captures = BTreeMap::new();
    let mut remaining = output.lines().map(single_spaced);
    for want in expected
        .lines()
        .map(single_spaced)
        .filter(|l| !l.is_empty())
    {
        let (pattern, names) = to_regex(&want);
        let found = remaining
            .by_ref()
            .find_map(|line| pattern.captures(&line).map(|found| capture_values(&found)))
            .ok_or_else(|| want.clone())?;
        captures.extend(names.into_iter().zip(found));
    }
    Ok(captures)
}

/// `line` trimmed, with each run of spaces as one.
fn single_spaced(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn capture_values(found: &regex::Captures<'_>) -> Vec<String> {
    found
        .iter()
        .skip(1)
        .map(|group| group.map_or_else(String::new, |g| g.as_str().to_owned()))
        .collect()
}

/// `<name>`: a value an expected output captures and a later block uses.
fn placeholder() -> &'static regex::Regex {
    static PLACEHOLDER: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    PLACEHOLDER.get_or_init(|| regex::Regex::new(r"<([a-z_ ]+)>").expect("valid"))
}

/// An expected line as an anchored regex; each `<name>` is a capture group.
fn to_regex(line: &str) -> (regex::Regex, Vec<String>) {
    let placeholder = placeholder();
    let mut pattern = String::from("^");
    let mut names = Vec::new();
    let mut last = 0;
    for found in placeholder.captures_iter(line) {
        let whole = found.get(0).expect("match");
        pattern.push_str(&regex::escape(&line[last..whole.start()]));
        pattern.push_str("(.+?)");
        names.push(found[1].to_owned());
        last = whole.end();
    }
    pattern.push_str(&regex::escape(&line[last..]));
    pattern.push('$');
    (regex::Regex::new(&pattern).expect("valid"), names)
}

/// `text` with every `<name>` already captured replaced by its value, so that a later block
/// must show the same value.
fn with_captured(text: &str, captured: &BTreeMap<String, String>) -> String {
    captured
        .iter()
        .fold(text.to_owned(), |text, (name, value)| {
            text.replace(&format!("<{name}>"), value)
        })
}

/// The demo sink as a child process; its output lines are collected as they come.
struct DemoSink {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    address: String,
}

impl DemoSink {
    fn start() -> DemoSink {
        let address = free_address();
        let mut child = hookgate()
            .args(["demo-sink", "--listen", &address])
            .stdout(Stdio::piped())
            .spawn()
            .expect("demo sink starts");
        let stdout = child.stdout.take().expect("piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let collected = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                collected.lock().unwrap().push(line);
            }
        });
        let sink = DemoSink {
            child,
            lines,
            address,
        };
        sink.wait_for("demo sink listening", Duration::from_secs(10));
        sink
    }

    fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    fn wait_for(&self, text: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.output().contains(text) {
            assert!(Instant::now() < deadline, "demo sink: {}", self.output());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for DemoSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address nothing listens on at the moment.
fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").to_string()
}

/// Replaces `from` in `text`, insisting that it is there: the README test must notice when
/// the example config no longer reads as it assumes.
fn replace_present(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "hookgate.example.toml lacks {from:?}");
    text.replace(from, to)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_of_the_readme_works_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let blocks = parse(&readme);
    assert!(
        blocks
            .iter()
            .filter(|b| matches!(b, Block::Run(..)))
            .count()
            >= 5,
        "{blocks:?}"
    );

    let database = create_database(&server_url()).await;
    let sink = DemoSink::start();
    let example = std::fs::read_to_string(root.join("hookgate.example.toml")).expect("example");
    let config = replace_present(&example, "${DATABASE_URL}", &database);
    let config = replace_present(&config, "0.0.0.0:8080", "127.0.0.1:0");
    let config = replace_present(&config, "127.0.0.1:8081", "127.0.0.1:0");
    let config = replace_present(&config, "127.0.0.1:9000", &sink.address);
    let hookgate_process = ServeProcess::start(&config);
    let addresses = [
        (
            "127.0.0.1:8080",
            hookgate_process.ingest.replace("http://", ""),
        ),
        (
            "127.0.0.1:8081",
            hookgate_process.admin.replace("http://", ""),
        ),
        ("127.0.0.1:9000", sink.address.clone()),
    ];

    let workdir = std::env::temp_dir().join(format!("hookgate-readme-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&workdir).unwrap();
    std::fs::write(workdir.join("hookgate.example.toml"), &config).unwrap();
    let state = workdir.join(".readme-env");
    let binary_dir = Path::new(env!("CARGO_BIN_EXE_hookgate")).parent().unwrap();
    let path = format!(
        "{}:{}",
        binary_dir.display(),
        std::env::var("PATH").unwrap()
    );
    let mut captured = BTreeMap::new();
    let mut last_output = String::new();
    for block in &blocks {
        match block {
            Block::Run(line, text) => {
                let mut script = text.clone();
                for (from, to) in &addresses {
                    script = script.replace(from, to);
                }
                script = with_captured(&script, &captured);
                if let Some(unknown) = placeholder().find(&script) {
                    panic!(
                        "README line {line}: {} was never captured",
                        unknown.as_str()
                    );
                }
                let output = Command::new("bash")
                    .arg("-c")
                    .arg(format!(
                        "set -ea; [ -f {state} ] && . {state}\n{script}\nexport -p | grep -vE '^declare -[a-zA-Z]*r' > {state}",
                        state = state.display()
                    ))
                    .current_dir(&workdir)
                    .env("PATH", &path)
                    .env_remove("HOOKGATE_ADMIN_TOKEN")
                    // The CLI's default admin URL, 127.0.0.1:8081, moved as the others are.
                    .env("HOOKGATE_ADMIN_URL", &hookgate_process.admin)
                    .env_remove("DATABASE_URL")
                    .env_remove("HOOKGATE_CONFIG")
                    .output()
                    .expect("bash runs");
                last_output = format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                assert!(
                    output.status.success(),
                    "README line {line}: the block failed:\n{script}\n---\n{last_output}"
                );
            }
            Block::Output(line, expected) => {
                let expected = with_captured(expected, &captured);
                let found = match_lines(&expected, &last_output).unwrap_or_else(|missing| {
                    panic!("README line {line}: {missing:?} not in the output:\n{last_output}")
                });
                captured.extend(found);
            }
            Block::SinkOutput(line, expected) => {
                let expected = with_captured(expected, &captured);
                let deadline = Instant::now() + Duration::from_secs(15);
                let found = loop {
                    match match_lines(&expected, &sink.output()) {
                        Ok(found) => break found,
                        Err(missing) => assert!(
                            Instant::now() < deadline,
                            "README line {line}: {missing:?} not printed by the demo sink:\n{}",
                            sink.output()
                        ),
                    }
                    std::thread::sleep(Duration::from_millis(50));
                };
                captured.extend(found);
            }
        }
    }
    drop(hookgate_process);
    let _ = std::fs::remove_dir_all(&workdir);
}

#[test]
fn blocks_are_paired_with_their_output_and_markers_are_honoured() {
    let readme = "intro\n```sh\necho hi\n```\nprints\n```text\nhi\n```\n\
                  <!-- readme-test: skip -->\n```sh\nscripts/run\n```\n\
                  ```text\nnot an output\n```\n\
                  <!-- readme-test: demo-sink -->\n```text\nPOST /hooks\n```\n\
                  ```toml\na = 1\n```\n";
    assert_eq!(
        parse(readme),
        [
            Block::Run(2, "echo hi".into()),
            Block::Output(6, "hi".into()),
            Block::SinkOutput(17, "POST /hooks".into()),
        ]
    );
}

#[test]
fn expected_lines_match_in_order_and_capture_placeholders() {
    let output = "HTTP/1.1   202 Accepted\nx: y\n{\"id\":\"0197\",\"event_id\":\"evt_1\"}\n";
    let found = match_lines(
        "HTTP/1.1 202 Accepted\n{\"id\":\"<id>\",\"event_id\":\"<event_id>\"}",
        output,
    )
    .unwrap();
    assert_eq!(found["id"], "0197");
    assert_eq!(found["event_id"], "evt_1");
    assert_eq!(
        match_lines("x: y\nHTTP/1.1 202 Accepted", output),
        Err("HTTP/1.1 202 Accepted".to_owned())
    );
}
