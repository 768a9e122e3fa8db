//! What the bench reads from the machine: a process's peak memory (`/proc/<pid>/status`),
//! CPU time, a binary's zipped size, and the machine a run was measured on.

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use flate2::Compression;
use flate2::write::DeflateEncoder;
use serde::Serialize;

use crate::error::{Context, Result};

/// A `kB` field of `/proc/<pid>/status` (`VmHWM:   12345 kB`), in kB.
pub fn status_kb(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let (name, rest) = line.split_once(':')?;
        if name != field {
            return None;
        }
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// A live process's peak resident memory (VmHWM), in MiB to one decimal.
pub fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_kb(&status, "VmHWM").map(kb_to_mb)
}

/// This process's peak resident memory (VmHWM), in MiB to one decimal.
pub fn own_peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_kb(&status, "VmHWM").map(kb_to_mb)
}

fn kb_to_mb(kb: u64) -> f64 {
    (kb as f64 / 1024.0 * 10.0).round() / 10.0
}

/// User plus system CPU time of a `/proc/<pid>/stat` line, in ms. The fields after the
/// command name (which may hold spaces, hence the last `)`) start with the state; utime
/// and stime are the 12th and 13th of them, in clock ticks of 1/100 s (Linux's USER_HZ).
pub fn stat_cpu_ms(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) * 10)
}

/// This process's CPU time so far, in ms.
pub fn own_cpu_ms() -> Option<u64> {
    stat_cpu_ms(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// The bytes of a zip holding `binary` as `bootstrap`, deflated at level 9: what `sam build`
/// uploads for a `provided.al2023` function. The deflated data plus the zip's fixed headers
/// for one entry without extra fields.
pub fn zipped_size(binary: &Path) -> Result<u64> {
    let data = std::fs::read(binary).context(|| format!("read {}", binary.display()))?;
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::new(9));
    encoder.write_all(&data).context(|| "deflate".to_owned())?;
    let deflated = encoder.finish().context(|| "deflate".to_owned())?;
    Ok(zip_size(deflated.len() as u64, "bootstrap"))
}

/// A one-entry zip's size: local header (30) + name + data, central directory entry (46) +
/// name, end of central directory (22).
pub fn zip_size(data: u64, name: &str) -> u64 {
    let name = name.len() as u64;
    30 + name + data + 46 + name + 22
}

/// Bytes to MiB to one decimal.
pub fn mib(bytes: u64) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0
}

/// The machine a run was measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: String,
    pub mem_total_mb: u64,
    pub kernel: String,
    pub loadavg: String,
    pub date: String,
}

impl Machine {
    pub fn read() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpu_model = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")?
                    .split_once(':')
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_default();
        Self {
            nproc: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model,
            mem_total_mb: status_kb(&read("/proc/meminfo"), "MemTotal").unwrap_or(0) / 1024,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            loadavg: read("/proc/loadavg")
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
            date: utc_now(),
        }
    }
}

/// Now, as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_date(secs)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (the civil calendar from days, after
/// Howard Hinnant's `civil_from_days`).
pub fn utc_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_memory_is_read_from_the_status_file() {
        let status = "Name:\tlist-resources\nVmPeak:\t  120000 kB\nVmHWM:\t   20172 kB\nVmRSS:\t   19000 kB\n";
        assert_eq!(status_kb(status, "VmHWM"), Some(20172));
        assert_eq!(status_kb(status, "VmRSS"), Some(19000));
        assert_eq!(status_kb(status, "VmSwap"), None);
        assert_eq!(status_kb("VmHWM:\tlots\n", "VmHWM"), None);
        assert_eq!(kb_to_mb(20172), 19.7);
    }

    #[test]
    fn cpu_time_skips_a_command_name_with_spaces() {
        let stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 500 0 0 0 37 5 0 0 20 0 3 0 100 0";
        assert_eq!(stat_cpu_ms(stat), Some(420));
        assert_eq!(stat_cpu_ms("4242 (x) S 1"), None);
    }

    #[test]
    fn a_zip_of_one_entry_adds_its_headers() {
        assert_eq!(zip_size(1000, "bootstrap"), 1000 + 30 + 46 + 22 + 2 * 9);
        assert_eq!(mib(8 * 1024 * 1024 + 60_000), 8.1);
    }

    #[test]
    fn dates_are_utc_in_the_civil_calendar() {
        assert_eq!(utc_date(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_date(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_date(1_795_393_785), "2026-11-23T00:29:45Z");
    }
}
