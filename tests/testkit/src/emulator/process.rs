//! Runs the bootstrap binary as a child process with a clean environment, collecting its output.
//!
//! How waiting works, without sleeps and without `libc`: two reader threads drain stdout and
//! stderr into shared buffers and signal a Condvar on every chunk and at end-of-file. A process
//! closes both pipes when it exits, so `wait_exit` waits (with the 30 s safety timeout) for both
//! pipes to reach EOF, then calls the blocking `Child::wait`, which returns at once because the
//! process is already exiting. The `Child` stays owned by `Bootstrap`, so `kill` is the plain
//! `Child::kill` (SIGKILL) followed by `Child::wait` to reap, and `terminate` sends SIGTERM to
//! `Child::id` before that same reaping: no pid is ever signalled after it could have been
//! reaped and reused. (The one case this does not bound is a child that closes its own stdout
//! and stderr yet keeps running; the bootstrap never does that.)

use std::io::Read;
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::{lock, wait_for, wait_for_timeout, SAFETY_TIMEOUT};

type Hook = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct Output {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Pipes not yet at EOF.
    open: usize,
}

#[derive(Default)]
struct Shared {
    output: Mutex<Output>,
    cv: Condvar,
    /// Called once both pipes reached EOF.
    on_exit: Mutex<Option<Hook>>,
}

impl Shared {
    fn tail(&self) -> String {
        let out = lock(&self.output);
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

/// How `Bootstrap::terminate` found the process gone.
#[derive(Debug)]
pub enum Stopped {
    /// It had exited before it was asked to (e.g. after an init error).
    Exited(ExitStatus),
    /// It ended on the SIGTERM.
    Terminated(ExitStatus),
    /// It was still running after the grace period and was killed (SIGKILL).
    Killed(ExitStatus),
}

/// A running bootstrap; dropping it kills and reaps the process.
/// Writing an executable while another thread forks leaks the open file into the child
/// until it execs, and running that file then fails with "Text file busy". Writers hold
/// this for writing, every spawn for reading.
static EXECUTABLES: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Writes an executable file that this process may then start.
pub fn write_executable(path: &Path, contents: &str) {
    use std::os::unix::fs::PermissionsExt;
    let _writing = EXECUTABLES.write().unwrap_or_else(|e| e.into_inner());
    std::fs::write(path, contents).expect("write executable");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .expect("make it executable");
}

pub struct Bootstrap {
    child: Child,
    shared: Arc<Shared>,
    status: Option<ExitStatus>,
    binary: String,
}

impl Bootstrap {
    /// Starts `binary` with a clean environment plus exactly `env`; stdin is /dev/null.
    pub fn spawn(binary: &Path, env: &[(String, String)]) -> Bootstrap {
        Self::start(binary, env, None)
    }

    /// Like `spawn`, and calls `hook` once the process has closed stdout and stderr (i.e. has
    /// exited), e.g. `Emulator::exit_notifier()` so that `Emulator::wait_settled` wakes up.
    pub fn spawn_with_exit_hook(
        binary: &Path,
        env: &[(String, String)],
        hook: impl FnOnce() + Send + 'static,
    ) -> Bootstrap {
        Self::start(binary, env, Some(Box::new(hook)))
    }

    /// Any other program (a test service such as moto_server or cargo-lambda) with the same
    /// output capture and kill-on-drop: `command` as given (arguments, environment, directory),
    /// with stdin from /dev/null and stdout and stderr collected.
    pub fn spawn_command(command: Command) -> Bootstrap {
        let binary = command.get_program().to_string_lossy().into_owned();
        Self::start_command(command, binary, None)
    }

    fn start(binary: &Path, env: &[(String, String)], hook: Option<Hook>) -> Bootstrap {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Self::start_command(command, binary.display().to_string(), hook)
    }

    fn start_command(mut command: Command, binary: String, hook: Option<Hook>) -> Bootstrap {
        let forking = EXECUTABLES.read().unwrap_or_else(|e| e.into_inner());
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        drop(forking);
        let shared = Arc::new(Shared {
            output: Mutex::new(Output {
                open: 2,
                ..Output::default()
            }),
            cv: Condvar::new(),
            on_exit: Mutex::new(hook),
        });
        let stdout: Option<ChildStdout> = child.stdout.take();
        let stderr: Option<ChildStderr> = child.stderr.take();
        spawn_reader(
            "stdout",
            stdout.map(|s| Box::new(s) as Box<dyn Read + Send>),
            &shared,
            |o| &mut o.stdout,
        );
        spawn_reader(
            "stderr",
            stderr.map(|s| Box::new(s) as Box<dyn Read + Send>),
            &shared,
            |o| &mut o.stderr,
        );
        Bootstrap {
            child,
            shared,
            status: None,
            binary,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Blocks until the process exits; after the safety timeout, kills it and panics.
    pub fn wait_exit(&mut self) -> ExitStatus {
        if let Some(status) = self.status {
            return status;
        }
        let closed = wait_for_timeout(&self.shared.output, &self.shared.cv, SAFETY_TIMEOUT, |o| {
            (o.open == 0).then_some(())
        });
        if closed.is_none() {
            self.kill();
            panic!(
                "timed out after {} s waiting for {} (pid {}) to exit; killed it.\n{}",
                SAFETY_TIMEOUT.as_secs(),
                self.binary,
                self.child.id(),
                self.shared.tail()
            );
        }
        let status = self
            .child
            .wait()
            .unwrap_or_else(|e| panic!("waiting for {} failed: {e}", self.binary));
        self.status = Some(status);
        status
    }

    /// The exit status if the process has exited, without blocking.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self
                .child
                .try_wait()
                .unwrap_or_else(|e| panic!("try_wait on {} failed: {e}", self.binary));
        }
        self.status
    }

    /// Everything printed to stdout so far (lossy UTF-8).
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&lock(&self.shared.output).stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&lock(&self.shared.output).stderr).into_owned()
    }

