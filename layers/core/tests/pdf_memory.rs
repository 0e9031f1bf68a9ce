//! Peak memory of the decompression bomb, measured in a process of its own (Linux only: it reads
//! VmHWM in /proc/self/status). The test binary re-runs itself as the child: the peak resident
//! set of a process cannot be isolated from other tests running in threads.
//!
//! Bound: the child's peak RSS may grow by at most the decoded-bytes budget plus 64 MiB while it
//! extracts a 1 GiB bomb (before the budget it grew by 2.1 GiB, 4.1 GiB with the stream listed
//! three times).

mod hostile;

use std::process::Command;

use rag_core::pdf::{Limits, extract};

/// Set in the child's environment: how many times /Contents lists the bomb.
const CHILD: &str = "RAG_PDF_MEMORY_CHILD";
const SLACK: u64 = 64 << 20;

/// Peak resident set so far, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        * 1024
}

fn child(listed: usize) {
    let pdf = hostile::decompression_bomb(hostile::BOMB_BYTES, listed);
    let before = peak_rss();
    let result = extract(&pdf, None);
    let growth = peak_rss().saturating_sub(before);
    println!("growth={growth} result={:?}", result.map(|_| "ok"));
}

fn main() {
    if !cfg!(target_os = "linux") {
        println!("pdf_memory: skipped, VmHWM is Linux-only");
        return;
    }
    if let Ok(listed) = std::env::var(CHILD) {
        child(listed.parse().expect("listed"));
        return;
    }
    let bound = Limits::default().decoded_bytes as u64 + SLACK;
    for listed in [1, 3] {
        let out = Command::new(std::env::current_exe().expect("test binary"))
            .env(CHILD, listed.to_string())
            .output()
            .expect("run the child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let growth: u64 = stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix("growth="))
            .and_then(|g| g.parse().ok())
            .expect("growth in the child's output");
        println!(
            "bomb listed {listed}×: peak RSS +{} MiB, {}",
            growth >> 20,
            stdout.trim()
        );
        assert!(stdout.contains("OverBudget(DecodedBytes"), "{stdout}");
        assert!(
            growth < bound,
            "peak RSS grew by {} MiB, bound {} MiB",
            growth >> 20,
            bound >> 20
        );
    }
    println!("pdf_memory: ok");
}
