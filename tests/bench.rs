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
//!   response, and per warm invocation (the mean of 100);
//! - round trips: with every byte to and from Secrets Manager and Slack delayed by a one-way
//!   latency (`BENCH_DELAY_MS`, default 10), the time from an event to its Slack POST arriving,
//!   divided by the round-trip time: cold (from exec), warm, warm after `BENCH_IDLE_SECONDS`
//!   of idleness (default `16,60`; add 300 for five minutes), and warm after the server closed
//!   the idle connection; each with the connections it opened;
//! - the same in app mode with incident threads (`INCIDENT_TABLE`, the emulator's DynamoDB
//!   stand-in behind the same delay, `SLACK_PRECONNECT` at the Web API): event (or exec) →
//!   `chat.postMessage` arriving, for an `ALARM` that opens an incident (a new alarm each
//!   time) and for the `OK` after it (the reply in its thread; also when another instance
//!   opened the incident), cold, warm and after idleness; each with event → `/response`, the
//!   part of event → post not spent waiting for DynamoDB when warm (at most the bootstrap's:
//!   see `App::local_work`), the DynamoDB calls before the post and in all, and the
//!   connections it opened (storm grouping
//!   on with `STORM_THRESHOLD=1000`, which no run reaches: see `App::instance`; Slack's pace
//!   off, as in every row, so that back-to-back events are not held a second apart); the cold
//!   start also with storm grouping off, which writes no count beside the claim;
//! - the same with the buttons (`SLACK_SIGNING_SECRET`): a click through the function's URL
//!   (a signed Function URL event, `emulator/click.rs`) on an incident's parent, to the HTTP
//!   answer reaching `/response` and to its `chat.update` reaching Slack: cold (exec → …, the
//!   click the first event; with `auth.test`, and with `SLACK_TEAM_ID` in the secret instead)
//!   for Acknowledge, and warm (the event handed out by `GET /next` → …) for Acknowledge and
//!   Mute; each with the DynamoDB and Web API calls before the answer and in all (the answer
//!   goes out first), and the connections it opened;
//! - then syscalls (strace, when installed) and CPU time per warm webhook invocation, beside
//!   a std-only loop doing the same HTTP exchanges in the same run (`--std-loop`, see
//!   `std_loop`) and their ratio; and app mode's CPU time per warm invocation (the main
//!   thread's median, and the mean of all threads, those beside the claim included). With
//!   `BENCH_BASELINE=<another bootstrap>`, side by side with that one (n/a where it has no
//!   app mode).
//!
//! `BENCH=latency` runs only the round trips (and syscalls and CPU), `BENCH=cpu` only the CPU
//! rows (a few seconds), `BENCH=instructions` only the callgrind rows (`BENCH_CALLGRIND_OUT=<dir>`
//! keeps the profiles, for `callgrind_annotate` on the `bloat` build, which has symbols).

use emulator::delay::{DelayProxy, Passage};
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
    if std::env::args().nth(1).as_deref() == Some(std_loop::FLAG) {
        return std_loop::main();
    }
    let (binary, _, event) = match emulator::process::program_args("bench") {
        Ok(args) => args,
        Err(code) => return code,
    };
    let only = std::env::var("BENCH").ok();
    if matches!(only.as_deref(), Some("latency" | "cpu")) {
        return match latency::table(&binary, &event, only.as_deref() == Some("cpu")) {
            Ok(()) => ExitCode::SUCCESS,
            Err(why) => fail(&why),
        };
    }

    let mut rows: Vec<(String, String)> = Vec::new();
    // BENCH=instructions: only the callgrind rows.
    if only.as_deref() != Some("instructions") {
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
    }
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
    if only.as_deref() == Some("instructions") {
        return ExitCode::SUCCESS;
    }
    println!();
    match latency::table(&binary, &event, false) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => fail(&why),
    }
}

fn fail(why: &str) -> ExitCode {
    eprintln!("bench: {why}");
    ExitCode::FAILURE
}

/// The emulator's environment with Slack's per-channel pace off: every row times one alarm,
/// and back-to-back alarms to one channel would otherwise time the pace's one-second wait
/// (the storm benchmark, `make bench-storm`, is where the pace is measured).
fn bench_env(emu: &Emulator) -> Vec<(String, String)> {
    let mut env = emu.env();
    env.push(("SLACK_PACE_MILLISECONDS".to_string(), "0".to_string()));
    env
}

/// The environment of a correctly configured function whose Runtime API is `api`.
fn lambda_env(emu: &Emulator, api: &str) -> Vec<(String, String)> {
    let mut env = bench_env(emu);
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
        let mut process = Bootstrap::spawn(binary, &bench_env(&emu));
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
    let mut process = Bootstrap::spawn(binary, &bench_env(&emu));
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
    // BENCH_CALLGRIND_OUT keeps the profiles there, for callgrind_annotate (a build with
    // symbols: the `bloat` profile).
    let keep = std::env::var_os("BENCH_CALLGRIND_OUT").map(std::path::PathBuf::from);
    let dir = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("alarm-to-slack-bench-{}", std::process::id()))
    });
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
        let mut env = bench_env(&emu);
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
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
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

