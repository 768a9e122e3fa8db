//! Starting a function's binary as Lambda starts a custom runtime (a clean environment,
//! `AWS_LAMBDA_RUNTIME_API` pointing at a Runtime API of the bench's) and waiting for its
//! answers.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use crate::error::{BenchError, Context, Result};
use crate::runtime_api::{Answer, Outcome, RuntimeApi, ms};

/// How to start one binary: the function it plays, its AWS variables, where its logs go.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Names the process in errors and its log file.
    pub label: String,
    pub binary: PathBuf,
    pub function_name: String,
    pub function_arn: String,
    pub memory_mb: u32,
    /// The AWS variables (keys, region, endpoint).
    pub aws_env: Vec<(String, String)>,
    pub log_dir: PathBuf,
    pub timeout: Duration,
}

/// A running process of a function and the Runtime API it polls.
#[derive(Debug)]
pub struct Running {
    pub label: String,
    pub child: Child,
    pub log: PathBuf,
    pub timeout: Duration,
    /// Just before the process was spawned.
    pub spawned: Instant,
}

/// What a cold start measured, in ms from the spawn.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Cold {
    /// Spawn to the runtime's first `/next`: process start, logging, SDK configuration.
    pub init_ms: f64,
    /// Spawn to the first answer read in full.
    pub cold_start_ms: f64,
    /// The first event handed out to its answer.
    pub first_request_ms: f64,
}

impl Launch {
    /// The environment of the process: nothing inherited, an empty AWS configuration (no
    /// profile, no instance metadata), the Lambda variables `lambda_runtime` reads.
    pub fn environment(&self, runtime_api: &str) -> Vec<(String, String)> {
        let empty = self.log_dir.join("empty-aws-config");
        let empty = empty.to_string_lossy().into_owned();
        let mut env: Vec<(String, String)> = [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
            ("AWS_LAMBDA_FUNCTION_NAME", self.function_name.clone()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.memory_mb.to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                ["/aws/lambda/", &self.function_name].concat(),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".to_owned()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("AWS_CONFIG_FILE", empty.clone()),
            ("AWS_SHARED_CREDENTIALS_FILE", empty),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(self.aws_env.iter().cloned());
        env
    }

    /// Starts the binary against `api`; `log_name` is its log file in the log directory.
    pub fn spawn(&self, api: &RuntimeApi, log_name: &str) -> Result<Running> {
        std::fs::write(self.log_dir.join("empty-aws-config"), "")
            .context(|| format!("write into {}", self.log_dir.display()))?;
        let log = self.log_dir.join(log_name);
        let out = std::fs::File::create(&log).context(|| format!("create {}", log.display()))?;
        let err = out
            .try_clone()
            .context(|| format!("open {}", log.display()))?;
        let mut command = Command::new(&self.binary);
        command
            .env_clear()
            .envs(self.environment(&api.address()))
            .current_dir(&self.log_dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true);
        let spawned = Instant::now();
        let child = command
            .spawn()
            .context(|| format!("start {}", self.binary.display()))?;
        Ok(Running {
            label: self.label.clone(),
            child,
            log,
            timeout: self.timeout,
            spawned,
        })
    }

    /// A fresh process whose first event was queued before it was spawned (as in Lambda,
    /// where the invocation that caused the cold start waits for it).
    pub async fn cold_start(
        &self,
        event: Vec<u8>,
        log_name: &str,
    ) -> Result<(RuntimeApi, Running, Outcome, Cold)> {
        let api = RuntimeApi::start(self.function_arn.clone(), self.timeout).await?;
        let first = api.submit(event);
        let mut running = self.spawn(&api, log_name)?;
        let spawned = running.spawned;
        let outcome = running.wait(&api, first).await?;
        let first_next = api
            .first_next()
            .context(|| format!("{}: answered without asking for an event", self.label))?;
        let cold = Cold {
            init_ms: ms(first_next - spawned),
            cold_start_ms: ms(outcome.received - spawned),
            first_request_ms: outcome.in_function_ms(),
        };
        Ok((api, running, outcome, cold))
    }
}

impl Running {
    /// The outcome of an invocation; fails when the process exits, the runtime speaks the
    /// protocol wrongly, the handler reports an error, or time runs out.
    pub async fn wait(
        &mut self,
        api: &RuntimeApi,
        outcome: oneshot::Receiver<Outcome>,
    ) -> Result<Outcome> {
        let result = tokio::select! {
            outcome = outcome => outcome.map_err(|_| "the Runtime API stopped".to_owned()),
            status = self.child.wait() => Err(match status {
                Ok(status) => format!("the process exited ({status})"),
                Err(e) => format!("the process could not be waited for: {e}"),
            }),
            () = tokio::time::sleep(self.timeout) => {
                Err(format!("no answer within {} s", self.timeout.as_secs()))
            }
        };
        let problems = api.problems();
        let outcome = match result {
            Ok(outcome) if problems.is_empty() => outcome,
            Ok(_) => return Err(self.failure(&format!("{problems:?}"))),
            Err(e) if problems.is_empty() => return Err(self.failure(&e)),
            Err(e) => return Err(self.failure(&format!("{e}; {problems:?}"))),
        };
        if outcome.answer == Answer::Error {
            let body = String::from_utf8_lossy(&outcome.body).into_owned();
            return Err(self.failure(&format!("the handler reported an error: {body}")));
        }
        Ok(outcome)
    }

    /// An error naming the process, with the end of its output.
    pub fn failure(&self, what: &str) -> BenchError {
        BenchError::new(format!(
            "{}: {what}\n  its output ({}):\n{}",
            self.label,
            self.log.display(),
            log_tail(&self.log, 30)
        ))
    }

    /// Stops the process.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The last lines of a log file.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all.iter()
        .skip(all.len().saturating_sub(lines))
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
