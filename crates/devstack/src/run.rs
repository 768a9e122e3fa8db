//! Starting, watching and stopping the stack's processes: moto, and the functions' built
//! binaries, several processes each, which poll each side's Function URL and Runtime API
//! emulator (`emulator.rs`, in this process) for their events.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};
use tokio::signal::unix::{SignalKind, signal};

use crate::stack::{
    HOME_REGION, LOCAL_STACK_NAME, LOOPBACK, Mode, Settings, Side, StackFile, State,
};
use crate::{emulator, organization, seed};

/// How often the supervisor looks at its processes and binaries.
const TICK: Duration = Duration::from_millis(500);
const MOTO_READY: Duration = Duration::from_secs(60);
pub fn log(message: &str) {
    eprintln!("xacct-devstack: {message}");
}

/// How to start one process again.
#[derive(Debug, Clone)]
struct Launch {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    /// `None`: the supervisor's environment less AWS's and xacct's variables (moto); `Some`:
    /// only these variables (the functions).
    env: Option<Vec<(String, String)>>,
    log: PathBuf,
    cwd: PathBuf,
}

impl Launch {
    fn start(&self) -> Result<Child> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("opening {}", self.log.display()))?;
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        match &self.env {
            Some(vars) => {
                command.env_clear().envs(vars.iter().cloned());
            }
            None => {
                // Nothing from the shell's AWS set-up (profiles, keys, endpoints, CA bundles)
                // or xacct's settings reaches moto.
                for (key, _) in std::env::vars_os() {
                    let key = key.to_string_lossy();
                    if key.starts_with("AWS_") || key.starts_with("XACCT_") {
                        command.env_remove(key.as_ref());
                    }
                }
            }
        }
        command
            .spawn()
            .with_context(|| format!("starting {} ({})", self.name, self.program.display()))
    }
}

#[derive(Debug)]
struct Running {
    launch: Launch,
    child: Child,
    /// Function instances are started again when they exit; moto is not.
    restart: bool,
    /// The function binary whose change restarts it.
    binary: Option<PathBuf>,
}

/// Every process the supervisor started.
#[derive(Debug, Default)]
struct Processes(Vec<Running>);

impl Processes {
    fn start(&mut self, launch: Launch, restart: bool, binary: Option<PathBuf>) -> Result<()> {
        let child = launch.start()?;
        self.0.push(Running {
            launch,
            child,
            restart,
            binary,
        });
        Ok(())
    }

    fn pids(&self) -> BTreeMap<String, u32> {
        self.0
            .iter()
            .filter_map(|r| r.child.id().map(|pid| (r.launch.name.clone(), pid)))
            .collect()
    }

    fn last_exited(&mut self) -> Option<String> {
        let last = self.0.last_mut()?;
        match last.child.try_wait() {
            Ok(Some(status)) => Some(format!("{} exited ({status})", last.launch.name)),
            _ => None,
        }
    }

    async fn stop(&mut self) {
        for running in &mut self.0 {
            let _ = running.child.start_kill();
        }
        for running in &mut self.0 {
            let _ = running.child.wait().await;
        }
        self.0.clear();
    }
}

/// What the stack's moto answers `GET /moto-api/config` with: a JSON object. (Its
/// `/moto-api/data.json` fails without Docker once a Lambda function exists.)
async fn is_moto(http: &reqwest::Client, url: &str) -> bool {
    match http.get([url, "/moto-api/config"].concat()).send().await {
        Ok(r) if r.status().is_success() => r
            .json::<serde_json::Value>()
            .await
            .is_ok_and(|v| v.is_object()),
        _ => false,
    }
}

async fn port_answers(port: u16) -> bool {
    tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect((LOOPBACK, port)),
    )
    .await
    .is_ok_and(|c| c.is_ok())
}