/// CPU time of every thread the process ran, those ended included (utime + stime of
/// /proc/PID/stat): in clock ticks, so only for long spans.
fn process_cpu_time(pid: u32) -> Option<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command's closing parenthesis: state (field 3), …, utime (14), stime (15).
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf reads a constant of the system and has no preconditions.
    let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok()?;
    Some(Duration::from_nanos(
        ticks * 1_000_000_000 / per_second.max(1),
    ))
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mean(values: &[Duration]) -> Duration {
    let total: Duration = values.iter().sum();
    total / values.len().max(1) as u32
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

/// Round trips, syscalls and CPU per warm invocation, for this bootstrap and, with
/// `BENCH_BASELINE`, another one side by side.
mod latency {
    use super::*;
    use emulator::click::{Click, SIGNING_SECRET};
    use emulator::dynamodb::{DdbCall, DEFAULT_TABLE};
    use emulator::slack_api::{ApiCall, DEFAULT_BOT_TOKEN, DEFAULT_CHANNEL_ID, TEAM_ID};
    use serde_json::{json, Value};
    use std::collections::{BTreeMap, BTreeSet};
    use std::net::SocketAddr;
    use std::rc::Rc;
    use testkit::common;

    /// Cold starts and warm invocations timed, each reported as a median.
    const COLD: usize = 9;
    const WARM: usize = 21;
    /// Processes per idle case, all idle at once, their timed invocations staggered.
    const IDLE_RUNS: usize = 3;
    const STAGGER: Duration = Duration::from_millis(300);
    /// Warm invocations counted by strace and by the CPU clock.
    const STRACE_WARM: usize = 50;
    const CPU_WARM: usize = 500;
    /// The proxy's keep-alive limit in the "server closed it" case, and the idleness after it.
    const SERVER_IDLE: Duration = Duration::from_secs(2);
    const CLOSED_AFTER: Duration = Duration::from_secs(3);

    struct Column {
        name: String,
        binary: std::path::PathBuf,
        /// A build to compare with: app mode may be beyond it (its rows say n/a).
        baseline: bool,
    }

    /// One timed invocation: event (or exec) → its post arriving, and what it cost.
    #[derive(Clone, Debug)]
    struct Sample {
        took: Duration,
        /// App mode: event → the invocation's `/response`.
        done: Option<Duration>,
        /// App mode: DynamoDB calls that arrived before the post, and in the whole invocation.
        dynamodb: Option<(usize, usize)>,
        /// Connections the invocation opened, per peer (`Delayed::PEERS`, `App::PEERS`).
        connections: Vec<usize>,
        /// App mode, warm: of the event handed out → the post sent, the time not spent
        /// waiting for DynamoDB ([`App::local_work`]).
        local: Option<Duration>,
    }

    /// What a case measured in each column; `Err` is a column that cannot run it.
    type Measured = Vec<Result<Vec<Sample>, String>>;

    /// One timed click through the function's URL: from `started` (exec on a cold start, else
    /// the event handed out by the Runtime API) to the HTTP answer reaching `/response` and to
    /// the parent's `chat.update` reaching Slack; and what the click cost until the process
    /// asked for its next event, since it goes on after its answer.
    #[derive(Clone, Debug)]
    struct ClickSample {
        answer: Duration,
        /// The event handed out → the answer (the same as `answer` when warm).
        handed_to_answer: Duration,
        update: Duration,
        /// DynamoDB and Web API calls that reached them before the answer reached the
        /// Runtime API, and in all.
        dynamodb: (usize, usize),
        web_api: (usize, usize),
        /// Connections opened, per peer (as `App::proxies` lists them).
        connections: Vec<usize>,
    }

    type ClickMeasured = Vec<Result<Vec<ClickSample>, String>>;

    /// One idle case: how long, and what is timed after it.
    #[derive(Clone, Copy)]
    enum Idle {
        /// Webhook; with the proxy closing connections idle this long.
        Webhook(Option<Duration>),
        /// App mode: an opening ALARM of a new alarm, or the next transition of the one the
        /// cold invocation opened (a reply in its thread).
        App { later: bool },
    }

    /// With `BENCH_BASELINE`, that build first, then this one.
    fn columns(binary: &Path) -> Vec<Column> {
        let mut columns = Vec::new();
        if let Ok(base) = std::env::var("BENCH_BASELINE") {
            let name = std::env::var("BENCH_BASELINE_NAME").unwrap_or_else(|_| "baseline".into());
            columns.push(Column {
                name,
                binary: base.into(),
                baseline: true,
            });
        }
        columns.push(Column {
            name: "this build".to_string(),
            binary: binary.to_path_buf(),
            baseline: false,
        });
        columns
    }

    /// The round trips, syscalls and CPU; with `cpu_only` only the CPU rows.
    pub fn table(binary: &Path, event: &[u8], cpu_only: bool) -> Result<(), String> {
        let one_way = Duration::from_millis(env_number("BENCH_DELAY_MS", 10)?);
        let idles: Vec<u64> = std::env::var("BENCH_IDLE_SECONDS")
            .unwrap_or_else(|_| "16,60".to_string())
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .map_err(|_| format!("BENCH_IDLE_SECONDS: {s:?}"))
            })
            .collect::<Result<_, _>>()?;
        let columns = columns(binary);
        if cpu_only {
            let mut rows = vec![("webhook, warm".to_string(), Vec::new())];
            cpu_rows(&columns, event, &mut rows)?;
            print_rows(&columns, &rows);
            return Ok(());
        }

        let rtt = (one_way * 2).as_secs_f64();
        let mut rows: Vec<(String, Vec<String>)> = Vec::new();
        // Round trips, and the milliseconds they are (what a zero delay leaves: local work).
        let rtts = |d: Duration| match rtt > 0.0 {
            true => format!(
                "{:.2} ({:.1} ms)",
                d.as_secs_f64() / rtt,
                d.as_secs_f64() * 1e3
            ),
            false => format!("({:.1} ms)", d.as_secs_f64() * 1e3),
        };
        let webhook_connections = "  new connections: Secrets Manager + Slack";
        let app_connections = "  new connections: Secrets Manager + Slack + DynamoDB";

        rows.push(("webhook (SLACK_PRECONNECT)".to_string(), Vec::new()));
        let measured: Measured = columns
            .iter()
            .map(|c| cold(&c.binary, event, one_way).map(Ok))
            .collect::<Result<_, _>>()?;
        push_case(
            &mut rows,
            format!("cold: exec → Slack POST, RTT (median of {COLD})"),
            &measured,
            &rtts,
            webhook_connections,
        );
        let measured: Measured = columns
            .iter()
            .map(|c| warm(&c.binary, event, one_way).map(Ok))
            .collect::<Result<_, _>>()?;
        push_case(
            &mut rows,
            format!("warm: event → Slack POST, RTT (median of {WARM})"),
            &measured,
            &rtts,
            webhook_connections,
        );

        // App mode's cold starts and warm invocations, before the idle cases start.
        let (mut app_cold, mut app_cold_unstormed): (Measured, Measured) = Default::default();
        let (mut app_open, mut app_later, mut app_elsewhere): (Measured, Measured, Measured) =
            Default::default();
        for c in &columns {
            app_cold.push(tolerate(c, app_cold_starts(&c.binary, one_way, true))?);
            app_cold_unstormed.push(tolerate(c, app_cold_starts(&c.binary, one_way, false))?);
            let (open, later, elsewhere) = match app_warm(&c.binary, one_way) {
                Ok(w) => (Ok(w.open), Ok(w.later), Ok(w.elsewhere)),
                Err(why) => (Err(why.clone()), Err(why.clone()), Err(why)),
            };
            app_open.push(tolerate(c, open)?);
            app_later.push(tolerate(c, later)?);
            app_elsewhere.push(tolerate(c, elsewhere)?);
        }
        // Clicks on the buttons, also before the idle cases.
        let (mut click_cold, mut click_cold_team): (ClickMeasured, ClickMeasured) =
            Default::default();
        let (mut click_ack, mut click_mute): (ClickMeasured, ClickMeasured) = Default::default();
        for c in &columns {
            click_cold.push(tolerate(c, click_cold_starts(&c.binary, one_way, false))?);
            click_cold_team.push(tolerate(c, click_cold_starts(&c.binary, one_way, true))?);
            let (ack, mute) = match click_warm(&c.binary, one_way) {
                Ok(w) => (Ok(w.ack), Ok(w.mute)),
                Err(why) => (Err(why.clone()), Err(why)),
            };
            click_ack.push(tolerate(c, ack)?);
            click_mute.push(tolerate(c, mute)?);
        }

        // Every idle case waits at the same time, so the longest sets the duration; each
        // process starts a little after the one before, so that no two timed invocations
        // compete for the two cores.
        let mut cases: Vec<(String, Duration, Idle)> = Vec::new();
        for &secs in &idles {
            let what = format!("warm after {secs} s idle, RTT (median of {IDLE_RUNS})");
            cases.push((what, Duration::from_secs(secs), Idle::Webhook(None)));
        }
        cases.push((
            format!(
                "warm after the server closed it ({} s keep-alive), RTT",
                SERVER_IDLE.as_secs()
            ),
            CLOSED_AFTER,
            Idle::Webhook(Some(SERVER_IDLE)),
        ));
        for &secs in &idles {
            for (later, what) in [(false, "opening ALARM"), (true, "later transition")] {
                let what = format!("warm after {secs} s idle, {what}, RTT (median of {IDLE_RUNS})");
                cases.push((what, Duration::from_secs(secs), Idle::App { later }));
            }
        }
        let mut runs = Vec::new();
        for (case, (_, idle, kind)) in cases.iter().enumerate() {
            for (column, c) in columns.iter().enumerate() {
                for _ in 0..IDLE_RUNS {
                    let start = STAGGER * runs.len() as u32;
                    let (binary, event, idle, kind) =
                        (c.binary.clone(), event.to_vec(), *idle, *kind);
                    let run = std::thread::spawn(move || {
                        // Staggering, not synchronisation: see above.
                        std::thread::sleep(start);
                        match kind {
                            Idle::Webhook(server_idle) => {
                                after_idle(&binary, &event, one_way, idle, server_idle)
                            }
                            Idle::App { later } => app_after_idle(&binary, one_way, idle, later),
                        }
                    });
                    runs.push(((case, column), run));
                }
            }
        }

        let mut took: BTreeMap<(usize, usize), Result<Vec<Sample>, String>> = BTreeMap::new();
        for ((case, column), run) in runs {
            let sample = run.join().map_err(|_| "an idle run panicked".to_string())?;
            let entry = took.entry((case, column)).or_insert(Ok(Vec::new()));
            match (entry, sample) {
                (Ok(samples), Ok(sample)) => samples.push(sample),
                (entry @ Ok(_), Err(why)) => *entry = Err(why),
                (Err(_), _) => {}
            }
        }
        let mut idle_rows =
            |rows: &mut Vec<(String, Vec<String>)>, app: bool| -> Result<(), String> {
                for (case, (what, _, kind)) in cases.iter().enumerate() {
                    if matches!(kind, Idle::App { .. }) != app {
                        continue;
                    }
                    let measured: Measured = columns
                        .iter()
                        .enumerate()
                        .map(|(column, c)| {
                            let result = took.remove(&(case, column)).unwrap_or(Ok(Vec::new()));
                            match app {
                                true => tolerate(c, result),
                                false => result.map(Ok),
                            }
                        })
                        .collect::<Result<_, _>>()?;
                    let connections = match app {
                        true => app_connections,
                        false => webhook_connections,
                    };
                    push_case(rows, what.clone(), &measured, &rtts, connections);
                }
                Ok(())
            };
        idle_rows(&mut rows, false)?;

        rows.push((
            format!("app mode + INCIDENT_TABLE + SLACK_PRECONNECT (DynamoDB {DEFAULT_TABLE})"),
            Vec::new(),
        ));
        push_case(
            &mut rows,
            format!("cold: exec → chat.postMessage, opening ALARM, RTT (median of {COLD})"),
            &app_cold,
            &rtts,
            app_connections,
        );
        push_case(
            &mut rows,
            format!(
                "cold: the same, storm grouping off (STORM_THRESHOLD=0), RTT (median of {COLD})"
            ),
            &app_cold_unstormed,
            &rtts,
            app_connections,
        );
        push_case(
            &mut rows,
            format!("warm: event → chat.postMessage, opening ALARM, RTT (median of {WARM})"),
            &app_open,
            &rtts,
            app_connections,
        );
        push_case(
            &mut rows,
            format!("warm: event → the reply's chat.postMessage, later transition, RTT (median of {WARM})"),
            &app_later,
            &rtts,
            app_connections,
        );
        push_case(
            &mut rows,
            format!(
                "warm: the same, for an incident another instance opened, RTT (median of {WARM})"
            ),
            &app_elsewhere,
            &rtts,
            app_connections,
        );
        idle_rows(&mut rows, true)?;

        rows.push((
            "buttons: a click through the function's URL (the same + SLACK_SIGNING_SECRET)"
                .to_string(),
            Vec::new(),
        ));
        push_click_case(
            &mut rows,
            format!("cold: exec → HTTP answer, Acknowledge, auth.test, RTT (median of {COLD})"),
            &click_cold,
            &rtts,
            true,
        );
        push_click_case(
            &mut rows,
            format!(
                "cold: the same, SLACK_TEAM_ID in the secret: no auth.test, RTT (median of {COLD})"
            ),
            &click_cold_team,
            &rtts,
            true,
        );
        push_click_case(
            &mut rows,
            format!("warm: event handed out → HTTP answer, Acknowledge, RTT (median of {WARM})"),
            &click_ack,
            &rtts,
            false,
        );
        push_click_case(
            &mut rows,
            format!("warm: the same, Mute until OK, RTT (median of {WARM})"),
            &click_mute,
            &rtts,
            false,
        );

        rows.push(("webhook, warm".to_string(), Vec::new()));
        let calls: Vec<Option<BTreeMap<String, f64>>> = columns
            .iter()
            .map(|c| syscalls(&c.binary, event))
            .collect::<Result<_, _>>()?;
        rows.push((
            format!("syscalls per warm invocation (strace -f, mean of {STRACE_WARM})"),
            calls
                .iter()
                .map(|c| {
                    c.as_ref()
                        .map_or("n/a".into(), |m| format!("{:.1}", m.values().sum::<f64>()))
                })
                .collect(),
        ));
        let names: BTreeSet<&String> = calls.iter().flatten().flat_map(|m| m.keys()).collect();
        for name in names {
            let values: Vec<String> = calls
                .iter()
                .map(|c| {
                    c.as_ref().map_or("n/a".into(), |m| {
                        format!("{:.1}", m.get(name).copied().unwrap_or(0.0))
                    })
                })
                .collect();
            rows.push((format!("  {name}"), values));
        }
        cpu_rows(&columns, event, &mut rows)?;

        println!(
            "Round trips: Secrets Manager, Slack and DynamoDB {} ms away each way (RTT {} ms), plain HTTP",
            one_way.as_millis(),
            (one_way * 2).as_millis()
        );
        print_rows(&columns, &rows);
        Ok(())
    }

    /// A column that cannot run app mode (a baseline from before it) shows n/a; this build
    /// must run everything.
    fn tolerate<T>(
        column: &Column,
        result: Result<T, String>,
    ) -> Result<Result<T, String>, String> {
        match result {
            Err(why) if column.baseline => {
                let first = why.lines().next().unwrap_or("");
                eprintln!("bench: {} cannot run app mode: {first}", column.name);
                Ok(Err(why))
            }
            Err(why) => Err(why),
            Ok(samples) => Ok(Ok(samples)),
        }
    }

    /// CPU per warm invocation: webhook, beside the std-only loop; app mode.
    fn cpu_rows(
        columns: &[Column],
        event: &[u8],
        rows: &mut Vec<(String, Vec<String>)>,
    ) -> Result<(), String> {
        let cpus: Vec<Option<WebhookCpu>> = columns
            .iter()
            .map(|c| cpu(&c.binary, event))
            .collect::<Result<_, _>>()?;
        let each_cpu = |f: &dyn Fn(&WebhookCpu) -> String| -> Vec<String> {
            cpus.iter()
                .map(|c| c.as_ref().map_or("n/a".into(), f))
                .collect()
        };
        rows.push((
            format!("CPU per warm invocation, user + kernel (mean of {CPU_WARM})"),
            each_cpu(&|c| ms(mean(&c.bootstrap))),
        ));
        rows.push((
            "  median".to_string(),
            each_cpu(&|c| ms(median(c.bootstrap.clone()))),
        ));
        rows.push((
            "  std-only loop, the same exchanges, same run (median)".to_string(),
            each_cpu(&|c| ms(median(c.reference.clone()))),
        ));
        rows.push((
            "  bootstrap / std-only loop (medians)".to_string(),
            each_cpu(&|c| {
                let (ours, theirs) = (median(c.bootstrap.clone()), median(c.reference.clone()));
                format!("{:.2}×", ours.as_secs_f64() / theirs.as_secs_f64())
            }),
        ));
        let app_cpus: Vec<Option<[Duration; 3]>> = columns
            .iter()
            .map(|c| match app_cpu(&c.binary) {
                Ok((open, later, all)) => Ok(Some([median(open), median(later), all])),
                Err(why) if c.baseline => {
                    let first = why.lines().next().unwrap_or("");
                    eprintln!("bench: {} cannot run app mode: {first}", c.name);
                    Ok(None)
                }
                Err(why) => Err(why),
            })
            .collect::<Result<_, _>>()?;
        let what = [
            format!("app mode: CPU per warm invocation, opening ALARM (median of {CPU_WARM})"),
            format!("app mode: CPU per warm invocation, its OK, a reply (median of {CPU_WARM})"),
            "  both, all threads (mean, /proc/PID/stat)".to_string(),
        ];
        for (i, what) in what.into_iter().enumerate() {
            rows.push((
                what,
                app_cpus
                    .iter()
                    .map(|m| m.map_or("n/a".into(), |m| ms(m[i])))
                    .collect(),
            ));
        }

        Ok(())
    }

    fn print_rows(columns: &[Column], rows: &[(String, Vec<String>)]) {
        let width = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        let mut head = format!("{:<width$}", "what");
        for c in columns {
            head.push_str(&format!("  {:>18}", c.name));
        }
        println!("{head}");
        for (what, values) in rows {
            let mut line = format!("{what}{}", " ".repeat(width - what.chars().count()));
            for v in values {
                line.push_str(&format!("  {v:>18}"));
            }
            println!("{}", line.trim_end());
        }
    }

    /// A case's rows: the median time in RTT; for app mode the DynamoDB calls; the new
    /// connections. Counts that differ between runs are all shown (`1 or 2`).
    fn push_case(
        rows: &mut Vec<(String, Vec<String>)>,
        what: String,
        measured: &Measured,
        rtts: &dyn Fn(Duration) -> String,
        connections: &str,
    ) {
        let each = |f: &dyn Fn(&[Sample]) -> String| each(measured, f);
        rows.push((
            what,
            each(&|s| rtts(median(s.iter().map(|s| s.took).collect()))),
        ));
        let app = measured
            .iter()
            .flatten()
            .flatten()
            .any(|s| s.dynamodb.is_some());
        if app {
            rows.push((
                "  event → /response, RTT".to_string(),
                each(&|s| {
                    let done: Vec<Duration> = s.iter().filter_map(|s| s.done).collect();
                    rtts(median(done))
                }),
            ));
            if measured
                .iter()
                .flatten()
                .flatten()
                .any(|s| s.local.is_some())
            {
                rows.push((
                    "  of it, not waiting for DynamoDB (the bootstrap, at most), ms".to_string(),
                    each(&|s| {
                        let local: Vec<Duration> = s.iter().filter_map(|s| s.local).collect();
                        format!("{:.2}", median(local).as_secs_f64() * 1e3)
                    }),
                ));
            }
            rows.push((
                "  DynamoDB calls: before the post / in all".to_string(),
                each(&|s| {
                    distinct(s, &|s| {
                        s.dynamodb
                            .map_or("n/a".into(), |(before, all)| format!("{before} / {all}"))
                    })
                }),
            ));
        }
        rows.push((
            connections.to_string(),
            each(&|s| {
                distinct(s, &|s| {
                    let n: Vec<String> = s.connections.iter().map(usize::to_string).collect();
                    n.join(" + ")
                })
            }),
        ));
    }

    /// A click case's rows: the median times to the HTTP answer and to `chat.update`, in RTT;
    /// the DynamoDB and Web API calls before the answer and in all; the new connections.
    fn push_click_case(
        rows: &mut Vec<(String, Vec<String>)>,
        what: String,
        measured: &ClickMeasured,
        rtts: &dyn Fn(Duration) -> String,
        cold: bool,
    ) {
        let time = |f: &dyn Fn(&ClickSample) -> Duration| {
            each(measured, &|s| rtts(median(s.iter().map(f).collect())))
        };
        let calls = |f: &dyn Fn(&ClickSample) -> (usize, usize)| {
            each(measured, &|s| {
                distinct(s, &|s| {
                    let (before, all) = f(s);
                    format!("{before} / {all}")
                })
            })
        };
        rows.push((what, time(&|s| s.answer)));
        let from = match cold {
            true => {
                rows.push((
                    "  event handed out → HTTP answer, RTT".to_string(),
                    time(&|s| s.handed_to_answer),
                ));
                "exec"
            }
            false => "event handed out",
        };
        rows.push((
            format!("  {from} → chat.update reaching Slack, RTT"),
            time(&|s| s.update),
        ));
        rows.push((
            "  DynamoDB calls: before the answer / in all".to_string(),
            calls(&|s| s.dynamodb),
        ));
        rows.push((
            "  Web API calls: before the answer / in all".to_string(),
            calls(&|s| s.web_api),
        ));
        rows.push((
            "  new connections: Secrets Manager + Slack + DynamoDB".to_string(),
            each(measured, &|s| {
                distinct(s, &|s| {
                    let n: Vec<String> = s.connections.iter().map(usize::to_string).collect();
                    n.join(" + ")
                })
            }),
        ));
    }

    /// A value per column from its samples; n/a for a column without any.
    fn each<S>(measured: &[Result<Vec<S>, String>], f: &dyn Fn(&[S]) -> String) -> Vec<String> {
        measured
            .iter()
            .map(|m| match m {
                Ok(samples) if !samples.is_empty() => f(samples),
                _ => "n/a".to_string(),
            })
            .collect()
    }

    /// Every value `f` takes over the samples: counts that differ between runs are all shown
    /// (`1 or 2`).
    fn distinct<S>(samples: &[S], f: &dyn Fn(&S) -> String) -> String {
        let seen: BTreeSet<String> = samples.iter().map(f).collect();
        seen.into_iter().collect::<Vec<_>>().join(" or ")
    }

    fn env_number(name: &str, default: u64) -> Result<u64, String> {
        match std::env::var(name) {
            Err(_) => Ok(default),
            Ok(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("{name}: {v:?} is not a number")),
        }
    }

    /// `127.0.0.1:PORT` of an emulator URL.
    fn addr(url: &str) -> SocketAddr {
        let rest = url.trim_start_matches("http://");
        rest.split('/')
            .next()
            .unwrap_or(rest)
            .parse()
            .expect("emulator address")
    }

    /// Connections each proxy accepted since `before`.
    fn opened(proxies: &[&DelayProxy], before: &[usize]) -> Vec<usize> {
        proxies
            .iter()
            .zip(before)
            .map(|(p, b)| p.connections() - b)
            .collect()
    }

    /// The emulator with Secrets Manager and Slack behind delaying proxies, and the
    /// bootstrap's environment pointing at the proxies.
    struct Delayed {
        emu: Emulator,
        secrets: DelayProxy,
        slack: DelayProxy,
        env: Vec<(String, String)>,
    }

    fn delayed(one_way: Duration, server_idle: Option<Duration>) -> Delayed {
        let emu = Emulator::start(Options::default());
        let secrets = DelayProxy::start(addr(&emu.secrets_manager_url()), one_way, server_idle);
        let slack = DelayProxy::start(addr(&emu.slack_url()), one_way, server_idle);
        let slack_origin = format!("http://{}", slack.addr());
        emu.set_secret_string(&emulator::default_secret_json(
            &format!("{slack_origin}{}", emulator::SLACK_HOOK_PATH),
            Some("#alerts"),
        ));
        let mut env = bench_env(&emu);
        for (k, v) in env.iter_mut() {
            match k.as_str() {
                "AWS_ENDPOINT_URL_SECRETS_MANAGER" => *v = format!("http://{}", secrets.addr()),
                // hooks.slack.com for a real function; here the proxy. A build that does
                // not know the variable ignores it.
                "SLACK_PRECONNECT" => v.clone_from(&slack_origin),
                _ => {}
            }
        }
        // Long enough that no idle period below makes the secret expire: only the
        // connections' reuse is measured.
        env.push(("SECRET_TTL_SECONDS".to_string(), "3600".to_string()));
        Delayed {
            emu,
            secrets,
            slack,
            env,
        }
    }

    impl Delayed {
        fn proxies(&self) -> [&DelayProxy; 2] {
            [&self.secrets, &self.slack]
        }

        /// One event, timed from `started` to its Slack POST arriving (the `n`th).
        fn post(
            &self,
            n: usize,
            started: Option<Instant>,
            process: &Bootstrap,
            event: &[u8],
        ) -> Result<Sample, String> {
            let started = started.unwrap_or_else(Instant::now);
            let before: Vec<usize> = self.proxies().iter().map(|p| p.connections()).collect();
            let id = self.emu.push_event(event.to_vec());
            self.emu.wait_slack_posts(n);
            let took = started.elapsed();
            expect_response(self.emu.wait_outcome(&id), process)?;
            Ok(Sample {
                took,
                done: None,
                dynamodb: None,
                connections: opened(&self.proxies(), &before),
                local: None,
            })
        }
    }

    fn cold(binary: &Path, event: &[u8], one_way: Duration) -> Result<Vec<Sample>, String> {
        let mut samples = Vec::new();
        for _ in 0..COLD {
            let d = delayed(one_way, None);
            let started = Instant::now();
            let mut process = Bootstrap::spawn(binary, &d.env);
            samples.push(d.post(1, Some(started), &process, event)?);
            process.kill();
        }
        Ok(samples)
    }

    fn warm(binary: &Path, event: &[u8], one_way: Duration) -> Result<Vec<Sample>, String> {
        let d = delayed(one_way, None);
        let mut process = Bootstrap::spawn(binary, &d.env);
        d.post(1, None, &process, event)?;
        let mut samples = Vec::new();
        for n in 0..WARM {
            samples.push(d.post(n + 2, None, &process, event)?);
        }
        let reused = (d.secrets.connections(), d.slack.connections());
        process.kill();
        if reused != (1, 1) {
            return Err(format!(
                "warm invocations opened connections: (Secrets Manager, Slack) = {reused:?}"
            ));
        }
        Ok(samples)
    }

    /// One cold invocation, `idle` of nothing, then one timed invocation.
    fn after_idle(
        binary: &Path,
        event: &[u8],
        one_way: Duration,
        idle: Duration,
        server_idle: Option<Duration>,
    ) -> Result<Sample, String> {
        let d = delayed(one_way, server_idle);
        let mut process = Bootstrap::spawn(binary, &d.env);
        d.post(1, None, &process, event)?;
        // The idleness itself is what is measured here, not a synchronisation.
        std::thread::sleep(idle);
        let sample = d.post(2, None, &process, event)?;
        process.kill();
        Ok(sample)
    }

    // ---- app mode ------------------------------------------------------------------------

    /// What app mode talks to: the Web API and DynamoDB stand-ins of one emulator, each
    /// behind a delaying proxy. Instances of the function share them.
    struct Peers {
        emu: Rc<Emulator>,
        slack: DelayProxy,
        dynamodb: DelayProxy,
    }

    /// One instance of the function in app mode with incident threads: its own Runtime API
    /// and Secrets Manager (a bot token and channel in the secret, behind a delaying proxy),
    /// the shared peers, `SLACK_PRECONNECT` at the Web API's origin.
    struct App {
        emu: Rc<Emulator>,
        secrets: DelayProxy,
        peers: Rc<Peers>,
        env: Vec<(String, String)>,
    }

    fn app(one_way: Duration) -> App {
        app_with(one_way, &app_secret())
    }

    /// The same with this secret.
    fn app_with(one_way: Duration, secret: &str) -> App {
        let emu = Rc::new(app_emulator(secret));
        let peers = Rc::new(Peers {
            slack: DelayProxy::start(addr(&emu.slack_api_url()), one_way, None),
            dynamodb: DelayProxy::start(addr(&emu.dynamodb_url()), one_way, None),
            emu: Rc::clone(&emu),
        });
        instance(emu, peers, one_way)
    }

    /// App mode's secret: a bot token and the channel.
    fn app_secret() -> String {
        json!({"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN, "SLACK_CHANNEL": DEFAULT_CHANNEL_ID})
            .to_string()
    }

    /// With the buttons: the app's signing secret too; with `team`, the workspace, so that a
    /// click needs no `auth.test` to know it.
    fn buttons_secret(team: bool) -> String {
        let mut secret = json!({"SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN,
            "SLACK_CHANNEL": DEFAULT_CHANNEL_ID, "SLACK_SIGNING_SECRET": SIGNING_SECRET});
        if team {
            secret["SLACK_TEAM_ID"] = TEAM_ID.into();
        }
        secret.to_string()
    }

    fn app_emulator(secret: &str) -> Emulator {
        Emulator::start(Options {
            secret_string: Some(secret.to_string()),
            ..Options::default()
        })
    }

    fn instance(emu: Rc<Emulator>, peers: Rc<Peers>, one_way: Duration) -> App {
        let secrets = DelayProxy::start(addr(&emu.secrets_manager_url()), one_way, None);
        let slack_origin = format!("http://{}", peers.slack.addr());
        let mut env = bench_env(&emu);
        for (k, v) in env.iter_mut() {
            match k.as_str() {
                "AWS_ENDPOINT_URL_SECRETS_MANAGER" => *v = format!("http://{}", secrets.addr()),
                "AWS_ENDPOINT_URL_DYNAMODB" => *v = format!("http://{}", peers.dynamodb.addr()),
                "SLACK_API_URL" => *v = format!("{slack_origin}/api/"),
                // https://slack.com for a real function in app mode.
                "SLACK_PRECONNECT" => v.clone_from(&slack_origin),
                _ => {}
            }
        }
        env.push(("INCIDENT_TABLE".to_string(), DEFAULT_TABLE.to_string()));
        env.push(("SECRET_TTL_SECONDS".to_string(), "3600".to_string()));
        // Storm grouping on, as by default, with a threshold no run reaches: every opening
        // counts its channel's new incidents beside the claim, and none of them becomes a
        // storm's reply (which the rows would then measure instead of an opening).
        env.push(("STORM_THRESHOLD".to_string(), "1000".to_string()));
        App {
            emu,
            secrets,
            peers,
            env,
        }
    }

    impl App {
        /// Another instance of the same function: its own Runtime API, the same Slack and
        /// DynamoDB.
        fn another(&self, one_way: Duration) -> App {
            self.another_with(one_way, &app_secret())
        }

        /// The same with this secret.
        fn another_with(&self, one_way: Duration, secret: &str) -> App {
            instance(
                Rc::new(app_emulator(secret)),
                Rc::clone(&self.peers),
                one_way,
            )
        }

        fn proxies(&self) -> [&DelayProxy; 3] {
            [&self.secrets, &self.peers.slack, &self.peers.dynamodb]
        }

        /// What was counted so far: connections per proxy, Web API and DynamoDB calls.
        fn mark(&self) -> (Vec<usize>, usize, usize) {
            (
                self.proxies().iter().map(|p| p.connections()).collect(),
                self.peers.emu.slack_api().calls().len(),
                self.peers.emu.dynamodb().calls().len(),
            )
        }

        /// One event, timed from now to the invocation's first `chat.postMessage` arriving.
        fn invoke(&self, process: &Bootstrap, event: &Event) -> Result<Sample, String> {
            let mark = self.mark();
            let started = Instant::now();
            let id = self.emu.push_event(event.body.clone());
            self.measure(mark, started, &id, event, process)
        }

        /// Invocation `id`, timed from `started` to its first `chat.postMessage` arriving,
        /// with what it cost since `mark`; read once the invocation is done.
        fn measure(
            &self,
            (before, api_before, db_before): (Vec<usize>, usize, usize),
            started: Instant,
            id: &str,
            event: &Event,
            process: &Bootstrap,
        ) -> Result<Sample, String> {
            let (api, db) = (self.peers.emu.slack_api(), self.peers.emu.dynamodb());
            let outcome = self.emu.wait_outcome(id);
            let done = started.elapsed();
            let connections = opened(&self.proxies(), &before);
            match &outcome {
                Outcome::Response(body) if body == r#"{"posted":1}"# => {}
                Outcome::Response(body) => return Err(format!("app mode answered {body}")),
                Outcome::Error(_) => expect_response(outcome, process)?,
            }
            let api_calls = api.calls().split_off(api_before);
            let db_calls = db.calls().split_off(db_before);
            all_answered(&api_calls, &db_calls)?;
            let Some(post) = api_calls.iter().find(|c| c.method == "chat.postMessage") else {
                return Err("the invocation posted nothing".to_string());
            };
            // An incident really opened, or the reply really went into its thread.
            if post.params.get("thread_ts").is_some() != event.reply {
                return Err(format!(
                    "expected {}, Slack got {}",
                    if event.reply {
                        "a reply"
                    } else {
                        "a top-level post"
                    },
                    post.body
                ));
            }
            let before_post = db_calls
                .iter()
                .filter(|c| c.received < post.received)
                .count();
            let local = self.emu.handed_out(id).and_then(|(handed, _)| {
                let sent = self.peers.slack.passages_since(handed);
                let post_sent = sent.iter().filter(|p| p.upstream).map(|p| p.read).min()?;
                let db = self.peers.dynamodb.passages_since(handed);
                Some(Self::local_work(handed, post_sent, &db))
            });
            Ok(Sample {
                took: post.received.saturating_duration_since(started),
                done: Some(done),
                dynamodb: Some((before_post, db_calls.len())),
                connections,
                local,
            })
        }

        /// Of `handed` (the event handed out) → `post_sent` (the post's first bytes read by the
        /// Slack proxy), the time the bootstrap was not waiting for DynamoDB. It waits from a
        /// request's first chunk read by the proxy to its answer's last chunk written back on the
        /// same connection; the union of those spans is the wire and the stand-in. What is left
        /// is the bootstrap's own work, with the wake-ups of the Runtime API's and the proxies'
        /// threads around it: at most the bootstrap's.
        fn local_work(handed: Instant, post_sent: Instant, db: &[Passage]) -> Duration {
            let mut spans: Vec<(Instant, Instant)> = Vec::new();
            let connections: BTreeSet<usize> = db.iter().map(|p| p.connection).collect();
            for connection in connections {
                let mut chunks: Vec<&Passage> =
                    db.iter().filter(|p| p.connection == connection).collect();
                chunks.sort_by_key(|p| p.read);
                let mut span: Option<(Instant, Option<Instant>)> = None;
                for p in chunks {
                    span = match (span, p.upstream) {
                        (Some((start, Some(end))), true) => {
                            spans.push((start, end));
                            Some((p.read, None))
                        }
                        (None, true) => Some((p.read, None)),
                        (Some((start, _)), false) => Some((start, Some(p.written))),
                        (open, _) => open,
                    };
                }
                if let Some((start, Some(end))) = span {
                    spans.push((start, end));
                }
            }
            let mut clipped: Vec<(Instant, Instant)> = spans
                .into_iter()
                .map(|(start, end)| (start.max(handed), end.min(post_sent)))
                .filter(|(start, end)| start < end)
                .collect();
            clipped.sort();
            let (mut waiting, mut reached) = (Duration::ZERO, handed);
            for (start, end) in clipped {
                let start = start.max(reached);
                if end > start {
                    waiting += end - start;
                    reached = end;
                }
            }
            post_sent
                .saturating_duration_since(handed)
                .saturating_sub(waiting)
        }

        /// Opens an incident for a new alarm `name` (not timed); its parent's `ts`.
        fn open(&self, process: &Bootstrap, name: &str) -> Result<String, String> {
            let before = self.peers.emu.slack_api().calls().len();
            self.invoke(process, &opening(name))?;
            let calls = self.peers.emu.slack_api().calls().split_off(before);
            calls
                .iter()
                .find(|c| c.method == "chat.postMessage" && c.params.get("thread_ts").is_none())
                .and_then(|c| c.answer["ts"].as_str())
                .map(str::to_string)
                .ok_or_else(|| "the opening ALARM posted no parent".to_string())
        }

        /// The Function URL event of a click on `action_id` of the parent `ts` as Slack
        /// shows it now (for a select, `choice` chosen), signed as Slack signs it.
        fn click_event(&self, ts: &str, action_id: &str, choice: Option<&str>) -> Vec<u8> {
            let shown = self.peers.emu.slack_api().shown(DEFAULT_CHANNEL_ID, ts);
            let mut click = Click::on(&shown, DEFAULT_CHANNEL_ID, action_id, "U0BENCH");
            if let Some(choice) = choice {
                click = click.choose(choice);
            }
            click.signed(SIGNING_SECRET).event()
        }

        /// A click on the parent `ts`, timed from its handing out.
        fn click(
            &self,
            process: &Bootstrap,
            ts: &str,
            action_id: &str,
            choice: Option<&str>,
        ) -> Result<ClickSample, String> {
            let event = self.click_event(ts, action_id, choice);
            let mark = self.mark();
            let id = self.emu.push_event(event);
            self.measure_click(mark, None, &id, process)
        }

        /// Click `id`, timed from `started` (else from its handing out) to its HTTP answer
        /// and its `chat.update`, with what it cost since `mark`, read once the process asks
        /// for its next event: the click goes on after the answer.
        fn measure_click(
            &self,
            (before, api_before, db_before): (Vec<usize>, usize, usize),
            started: Option<Instant>,
            id: &str,
            process: &Bootstrap,
        ) -> Result<ClickSample, String> {
            let body = match self.emu.wait_outcome(id) {
                Outcome::Response(body) => body,
                Outcome::Error(posted) => {
                    return Err(format!(
                        "a click failed: {}\n{}",
                        posted.body,
                        process.stdout()
                    ))
                }
            };
            let http: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            if http["statusCode"] != 200 || http["body"] != "" {
                return Err(format!("a click was answered {body}"));
            }
            let (handed, nth) = self
                .emu
                .handed_out(id)
                .ok_or("the click was answered but never handed out")?;
            let answered = self.emu.outcome_time(id).ok_or("the answer has no time")?;
            self.emu.wait_next_calls(nth + 1);
            let connections = opened(&self.proxies(), &before);
            let api_calls = self.peers.emu.slack_api().calls().split_off(api_before);
            let db_calls = self.peers.emu.dynamodb().calls().split_off(db_before);
            all_answered(&api_calls, &db_calls)?;
            let Some(update) = api_calls.iter().find(|c| c.method == "chat.update") else {
                return Err("the click updated no parent".to_string());
            };
            let started = started.unwrap_or(handed);
            Ok(ClickSample {
                answer: answered.saturating_duration_since(started),
                handed_to_answer: answered.saturating_duration_since(handed),
                update: update.received.saturating_duration_since(started),
                dynamodb: (
                    db_calls.iter().filter(|c| c.received < answered).count(),
                    db_calls.len(),
                ),
                web_api: (
                    api_calls.iter().filter(|c| c.received < answered).count(),
                    api_calls.len(),
                ),
                connections,
            })
        }
    }

    /// Every call was answered as the bootstrap expects.
    fn all_answered(api_calls: &[ApiCall], db_calls: &[DdbCall]) -> Result<(), String> {
        if let Some(bad) = api_calls.iter().find(|c| !c.ok()) {
            return Err(format!("Slack's {} answered {}", bad.method, bad.answer));
        }
        // A refused condition is an answer; anything else means the stand-in and the
        // bootstrap disagree.
        if let Some(bad) = db_calls.iter().find(|c| {
            c.status != 200 && c.error.as_deref() != Some("ConditionalCheckFailedException")
        }) {
            return Err(format!(
                "DynamoDB's {} answered {}: {}\nrequest: {}",
                bad.operation, bad.status, bad.answer, bad.body
            ));
        }
        Ok(())
    }

    /// An event, and whether its post is a reply in an incident's thread.
    struct Event {
        body: Vec<u8>,
        reply: bool,
    }

    /// An SNS event: alarm `name` entering `state` from `old`, `ago` seconds before now.
    fn transition(name: &str, state: &str, old: &str, ago: i64) -> Vec<u8> {
        let mut message: Value =
            serde_json::from_str(&common::alarm_message(name, state)).expect("alarm JSON");
        message["OldStateValue"] = old.into();
        // YYYYMMDDTHHMMSSZ → CloudWatch's YYYY-MM-DDTHH:MM:SS.mmm+0000.
        let d = emulator::sigv4::format_amz_date((emulator::now_ms() / 1000) as i64 - ago);
        message["StateChangeTime"] = format!(
            "{}-{}-{}T{}:{}:{}.000+0000",
            &d[0..4],
            &d[4..6],
            &d[6..8],
            &d[9..11],
            &d[11..13],
            &d[13..15]
        )
        .into();
        common::sns(&[(&message.to_string(), Some(state))])
    }

    /// An alarm's `ALARM`, opening its incident.
    fn opening(name: &str) -> Event {
        Event {
            body: transition(name, "ALARM", "OK", 120),
            reply: false,
        }
    }

    /// The `OK` after it: a reply in the incident's thread.
    fn closing(name: &str) -> Event {
        Event {
            body: transition(name, "OK", "ALARM", 60),
            reply: true,
        }
    }

    /// With `storms` off, `STORM_THRESHOLD=0`: no count is written beside the claim.
    fn app_cold_starts(
        binary: &Path,
        one_way: Duration,
        storms: bool,
    ) -> Result<Vec<Sample>, String> {
        let mut samples = Vec::new();
        for _ in 0..COLD {
            let mut a = app(one_way);
            if !storms {
                for (k, v) in a.env.iter_mut() {
                    if k == "STORM_THRESHOLD" {
                        *v = "0".to_string();
                    }
                }
            }
            // Queued first, as on a cold start.
            let mark = a.mark();
            let event = opening("cpu-high");
            let id = a.emu.push_event(event.body.clone());
            let started = Instant::now();
            let mut process = Bootstrap::spawn(binary, &a.env);
            let sample = a.measure(mark, started, &id, &event, &process);
            process.kill();
            // Its wait for the secret is not DynamoDB's: no such share here.
            samples.push(Sample {
                local: None,
                ..sample?
            });
        }
        Ok(samples)
    }

    /// Warm invocations, after a cold one each: a new alarm's `ALARM`, its `OK`; and the
    /// `OK` of an alarm another (warm) instance opened.
    struct AppWarm {
        open: Vec<Sample>,
        later: Vec<Sample>,
        elsewhere: Vec<Sample>,
    }

    fn app_warm(binary: &Path, one_way: Duration) -> Result<AppWarm, String> {
        let a = app(one_way);
        let b = a.another(one_way);
        let mut first = Bootstrap::spawn(binary, &a.env);
        let mut second = Bootstrap::spawn(binary, &b.env);
        let result = (|| {
            a.invoke(&first, &opening("cold-a"))?;
            b.invoke(&second, &opening("cold-b"))?;
            let mut warm = AppWarm {
                open: Vec::new(),
                later: Vec::new(),
                elsewhere: Vec::new(),
            };
            for n in 0..WARM {
                let name = format!("warm-{n}");
                warm.open.push(a.invoke(&first, &opening(&name))?);
                warm.later.push(a.invoke(&first, &closing(&name))?);
                let name = format!("opened-by-another-{n}");
                a.invoke(&first, &opening(&name))?;
                warm.elsewhere.push(b.invoke(&second, &closing(&name))?);
            }
            Ok(warm)
        })();
        first.kill();
        second.kill();
        result
    }

    /// Cold starts whose first event is a click (Acknowledge) on an incident that another
    /// instance opened; with `team`, the secret names the workspace.
    fn click_cold_starts(
        binary: &Path,
        one_way: Duration,
        team: bool,
    ) -> Result<Vec<ClickSample>, String> {
        let secret = buttons_secret(team);
        let mut samples = Vec::new();
        for n in 0..COLD {
            let opener = app_with(one_way, &secret);
            let mut process = Bootstrap::spawn(binary, &opener.env);
            let ts = opener.open(&process, &format!("cold-click-{n}"));
            process.kill();
            let ts = ts?;
            // A fresh Runtime API: the killed process's `GET /next` would take the click.
            let a = opener.another_with(one_way, &secret);
            let event = a.click_event(&ts, "ack", None);
            // Queued first, as on a cold start.
            let mark = a.mark();
            let id = a.emu.push_event(event);
            let started = Instant::now();
            let mut process = Bootstrap::spawn(binary, &a.env);
            let sample = a.measure_click(mark, Some(started), &id, &process);
            process.kill();
            samples.push(sample?);
        }
        Ok(samples)
    }

    /// Warm clicks, each pair on a new incident: Acknowledge, then Mute until OK.
    struct ClickWarm {
        ack: Vec<ClickSample>,
        mute: Vec<ClickSample>,
    }

    fn click_warm(binary: &Path, one_way: Duration) -> Result<ClickWarm, String> {
        let a = app_with(one_way, &buttons_secret(false));
        let mut process = Bootstrap::spawn(binary, &a.env);
        let result = (|| {
            // The cold invocation, then a first click, which asks `auth.test`: the timed
            // clicks find the secret and the workspace known, as a warm instance does.
            let ts = a.open(&process, "click-cold")?;
            a.click(&process, &ts, "ack", None)?;
            let mut warm = ClickWarm {
                ack: Vec::new(),
                mute: Vec::new(),
            };
            for n in 0..WARM {
                let ts = a.open(&process, &format!("click-{n}"))?;
                warm.ack.push(a.click(&process, &ts, "ack", None)?);
                warm.mute.push(a.click(&process, &ts, "mute", Some("ok"))?);
            }
            Ok(warm)
        })();
        process.kill();
        result
    }

    /// A cold `ALARM`, `idle` of nothing, then a new alarm's `ALARM` or the first one's `OK`.
    fn app_after_idle(
        binary: &Path,
        one_way: Duration,
        idle: Duration,
        later: bool,
    ) -> Result<Sample, String> {
        let a = app(one_way);
        let mut process = Bootstrap::spawn(binary, &a.env);
        let result = a.invoke(&process, &opening("first")).and_then(|_| {
            // The idleness itself is what is measured here, not a synchronisation.
            std::thread::sleep(idle);
            let event = match later {
                true => closing("first"),
                false => opening("second"),
            };
            a.invoke(&process, &event)
        });
        process.kill();
        result
    }

    /// Syscalls per warm invocation by name: strace counts a run of one invocation and
    /// one of 1 + `STRACE_WARM`, and the difference is divided.
    fn syscalls(binary: &Path, event: &[u8]) -> Result<Option<BTreeMap<String, f64>>, String> {
        let Some(strace) = ["/usr/bin/strace", "/usr/local/bin/strace"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.is_file())
        else {
            return Ok(None);
        };
        let dir =
            std::env::temp_dir().join(format!("alarm-to-slack-strace-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let run = |warm: usize| -> Result<BTreeMap<String, u64>, String> {
            let out = dir.join(format!("strace.{warm}"));
            let wrapper = dir.join(format!("bootstrap-{warm}"));
            emulator::process::write_executable(
                &wrapper,
                &format!(
                    "#!/bin/sh\nexec {} -f -c -o {} {}\n",
                    strace.display(),
                    out.display(),
                    binary.display()
                ),
            );
            let emu = Emulator::start(Options::default());
            let mut process = Bootstrap::spawn(&wrapper, &bench_env(&emu));
            for _ in 0..=warm {
                expect_response(emu.wait_outcome(&emu.push_event(event.to_vec())), &process)?;
            }
            emu.fail_next_with(500);
            process.wait_exit();
            let text = std::fs::read_to_string(&out)
                .map_err(|e| format!("no strace output {}: {e}", out.display()))?;
            Ok(strace_counts(&text))
        };
        let one = run(0)?;
        let many = run(STRACE_WARM)?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(Some(
            many.iter()
                .map(|(name, n)| {
                    let extra = n.saturating_sub(one.get(name).copied().unwrap_or(0));
                    (name.clone(), extra as f64 / STRACE_WARM as f64)
                })
                .filter(|(_, n)| *n >= 0.05)
                .collect(),
        ))
    }

    /// `strace -c`'s table: calls per syscall name.
    fn strace_counts(text: &str) -> BTreeMap<String, u64> {
        text.lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                // % time, seconds, usecs/call, calls, [errors,] syscall
                let name = *fields.last()?;
                let calls = fields.get(3)?.parse().ok()?;
                (name != "total" && fields.len() >= 5).then(|| (name.to_string(), calls))
            })
            .collect()
    }

    /// CPU time of each warm invocation of a webhook bootstrap, and of the std-only loop
    /// (`std_loop`) doing the same exchanges, in the same run: both serve at once, each
    /// against an emulator of its own, their invocations alternating, so that the machine's
    /// load falls on both alike. Posting the bootstrap's own payload, the loop sends as many
    /// bytes. An invocation's CPU time runs from one `GET /next` arriving to the next: the
    /// process is blocked on the Runtime API at both ends.
    struct WebhookCpu {
        bootstrap: Vec<Duration>,
        reference: Vec<Duration>,
    }

    fn cpu(binary: &Path, event: &[u8]) -> Result<Option<WebhookCpu>, String> {
        let emu = Emulator::start(Options::default());
        let mut process = Bootstrap::spawn(binary, &bench_env(&emu));
        expect_response(emu.wait_outcome(&emu.push_event(event.to_vec())), &process)?;
        let payload = match emu.slack_posts().first() {
            Some(post) => post.body.clone(),
            None => return Err("the cold invocation posted nothing".to_string()),
        };
        let reference_emu = Emulator::start(Options::default());
        let own = std::env::current_exe().map_err(|e| format!("the bench's own path: {e}"))?;
        let mut command = Command::new(own);
        command
            .arg(std_loop::FLAG)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", reference_emu.runtime_api())
            .env(std_loop::HOOK_VAR, reference_emu.slack_url())
            .env(std_loop::PAYLOAD_VAR, &payload);
        let mut reference = Bootstrap::spawn_command(command);
        let result = (|| {
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            // The cold invocation asked for the next event; the loop's first is cold too.
            emu.wait_next_calls(2);
            let posted = reference_emu.push_event(event.to_vec());
            expect_response(reference_emu.wait_outcome(&posted), &reference)?;
            reference_emu.wait_next_calls(2);
            for n in 0..CPU_WARM {
                let Some(t) = invocation_cpu(&emu, &process, event, n + 3)? else {
                    return Ok(None);
                };
                ours.push(t);
                let Some(t) = invocation_cpu(&reference_emu, &reference, event, n + 3)? else {
                    return Ok(None);
                };
                theirs.push(t);
            }
            Ok(Some(WebhookCpu {
                bootstrap: ours,
                reference: theirs,
            }))
        })();
        process.kill();
        reference.kill();
        result
    }

    /// The CPU time `process` took for one event: from now, when it waits on `GET /next`, to
    /// its `nth` `GET /next` arriving.
    fn invocation_cpu(
        emu: &Emulator,
        process: &Bootstrap,
        body: &[u8],
        nth: usize,
    ) -> Result<Option<Duration>, String> {
        let before = cpu_time(process.pid());
        let outcome = emu.wait_outcome(&emu.push_event(body.to_vec()));
        emu.wait_next_calls(nth);
        let after = cpu_time(process.pid());
        match outcome {
            Outcome::Response(answer) if answer == r#"{"posted":1}"# => {}
            Outcome::Response(answer) => return Err(format!("the invocation answered {answer}")),
            Outcome::Error(_) => expect_response(outcome, process)?,
        }
        Ok(before.zip(after).map(|(b, a)| a - b))
    }

    /// App mode's CPU per warm invocation, against the emulator's Web API and DynamoDB
    /// stand-ins (no delay): a new alarm's `ALARM`, which opens its incident, then its `OK`,
    /// a reply in the thread; `CPU_WARM` of each, alternating.
    /// With the mean per invocation of all threads' CPU time: the main thread's (the medians)
    /// leaves out the storm count's and the pace's threads.
    fn app_cpu(binary: &Path) -> Result<(Vec<Duration>, Vec<Duration>, Duration), String> {
        let emu = app_emulator(&app_secret());
        let api = addr(&emu.slack_api_url());
        let mut env = bench_env(&emu);
        for (k, v) in env.iter_mut() {
            if k == "SLACK_PRECONNECT" {
                *v = format!("http://{api}");
            }
        }
        env.push(("INCIDENT_TABLE".to_string(), DEFAULT_TABLE.to_string()));
        env.push(("SECRET_TTL_SECONDS".to_string(), "3600".to_string()));
        // As in `App::instance`: the count runs, no storm forms.
        env.push(("STORM_THRESHOLD".to_string(), "1000".to_string()));
        let mut process = Bootstrap::spawn(binary, &env);
        let result = (|| {
            let cold = emu.push_event(opening("cpu-cold").body);
            expect_response(emu.wait_outcome(&cold), &process)?;
            emu.wait_next_calls(2);
            let (mut open, mut later) = (Vec::new(), Vec::new());
            let all_before = process_cpu_time(process.pid());
            for n in 0..CPU_WARM {
                let name = format!("cpu-{n}");
                for (event, into) in [(opening(&name), &mut open), (closing(&name), &mut later)] {
                    let nth = emu.next_calls() + 1;
                    match invocation_cpu(&emu, &process, &event.body, nth)? {
                        Some(t) => into.push(t),
                        None => return Err("no /proc/PID/schedstat".to_string()),
                    }
                }
            }
            let all = all_before
                .zip(process_cpu_time(process.pid()))
                .map(|(b, a)| (a - b) / (2 * CPU_WARM as u32))
                .ok_or("no /proc/PID/stat")?;
            Ok((open, later, all))
        })();
        process.kill();
        result
    }
}

