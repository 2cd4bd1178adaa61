//! `make bench`: how fast the release `bootstrap` starts and serves, and how much memory and
//! how many instructions it takes, against the local emulator. Prints a table; asserts
//! nothing about speed (wall times depend on the machine, instruction counts do not).
//!
//!     cargo run --profile bench --example bench -- <path-to-bootstrap> <event.json>
//!
//! What is measured, each a median unless it says otherwise:
//! - exec → exit when the Runtime API refuses the connection (start-up and shut-down alone);
//! - init: exec → the first `GET /next` arriving, on a bare socket, so that no emulator
//!   thread hop is counted;
//! - cold path: exec → the first Slack POST arriving at the emulator, the event already
//!   queued: init, the signed Secrets Manager call and the post;
//! - warm invocation: an event queued → its `/response` recorded by the emulator, over
//!   1,000 invocations (the secret is cached), which includes the emulator's own request
//!   handling; and the bootstrap's own CPU time per invocation (/proc/PID/schedstat);
//! - peak RSS (VmHWM) after 1,000 and after 10,000 invocations;
//! - instructions (valgrind's callgrind, when installed): a cold start up to its first
//!   response, and per warm invocation (the mean of 100).

use emulator::{Bootstrap, Emulator, Options, Outcome};
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use testkit::emulator;

const START_RUNS: usize = 101;
const COLD_RUNS: usize = 31;
const WARM_TIMED: usize = 1_000;
const WARM_TOTAL: usize = 10_000;
const CALLGRIND_WARM: usize = 100;

fn main() -> ExitCode {
    let (binary, _, event) = match emulator::process::program_args("bench") {
        Ok(args) => args,
        Err(code) => return code,
    };

    let mut rows: Vec<(String, String)> = Vec::new();
    let refused = exec_to_exit_refused(&binary);
    rows.push((
        format!("exec → exit, Runtime API refused ({START_RUNS} runs)"),
        ms(median(refused)),
    ));
    let init = init_times(&binary);
    rows.push((
        format!("init: exec → first GET /next ({START_RUNS} runs)"),
        ms(median(init)),
    ));
    let cold = match cold_paths(&binary, &event) {
        Ok(times) => times,
        Err(why) => return fail(&why),
    };
    rows.push((
        format!("cold path: exec → first Slack POST ({COLD_RUNS} runs)"),
        ms(median(cold)),
    ));
    let warm = match warm_invocations(&binary, &event) {
        Ok(warm) => warm,
        Err(why) => return fail(&why),
    };
    rows.push((
        format!(
            "warm invocation: event → /response ({} runs)",
            thousands(WARM_TIMED as u64)
        ),
        ms(median(warm.latencies)),
    ));
    rows.push((
        format!(
            "warm invocation: bootstrap CPU time (mean of {})",
            thousands(WARM_TIMED as u64)
        ),
        warm.cpu_per_invocation.map_or("n/a".to_string(), ms),
    ));
    rows.push((
        format!(
            "peak RSS after {} invocations",
            thousands(WARM_TIMED as u64)
        ),
        kib(warm.hwm_after_timed),
    ));
    rows.push((
        format!(
            "peak RSS after {} invocations",
            thousands(WARM_TOTAL as u64)
        ),
        kib(warm.hwm_after_total),
    ));
    match instructions(&binary, &event) {
        Ok(Some(counts)) => {
            rows.push((
                "instructions: exec → exit, Runtime API refused".to_string(),
                thousands(counts.refused),
            ));
            rows.push((
                "instructions: cold start to first response".to_string(),
                thousands(counts.cold),
            ));
            rows.push((
                format!("instructions: per warm invocation (mean of {CALLGRIND_WARM})"),
                thousands(counts.per_warm),
            ));
        }
        Ok(None) => rows.push((
            "instructions (valgrind not installed)".to_string(),
            "n/a".to_string(),
        )),
        Err(why) => return fail(&why),
    }

    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    println!("{:<width$}  {:>12}", "what", "median");
    for (what, value) in &rows {
        let pad = width - what.chars().count();
        println!("{what}{}  {value:>12}", " ".repeat(pad));
    }
    ExitCode::SUCCESS
}

fn fail(why: &str) -> ExitCode {
    eprintln!("bench: {why}");
    ExitCode::FAILURE
}

/// The environment of a correctly configured function whose Runtime API is `api`.
fn lambda_env(emu: &Emulator, api: &str) -> Vec<(String, String)> {
    let mut env = emu.env();
    for (k, v) in env.iter_mut() {
        if k == "AWS_LAMBDA_RUNTIME_API" {
            *v = api.to_string();
        }
    }
    env
}

