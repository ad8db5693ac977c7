//! Who holds something, and whether they still exist: a process (or a process
//! group) named by host, boot, pid and start time, so that a pid the kernel
//! has since given to someone else, or a reboot, is never mistaken for the
//! holder. Locks and journal claims record one of these and call it stale only
//! once it is gone.

use serde::{Deserialize, Serialize};

/// A process, or with [`Process::group_alive`] the process group it leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub host: String,
    pub pid: u32,
    /// Start time in clock ticks since boot (`/proc/<pid>/stat`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// `/proc/sys/kernel/random/boot_id`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot: Option<String>,
}

/// Whether a recorded process (or group) still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alive {
    Yes,
    No,
    /// On another host: it cannot be checked from here.
    Unknown,
}

impl Process {
    /// This process.
    pub fn me() -> Process {
        Process::of(std::process::id())
    }

    /// A process of this host, now.
    pub fn of(pid: u32) -> Process {
        Process { host: hostname(), pid, start: stat(pid).map(|s| s.start), boot: boot_id() }
    }

    /// The same process as this one (not merely the same pid).
    pub fn is_me(&self) -> bool {
        *self == Process::me()
    }

    fn elsewhere(&self) -> Option<Alive> {
        if self.host != hostname() {
            return Some(Alive::Unknown);
        }
        match (&self.boot, boot_id()) {
            (Some(then), Some(now)) if *then != now => Some(Alive::No),
            _ => None,
        }
    }

    /// Whether the process still runs (a zombie does not).
    pub fn alive(&self) -> Alive {
        if let Some(a) = self.elsewhere() {
            return a;
        }
        match stat(self.pid) {
            Some(s) if s.zombie => Alive::No,
            Some(s) => yes(self.start.is_none_or(|t| t == s.start)),
            None if proc_mounted() => Alive::No,
            None => yes(signal_ok(self.pid as i32)),
        }
    }

    /// Whether any process of the group this process led still runs: its
    /// leader may be gone while what it started goes on.
    pub fn group_alive(&self) -> Alive {
        if let Some(a) = self.elsewhere() {
            return a;
        }
        let pgid = self.pid;
        if !proc_mounted() {
            return yes(signal_ok(-(pgid as i32)));
        }
        // A live process now using the number as its pid means the number was
        // free once, so the recorded group had ended.
        if let Some(s) = stat(pgid)
            && !s.zombie
            && self.start.is_some_and(|t| t != s.start)
        {
            return Alive::No;
        }
        let Ok(dir) = std::fs::read_dir("/proc") else { return yes(signal_ok(-(pgid as i32))) };
        let member = dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(stat)
            .any(|s| s.pgrp == pgid && !s.zombie);
        yes(member)
    }

    /// `pid 4242 on host runner-7`, for messages.
    pub fn describe(&self) -> String {
        format!("pid {} on host {}", self.pid, self.host)
    }
}

fn yes(b: bool) -> Alive {
    if b { Alive::Yes } else { Alive::No }
}

fn proc_mounted() -> bool {
    std::path::Path::new("/proc/self/stat").exists()
}

fn signal_ok(target: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(target, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

struct Stat {
    zombie: bool,
    pgrp: u32,
    start: u64,
}

/// State, process group and start time of `pid` from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: fields
    // from 3 on follow the last `)`.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        zombie: matches!(f.first().copied(), Some("Z" | "X")),
        pgrp: f.get(2)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
    })
}

fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok().map(|s| s.trim().to_string())
}

/// This host's name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_pid_is_not_the_recorded_process() {
        let me = Process::me();
        assert_eq!(me.alive(), Alive::Yes);
        if me.start.is_some() {
            let reused = Process { start: me.start.map(|s| s + 1), ..me.clone() };
            assert_eq!(reused.alive(), Alive::No);
        }
        let gone = Process { pid: u32::MAX - 1, ..me.clone() };
        assert_eq!(gone.alive(), Alive::No);
        assert_eq!(gone.group_alive(), Alive::No);
        let rebooted = Process { boot: Some("another-boot".into()), ..me.clone() };
        assert_eq!(rebooted.alive(), Alive::No);
        let elsewhere = Process { host: "elsewhere.invalid".into(), ..me };
        assert_eq!(elsewhere.alive(), Alive::Unknown);
    }

    #[test]
    fn a_group_lives_while_any_member_does() {
        use std::os::unix::process::CommandExt;
        // The leader exits at once; the sleep it started keeps the group alive.
        let mut leader = std::process::Command::new("sh")
            .args(["-c", "sleep 30 >/dev/null 2>&1 & echo $!"])
            .stdout(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let group = Process::of(leader.id());
        let mut out = String::new();
        std::io::Read::read_to_string(leader.stdout.as_mut().unwrap(), &mut out).unwrap();
        leader.wait().unwrap();
        assert_eq!(group.alive(), Alive::No, "the leader has exited");
        assert_eq!(group.group_alive(), Alive::Yes, "its sleep still runs");
        let sleeper: i32 = out.trim().parse().unwrap();
        // SAFETY: signals the sleep this test started.
        unsafe { libc::kill(sleeper, libc::SIGKILL) };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while group.group_alive() == Alive::Yes && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(group.group_alive(), Alive::No);
    }
}