    /// SIGKILLs the process (if still running), reaps it, and waits (bounded) for the reader
    /// threads to collect the last output. Idempotent.
    pub fn kill(&mut self) {
        if self.status.is_none() {
            // Fails only when the process has already exited, which wait() then reports.
            let _ = self.child.kill();
            match self.child.wait() {
                Ok(status) => self.status = Some(status),
                Err(e) => eprintln!("reaping {} failed: {e}", self.binary),
            }
        }
        // Bounded and silent: kill() runs from Drop, possibly while a test is panicking.
        let _ = wait_for_timeout(&self.shared.output, &self.shared.cv, SAFETY_TIMEOUT, |o| {
            (o.open == 0).then_some(())
        });
    }

    /// Stops the process as a host stops a sandbox: SIGTERM, then up to `grace` for it to exit,
    /// SIGKILL only if it has not. Reaps it and collects its last output either way. The
    /// bootstrap installs no signal handler, so SIGTERM ends it at once.
    pub fn terminate(&mut self, grace: Duration) -> Stopped {
        if let Some(status) = self.try_status() {
            self.kill(); // only collects the last output: the process is reaped already
            return Stopped::Exited(status);
        }
        // Not reaped yet (at worst a zombie), so this pid is still our child's.
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) takes plain integers and touches no memory of ours.
        if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
            // It can only fail for a process that is already gone; kill() reaps it below.
            self.kill();
            return Stopped::Exited(self.status.expect("reaped by kill"));
        }
        let closed = wait_for_timeout(&self.shared.output, &self.shared.cv, grace, |o| {
            (o.open == 0).then_some(())
        });
        if closed.is_none() {
            self.kill();
            return Stopped::Killed(self.status.expect("reaped by kill"));
        }
        let status = self
            .child
            .wait()
            .unwrap_or_else(|e| panic!("waiting for {} failed: {e}", self.binary));
        self.status = Some(status);
        Stopped::Terminated(status)
    }

    /// Blocks until `needle` appears in stdout or stderr; panics after the safety timeout.
    pub fn wait_output(&self, needle: &str) -> String {
        wait_for(
            &self.shared.output,
            &self.shared.cv,
            |o| {
                let all = format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                );
                all.contains(needle).then_some(all)
            },
            |o| {
                format!(
                    "{needle:?} in the output of {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    self.binary,
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                )
            },
        )
    }
}

impl Drop for Bootstrap {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn_reader(
    name: &'static str,
    pipe: Option<Box<dyn Read + Send>>,
    shared: &Arc<Shared>,
    select: fn(&mut Output) -> &mut Vec<u8>,
) {
    let shared = Arc::clone(shared);
    let run = move || {
        if let Some(mut pipe) = pipe {
            let mut buf = [0u8; 8192];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        select(&mut lock(&shared.output)).extend_from_slice(&buf[..n]);
                        shared.cv.notify_all();
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        eprintln!("reading the bootstrap's {name} failed: {e}");
                        break;
                    }
                }
            }
        }
        let all_closed = {
            let mut out = lock(&shared.output);
            out.open -= 1;
            out.open == 0
        };
        shared.cv.notify_all();
        if all_closed {
            if let Some(hook) = lock(&shared.on_exit).take() {
                hook();
            }
        }
    };
    if let Err(e) = std::thread::Builder::new()
        .name(format!("bootstrap-{name}"))
        .spawn(run)
    {
        panic!("cannot spawn the {name} reader thread: {e}");
    }
}

/// The arguments of `make demo` and `make bench`: `<path-to-bootstrap> <event.json>`.
/// Returns the binary and the event's bytes, or the exit code after saying what is wrong.
pub fn program_args(
    program: &str,
) -> Result<(std::path::PathBuf, String, Vec<u8>), std::process::ExitCode> {
    let args: Vec<String> = std::env::args().collect();
    program_args_from(program, &args)
}

/// [`program_args`] from given arguments (the program's name first).
pub fn program_args_from(
    program: &str,
    args: &[String],
) -> Result<(std::path::PathBuf, String, Vec<u8>), std::process::ExitCode> {
    let fail = |why: String| {
        eprintln!("{program}: {why}");
        std::process::ExitCode::from(2)
    };
    let [_, binary, event_path] = args else {
        return Err(fail("usage: <path-to-bootstrap> <event.json>".to_string()));
    };
    let binary = std::path::PathBuf::from(binary);
    if !binary.is_file() {
        return Err(fail(format!(
            "no bootstrap at {} (build it first)",
            binary.display()
        )));
    }
    let event =
        std::fs::read(event_path).map_err(|e| fail(format!("cannot read {event_path}: {e}")))?;
    Ok((binary, event_path.clone(), event))
}