fn command(binary: &Path, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn exec_to_exit_refused(binary: &Path) -> Vec<Duration> {
    let emu = Emulator::start(Options::default());
    // A port that was just free: nothing listens, so the first connect is refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let env = lambda_env(&emu, &format!("127.0.0.1:{port}"));
    (0..START_RUNS)
        .map(|_| {
            let started = Instant::now();
            let status = command(binary, &env).status().expect("run bootstrap");
            let took = started.elapsed();
            assert!(!status.success(), "bootstrap should exit with an error");
            took
        })
        .collect()
}

fn init_times(binary: &Path) -> Vec<Duration> {
    let emu = Emulator::start(Options::default());
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let api = listener.local_addr().expect("addr").to_string();
    let env = lambda_env(&emu, &api);
    (0..START_RUNS)
        .map(|_| {
            let started = Instant::now();
            let mut child = command(binary, &env).spawn().expect("spawn bootstrap");
            let (mut stream, _) = listener.accept().expect("accept");
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let took = started.elapsed();
            assert!(
                head.starts_with(b"GET /2018-06-01/runtime/invocation/next "),
                "unexpected first request: {}",
                String::from_utf8_lossy(&head)
            );
            let _ = child.kill();
            let _ = child.wait();
            took
        })
        .collect()
}

fn cold_paths(binary: &Path, event: &[u8]) -> Result<Vec<Duration>, String> {
    let mut times = Vec::new();
    for _ in 0..COLD_RUNS {
        let emu = Emulator::start(Options::default());
        let id = emu.push_event(event.to_vec());
        let started = Instant::now();
        let mut process = Bootstrap::spawn(binary, &emu.env());
        emu.wait_slack_posts(1);
        times.push(started.elapsed());
        expect_response(emu.wait_outcome(&id), &process)?;
        process.kill();
    }
    Ok(times)
}

struct Warm {
    latencies: Vec<Duration>,
    cpu_per_invocation: Option<Duration>,
    hwm_after_timed: Option<u64>,
    hwm_after_total: Option<u64>,
}

fn warm_invocations(binary: &Path, event: &[u8]) -> Result<Warm, String> {
    let emu = Emulator::start(Options::default());
    let mut process = Bootstrap::spawn(binary, &emu.env());
    let pid = process.pid();
    // The cold one: fetches and caches the secret.
    expect_response(emu.wait_outcome(&emu.push_event(event.to_vec())), &process)?;

    let cpu_before = cpu_time(pid);
    let mut latencies = Vec::with_capacity(WARM_TIMED);
    for _ in 0..WARM_TIMED {
        let started = Instant::now();
        let id = emu.push_event(event.to_vec());
        let outcome = emu.wait_outcome(&id);
        latencies.push(started.elapsed());
        expect_response(outcome, &process)?;
    }
    let cpu_per_invocation = match (cpu_before, cpu_time(pid)) {
        (Some(before), Some(after)) => Some((after - before) / WARM_TIMED as u32),
        _ => None,
    };
    let hwm_after_timed = peak_rss_kib(pid);
    for _ in WARM_TIMED..WARM_TOTAL {
        expect_response(emu.wait_outcome(&emu.push_event(event.to_vec())), &process)?;
    }
    let hwm_after_total = peak_rss_kib(pid);
    if emu.secret_calls() != 1 {
        return Err(format!(
            "expected one Secrets Manager call for {} invocations, saw {}",
            WARM_TOTAL + 1,
            emu.secret_calls()
        ));
    }
    process.kill();
    Ok(Warm {
        latencies,
        cpu_per_invocation,
        hwm_after_timed,
        hwm_after_total,
    })
}

fn expect_response(outcome: Outcome, process: &Bootstrap) -> Result<(), String> {
    match outcome {
        Outcome::Response(_) => Ok(()),
        Outcome::Error(posted) => Err(format!(
            "an invocation failed: {}\n{}",
            posted.body,
            process.stdout()
        )),
    }
}

struct Instructions {
    refused: u64,
    cold: u64,
    per_warm: u64,
}

/// Runs the bootstrap under callgrind three times: against a refused Runtime API; one
/// invocation; one plus `CALLGRIND_WARM` invocations. The Runtime API then answers 500, so
/// the process exits and callgrind writes its totals.
fn instructions(binary: &Path, event: &[u8]) -> Result<Option<Instructions>, String> {
    let Some(valgrind) = ["/usr/bin/valgrind", "/usr/local/bin/valgrind"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file())
    else {
        return Ok(None);
    };
    let dir = std::env::temp_dir().join(format!("alarm-to-slack-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let run = |name: &str, warm: Option<usize>| -> Result<u64, String> {
        let out = dir.join(format!("callgrind.{name}"));
        let wrapper = dir.join(format!("bootstrap-{name}"));
        let script = format!(
            "#!/bin/sh\nexec {} -q --tool=callgrind --callgrind-out-file={} {}\n",
            valgrind.display(),
            out.display(),
            binary.display()
        );
        std::fs::write(&wrapper, script).map_err(|e| format!("write wrapper: {e}"))?;
        Command::new("chmod")
            .arg("755")
            .arg(&wrapper)
            .status()
            .map_err(|e| format!("chmod: {e}"))?;
        let emu = Emulator::start(Options::default());
        let mut env = emu.env();
        if warm.is_none() {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .map_err(|e| format!("free port: {e}"))?;
            env = lambda_env(&emu, &format!("127.0.0.1:{port}"));
        }
        let mut process = Bootstrap::spawn(&wrapper, &env);
        if let Some(warm) = warm {
            for _ in 0..=warm {
                expect_response(emu.wait_outcome(&emu.push_event(event.to_vec())), &process)?;
            }
            emu.fail_next_with(500);
        }
        process.wait_exit();
        let text = std::fs::read_to_string(&out)
            .map_err(|e| format!("no callgrind output {}: {e}", out.display()))?;
        text.lines()
            .find_map(|l| l.strip_prefix("totals:"))
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| format!("no totals in {}", out.display()))
    };
    let refused = run("refused", None)?;
    let cold = run("cold", Some(0))?;
    let warm = run("warm", Some(CALLGRIND_WARM))?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Some(Instructions {
        refused,
        cold,
        per_warm: warm.saturating_sub(cold) / CALLGRIND_WARM as u64,
    }))
}

/// Time the process has spent on a CPU (first field of /proc/PID/schedstat, in ns).
fn cpu_time(pid: u32) -> Option<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    let ns = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn kib(v: Option<u64>) -> String {
    v.map_or("n/a".to_string(), |k| format!("{} KiB", thousands(k)))
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