/// Waits for `ready` while the process just started keeps running.
async fn wait_for<F, Fut>(
    processes: &mut Processes,
    what: &str,
    within: Duration,
    ready: F,
) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !ready().await {
        if let Some(exit) = processes.last_exited() {
            bail!("{exit} before {what} was ready");
        }
        if Instant::now() > deadline {
            bail!("{what} was not ready within {} s", within.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Every variable a function reads, and nothing else from the shell.
/// `PERMISSIONS_BOUNDARY_ARN` stays unset on purpose: unset means no boundary.
fn function_env(
    settings: &Settings,
    stack: &StackFile,
    side: Side,
    function: &str,
) -> Result<Vec<(String, String)>> {
    let c = stack
        .credentials
        .get(side.name())
        .context("no credentials for the side")?;
    let aws = settings.local_dir().join("aws");
    let runtime_api = format!("http://{LOOPBACK}:{}/.rt/{function}", settings.port(side));
    Ok([
        ("AWS_ACCESS_KEY_ID", c.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", &c.secret_access_key),
        ("AWS_SESSION_TOKEN", &c.session_token),
        ("AWS_REGION", HOME_REGION),
        ("AWS_DEFAULT_REGION", HOME_REGION),
        ("AWS_ENDPOINT_URL", &stack.moto_url),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", &aws.join("config").to_string_lossy()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            &aws.join("credentials").to_string_lossy(),
        ),
        ("AWS_LAMBDA_RUNTIME_API", &runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", function),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("NO_PROXY", "127.0.0.1,localhost,::1"),
        ("RUST_LOG", &settings.rust_log),
        ("XACCT_SIDE", side.name()),
        // As template.yaml sets it: the functions never grant the deployment's own
        // resources, named after the stack.
        ("XACCT_STACK_NAME", LOCAL_STACK_NAME),
    ]
    .into_iter()
    .chain(hub_env(stack, side))
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect())
}

/// The owner functions run in hub mode, as template.yaml sets them with an `OrganizationId`.
fn hub_env(stack: &StackFile, side: Side) -> Vec<(&'static str, &str)> {
    match (&stack.organization, side) {
        (Some(org), Side::Owner) => vec![
            ("XACCT_ORGANIZATION_ID", org.id.as_str()),
            ("XACCT_SPOKE_ROLE_NAME", org.spoke_role_name.as_str()),
        ],
        _ => Vec::new(),
    }
}

fn instance_launch(
    settings: &Settings,
    stack: &StackFile,
    side: Side,
    function: &str,
    n: usize,
) -> Result<Launch> {
    Ok(Launch {
        name: format!("{function}#{n}"),
        program: settings.binary(function),
        args: Vec::new(),
        env: Some(function_env(settings, stack, side, function)?),
        log: settings.logs_dir().join(format!("{function}.log")),
        cwd: settings.root.clone(),
    })
}

/// Everything up to a stack that answers: moto, accounts, emulators, instances.
async fn start(
    settings: &Settings,
    stack: &mut StackFile,
    processes: &mut Processes,
) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()?;
    let path = settings.stack_file();

    log(&format!("starting moto at {}", stack.moto_url));
    processes.start(
        Launch {
            name: "moto".into(),
            program: settings.moto_server.clone(),
            args: ["-H", LOOPBACK, "-p", &settings.moto_port.to_string()]
                .map(str::to_owned)
                .to_vec(),
            env: None,
            log: settings.logs_dir().join("moto.log"),
            cwd: settings.root.clone(),
        },
        false,
        None,
    )?;
    wait_for(processes, "moto", MOTO_READY, || {
        is_moto(&http, &stack.moto_url)
    })
    .await?;
    stack.pids = processes.pids();
    stack.save(&path)?;

    log("assuming each side's role, seeding the owner account");
    let owner = seed::assume(Side::Owner, &stack.moto_url).await?;
    let requestor = seed::assume(Side::Requestor, &stack.moto_url).await?;
    stack.seed = Some(seed::seed(&owner, &requestor).await?);
    log("creating the organization: the owner is its hub, three member accounts");
    stack.organization = Some(organization::seed(&owner, &stack.moto_url).await?);
    for account in [&owner, &requestor] {
        stack
            .credentials
            .insert(account.side.name().to_owned(), account.credentials.clone());
    }
    stack.save(&path)?;

    // Empty AWS files: no function reads the developer's ~/.aws.
    let aws = settings.local_dir().join("aws");
    std::fs::create_dir_all(&aws)?;
    for file in ["config", "credentials"] {
        std::fs::write(aws.join(file), "")?;
    }

    for side in Side::BOTH {
        let port = settings.port(side);
        log(&format!(
            "serving the {} Function URLs on port {port}",
            side.name()
        ));
        let listener = tokio::net::TcpListener::bind((LOOPBACK, port))
            .await
            .with_context(|| format!("port {port} is busy"))?;
        let functions = side.functions();
        let account = side.account();
        tokio::spawn(async move {
            if let Err(e) = emulator::serve(listener, functions, account, HOME_REGION).await {
                log(&format!("the {} Function URLs stopped: {e:#}", side.name()));
            }
        });
    }

    for side in Side::BOTH {
        for function in side.functions() {
            for n in 1..=settings.instances {
                processes.start(
                    instance_launch(settings, stack, side, function, n)?,
                    true,
                    Some(settings.binary(function)),
                )?;
            }
        }
    }
    stack.pids = processes.pids();
    stack.save(&path)?;

    let deadline = Instant::now() + settings.timeout;
    for (function, url) in &stack.functions {
        loop {
            // Any answer of the function's own (a 405 to a GET, a 400) means it runs.
            match http.get(url).send().await {
                Ok(r) if r.status().as_u16() < 500 => break,
                Ok(r) => log(&format!("{function} answered {}; waiting", r.status())),
                Err(e) => log(&format!("{function}: {e}; waiting")),
            }
            if Instant::now() > deadline {
                bail!(
                    "{function} did not answer at {url} within {} s",
                    settings.timeout.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    Ok(())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Until a signal or a process that must not exit does: restarts function instances that
/// exit, and every instance of a function whose binary was rebuilt.
async fn supervise(
    settings: &Settings,
    stack: &mut StackFile,
    processes: &mut Processes,
) -> Result<i32> {
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut built: BTreeMap<PathBuf, Option<SystemTime>> = processes
        .0
        .iter()
        .filter_map(|r| r.binary.clone())
        .map(|b| {
            let t = modified(&b);
            (b, t)
        })
        .collect();
    loop {
        tokio::select! {
            _ = term.recv() => return Ok(0),
            _ = interrupt.recv() => return Ok(0),
            _ = hangup.recv() => return Ok(0),
            () = tokio::time::sleep(TICK) => {}
        }
        let mut rebuilt = Vec::new();
        for (binary, seen) in &mut built {
            let now = modified(binary);
            if now != *seen {
                *seen = now;
                rebuilt.push(binary.clone());
            }
        }
        let mut changed = false;
        for running in &mut processes.0 {
            let stale = running.binary.as_ref().is_some_and(|b| rebuilt.contains(b));
            if stale {
                let _ = running.child.start_kill();
                let _ = running.child.wait().await;
            }
            let exited = match running.child.try_wait() {
                Ok(Some(status)) => Some(status),
                Ok(None) => None,
                Err(e) => bail!("watching {}: {e}", running.launch.name),
            };
            let Some(status) = exited else { continue };
            if !running.restart {
                log(&format!(
                    "{} exited ({status}); stopping the stack",
                    running.launch.name
                ));
                return Ok(1);
            }
            if !stale {
                log(&format!(
                    "{} exited ({status}); starting it again",
                    running.launch.name
                ));
            }
            running.child = running.launch.start()?;
            changed = true;
        }
        if !rebuilt.is_empty() {
            log(&format!(
                "restarted the instances of {} rebuilt binaries",
                rebuilt.len()
            ));
        }
        if changed {
            stack.pids = processes.pids();
            stack.save(&settings.stack_file())?;
        }
    }
}

pub fn alive(pid: u32) -> bool {
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Checks that nothing else holds the ports and every binary is built.
async fn preflight(settings: &Settings) -> Result<()> {
    if let Some(existing) = StackFile::load(&settings.stack_file())? {
        if alive(existing.supervisor_pid) {
            bail!(
                "a local stack already runs (pid {}); `make local-down` stops it",
                existing.supervisor_pid
            );
        }
        log("clearing the file of a stack that no longer runs");
        std::fs::remove_file(settings.stack_file())?;
    }
    for (name, port) in [
        ("XACCT_MOTO_PORT", settings.moto_port),
        ("XACCT_OWNER_PORT", settings.owner_port),
        ("XACCT_REQUESTOR_PORT", settings.requestor_port),
    ] {
        if port_answers(port).await {
            bail!("port {port} is busy; set {name}");
        }
    }
    if !settings.moto_server.is_file() {
        bail!(
            "{} is missing; run `make venv`",
            settings.moto_server.display()
        );
    }
    let missing: Vec<&str> = Side::BOTH
        .iter()
        .flat_map(|s| s.functions())
        .copied()
        .filter(|f| !settings.binary(f).is_file())
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} not built in {}; run `cargo build --workspace --bins` (make local does)",
            missing.join(", "),
            settings.target_dir.display()
        );
    }
    Ok(())
}

/// Runs the stack in this process until a signal: the supervisor.
pub async fn up(settings: &Settings, mode: Mode) -> Result<i32> {
    std::fs::create_dir_all(settings.logs_dir())?;
    preflight(settings).await?;
    let path = settings.stack_file();
    let mut stack = StackFile::new(settings, mode);
    stack.save(&path)?;
    let mut processes = Processes::default();
    if let Err(e) = start(settings, &mut stack, &mut processes).await {
        processes.stop().await;
        stack.state = State::Failed;
        stack.error = Some(format!("{e:#}"));
        stack.pids.clear();
        stack.save(&path)?;
        if mode == Mode::Foreground {
            let _ = std::fs::remove_file(&path);
        }
        return Err(e);
    }
    stack.state = State::Ready;
    stack.save(&path)?;
    if mode == Mode::Foreground {
        summary(&stack)?;
        log("running in the foreground; Ctrl-C stops the stack");
    } else {
        log("ready");
    }
    let code = supervise(settings, &mut stack, &mut processes).await;
    processes.stop().await;
    if StackFile::load(&path)?.is_some_and(|s| s.supervisor_pid == std::process::id()) {
        std::fs::remove_file(&path)?;
    }
    log("stopped");
    code
}

/// Starts the supervisor in its own process group, detached, and returns once the stack
/// answers (or failed, with why).
pub async fn up_in_background(settings: &Settings) -> Result<i32> {
    std::fs::create_dir_all(settings.logs_dir())?;
    preflight(settings).await?;
    let log_path = settings.logs_dir().join("devstack.log");
    let log_file = std::fs::File::create(&log_path)?;
    let child = std::process::Command::new(std::env::current_exe()?)
        .args(["up", "--detached"])
        .current_dir(&settings.root)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .process_group(0)
        .spawn()
        .context("starting the supervisor")?;
    let pid = child.id();
    let deadline = Instant::now() + settings.timeout + MOTO_READY * 2;
    loop {
        tokio::time::sleep(TICK).await;
        let stack = StackFile::load(&settings.stack_file())?.filter(|s| s.supervisor_pid == pid);
        match stack {
            Some(s) if s.state == State::Ready => {
                summary(&s)?;
                return Ok(0);
            }
            Some(s) if s.state == State::Failed => {
                let _ = std::fs::remove_file(settings.stack_file());
                bail!(
                    "the stack did not start: {}\n{}",
                    s.error.unwrap_or_default(),
                    tail(&log_path)
                );
            }
            _ if !alive(pid) => bail!("the supervisor exited:\n{}", tail(&log_path)),
            _ if Instant::now() > deadline => {
                stop_supervisor(pid, Mode::Background).await;
                bail!("the stack did not start in time:\n{}", tail(&log_path));
            }
            _ => {}
        }
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .get(lines.len().saturating_sub(30)..)
        .unwrap_or_default()
        .join("\n")
}

fn kill(signal: &str, target: &str) {
    let _ = std::process::Command::new("kill")
        .args([signal, "--", target])
        .stderr(Stdio::null())
        .status();
}

async fn stop_supervisor(pid: u32, mode: Mode) {
    kill("-TERM", &pid.to_string());
    for _ in 0..60 {
        if !alive(pid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Only a detached supervisor leads its own process group.
    let target = if mode == Mode::Background {
        format!("-{pid}")
    } else {
        pid.to_string()
    };
    kill("-KILL", &target);
}

pub async fn down(settings: &Settings) -> Result<i32> {
    let path = settings.stack_file();
    let Some(stack) = StackFile::load(&path)? else {
        log("no local stack recorded; nothing to stop");
        return Ok(0);
    };
    if alive(stack.supervisor_pid) {
        stop_supervisor(stack.supervisor_pid, stack.mode).await;
    }
    // Whatever a supervisor killed outright left behind.
    for pid in stack.pids.values().filter(|p| alive(**p)) {
        kill("-KILL", &pid.to_string());
    }
    let _ = std::fs::remove_file(&path);
    log("local stack stopped");
    Ok(0)
}

/// 0: everything answers; 1: something does not; 3: no stack.
pub async fn status(settings: &Settings) -> Result<i32> {
    let Some(stack) = StackFile::load(&settings.stack_file())? else {
        summary_line("no local stack recorded")?;
        return Ok(3);
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()?;
    let mut healthy = stack.state == State::Ready && alive(stack.supervisor_pid);
    summary_line(&format!(
        "state {:?}, supervisor pid {} ({})",
        stack.state,
        stack.supervisor_pid,
        if alive(stack.supervisor_pid) {
            "running"
        } else {
            "NOT RUNNING"
        }
    ))?;
    let moto = is_moto(&http, &stack.moto_url).await;
    healthy &= moto;
    summary_line(&format!(
        "moto {} {}",
        stack.moto_url,
        if moto { "answers" } else { "DOES NOT ANSWER" }
    ))?;
    let instances = stack.pids.keys().filter(|k| k.contains('#')).count();
    summary_line(&format!("{instances} function instances"))?;
    for port in [stack.ports.owner, stack.ports.requestor] {
        let open = port_answers(port).await;
        healthy &= open;
        summary_line(&format!(
            "port {port} {}",
            if open { "open" } else { "CLOSED" }
        ))?;
    }
    Ok(if healthy { 0 } else { 1 })
}

fn summary_line(line: &str) -> Result<()> {
    writeln!(std::io::stdout(), "{line}")?;
    Ok(())
}

fn summary(stack: &StackFile) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nxacct local stack is up")?;
    writeln!(out, "  {:<28} {}", "moto", stack.moto_url)?;
    writeln!(out, "  {:<28} {}", "owner account", stack.owner_account)?;
    writeln!(
        out,
        "  {:<28} {}",
        "requestor account", stack.requestor_account
    )?;
    for (name, url) in &stack.functions {
        writeln!(out, "  {name:<28} {url}")?;
    }
    writeln!(
        out,
        "  {:<28} {} per function",
        "instances", stack.instances_per_function
    )?;
    writeln!(out, "  {:<28} {}", "logs", stack.logs.display())?;
    writeln!(
        out,
        "\nUse the owner port for the owner functions and the requestor port for the requestor's.\n\
         The CLI and the tests find the stack by themselves (.local/stack.json).\n\
         After `cargo build --workspace --bins` the stack restarts the rebuilt functions."
    )?;
    Ok(())
}