/// `bench --std-loop`: the reference a warm webhook invocation's CPU is compared with. It does
/// what any runtime must for one, with std alone: `GET /next`, the event read whole (and not
/// parsed), a `POST` of a fixed Slack payload (the bootstrap's, so of the same size) to the
/// webhook, a `POST` of `{"posted":1}` to the invocation's `/response`; HTTP/1.1 written by
/// hand, connections kept alive, Content-Length bodies. It stops when the Runtime API answers
/// anything but 200, as the bootstrap does.
mod std_loop {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::process::ExitCode;

    /// The argument that runs the bench program as this loop.
    pub const FLAG: &str = "--std-loop";
    /// `http://HOST:PORT/PATH` of the webhook.
    pub const HOOK_VAR: &str = "BENCH_STD_HOOK";
    /// The JSON it posts there.
    pub const PAYLOAD_VAR: &str = "BENCH_STD_PAYLOAD";

    pub fn main() -> ExitCode {
        match serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(why) => {
                eprintln!("bench {FLAG}: {why}");
                ExitCode::FAILURE
            }
        }
    }

    fn var(name: &str) -> Result<String, String> {
        std::env::var(name).map_err(|_| format!("{name} is not set"))
    }

    fn serve() -> Result<(), String> {
        // `127.0.0.1:PORT` and, from the emulator, maybe a path prefix.
        let api = var("AWS_LAMBDA_RUNTIME_API")?;
        let (api_host, prefix) = api.split_at(api.find('/').unwrap_or(api.len()));
        let hook = var(HOOK_VAR)?;
        let hook = hook.strip_prefix("http://").unwrap_or(&hook);
        let (hook_host, hook_path) = hook.split_at(hook.find('/').unwrap_or(hook.len()));
        let payload = var(PAYLOAD_VAR)?;

        let mut runtime = Peer::connect(api_host)?;
        let mut slack = Peer::connect(hook_host)?;
        let base = format!("{prefix}/2018-06-01/runtime/invocation");
        let next = format!("GET {base}/next HTTP/1.1\r\nHost: {api_host}\r\n\r\n");
        // The same bytes every time: the reference builds no message.
        let post = format!(
            "POST {hook_path} HTTP/1.1\r\nHost: {hook_host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{payload}",
            payload.len()
        );
        let answer = r#"{"posted":1}"#;
        let mut response = String::new();
        loop {
            let event = runtime.exchange(next.as_bytes())?;
            if event.status != 200 {
                return Ok(());
            }
            let id = event
                .request_id
                .ok_or("an event without Lambda-Runtime-Aws-Request-Id")?;
            let posted = slack.exchange(post.as_bytes())?;
            if posted.status != 200 {
                return Err(format!("the webhook answered {}", posted.status));
            }
            response.clear();
            response.push_str(&format!(
                "POST {base}/{id}/response HTTP/1.1\r\nHost: {api_host}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                answer.len()
            ));
            let done = runtime.exchange(response.as_bytes())?;
            if done.status != 202 {
                return Err(format!("/response answered {}", done.status));
            }
        }
    }

    /// A kept-alive connection and what was read beyond the last answer.
    struct Peer {
        stream: TcpStream,
        buf: Vec<u8>,
    }

    struct Answer {
        status: u16,
        request_id: Option<String>,
    }

    impl Peer {
        fn connect(host: &str) -> Result<Peer, String> {
            let stream = TcpStream::connect(host).map_err(|e| format!("connect {host}: {e}"))?;
            // As the bootstrap's connections: a request is one write anyway.
            stream
                .set_nodelay(true)
                .map_err(|e| format!("TCP_NODELAY: {e}"))?;
            Ok(Peer {
                stream,
                buf: Vec::with_capacity(16 << 10),
            })
        }

        /// Sends `request` in one write and reads its answer, body included.
        fn exchange(&mut self, request: &[u8]) -> Result<Answer, String> {
            self.stream
                .write_all(request)
                .map_err(|e| format!("send: {e}"))?;
            let head_end = loop {
                if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break at + 4;
                }
                self.fill()?;
            };
            let head = std::str::from_utf8(&self.buf[..head_end])
                .map_err(|_| "an answer head that is not UTF-8")?;
            let mut lines = head.split("\r\n");
            let status = lines
                .next()
                .and_then(|l| l.split(' ').nth(1))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("no status line in {head:?}"))?;
            let (mut length, mut request_id) = (None, None);
            for (name, value) in lines.filter_map(|l| l.split_once(':')) {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
                    request_id = Some(value.trim().to_string());
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    return Err(format!("not written for {}", value.trim()));
                }
            }
            let end = head_end + length.ok_or_else(|| format!("no Content-Length: {head:?}"))?;
            while self.buf.len() < end {
                self.fill()?;
            }
            self.buf.drain(..end);
            Ok(Answer { status, request_id })
        }

        fn fill(&mut self) -> Result<(), String> {
            let mut chunk = [0u8; 16 << 10];
            match self.stream.read(&mut chunk) {
                Ok(0) => Err("the peer closed the connection".to_string()),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    Ok(())
                }
                Err(e) => Err(format!("read: {e}")),
            }
        }
    }
}
