//! `inkseal bench verify`: whole-process verification of the 2 MiB, 20-page contract carrying
//! three signatures, `inkseal verify` against `pyhanko sign validate` (goal: at least 20 times
//! faster), wall time and peak memory.
//!
//! The signatures are ECDSA P-256 (pyHanko cannot check SM2), made by `inkseal sign` with a
//! self-signed certificate both tools trust; every run of each tool must judge all three valid.

use crate::bench_pdf::{
    CONTRACT_MIB, CONTRACT_PAGES, MIB, Sample, TIME, find_pyhanko, make_key_and_cert, measure,
    pyhanko_version, qpdf_check, run_checked, summarize, work_dir, write_pdf,
};
use clap::Args;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How many times faster than pyHanko inkseal should verify the contract.
const GOAL_SPEEDUP: f64 = 20.0;
/// Signatures on the contract.
const SIGNATURES: usize = 3;

/// Options of `inkseal bench verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Runs per tool; the median wall time is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Keep the contract, key, certificate and signed file in this directory.
    #[arg(long)]
    keep: Option<PathBuf>,
}

/// Entry point of `inkseal bench verify`.
pub fn run(args: VerifyArgs) -> Result<(), String> {
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    if !Path::new(TIME).exists() {
        return Err(format!(
            "{TIME} not found: install the Debian package `time` (scripts/bench-pdf.sh does)"
        ));
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build of inkseal; run scripts/bench-pdf.sh verify");
    }
    let inkseal = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let pyhanko = find_pyhanko()
        .ok_or("pyhanko not found on PATH (pip install pyhanko-cli): nothing to compare with")?;

    let (dir, temp) = work_dir(args.keep.as_deref(), "inkseal-bench-verify-")?;

    // The contract, signed three times (two visible signatures, one invisible).
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    make_key_and_cert(&key, &cert)?;
    let contract = dir.join("contract-2MiB.pdf");
    let target = (CONTRACT_MIB * MIB).round() as u64;
    let bytes = write_pdf(&contract, CONTRACT_PAGES, target, 0x5eed_0fc0_177a_c7e5)
        .map_err(|e| format!("writing {}: {e}", contract.display()))?;
    qpdf_check(&contract)?;
    let mut signed = contract.clone();
    for n in 1..=SIGNATURES {
        let out = dir.join(format!("contract-{n}-signed.pdf"));
        let mut cmd = Command::new(&inkseal);
        cmd.arg("sign")
            .arg(&signed)
            .arg(&out)
            .arg("--key")
            .arg(&key)
            .arg("--cert")
            .arg(&cert)
            .args(["--field-name", &format!("Signer{n}")]);
        if n < SIGNATURES {
            cmd.args(["--page", &n.to_string(), "--rect", "100,100,180,60"]);
        }
        run_checked(&mut cmd, "inkseal sign")?;
        signed = out;
    }
    let signed_bytes = std::fs::metadata(&signed)
        .map_err(|e| format!("{}: {e}", signed.display()))?
        .len();
    eprintln!(
        "signed {} ({} bytes, {SIGNATURES} signatures) from a {bytes}-byte contract",
        signed.display(),
        signed_bytes
    );

    let ours: Vec<OsString> = vec![
        "verify".into(),
        signed.clone().into(),
        "--trust".into(),
        cert.clone().into(),
    ];
    let theirs: Vec<OsString> = vec![
        "sign".into(),
        "validate".into(),
        "--pretty-print".into(),
        "--trust-replace".into(),
        "--trust".into(),
        cert.clone().into(),
        signed.clone().into(),
    ];
    // Both must call every signature valid before anything is timed.
    judge_all_valid(
        Command::new(&inkseal).args(&ours),
        "inkseal verify",
        "[VALID]",
    )?;
    judge_all_valid(
        Command::new(&pyhanko).args(&theirs),
        "pyhanko sign validate",
        "The signature is judged VALID.",
    )?;

    let mut samples: [Vec<Sample>; 2] = [Vec::new(), Vec::new()];
    for run in 0..args.runs {
        eprintln!("run {}/{}", run + 1, args.runs);
        samples[0].push(measure(inkseal.as_os_str(), &ours, &dir)?);
        samples[1].push(measure(pyhanko.as_os_str(), &theirs, &dir)?);
    }
    let (Some(a), Some(b)) = (summarize(&samples[0]), summarize(&samples[1])) else {
        return Err("no samples".into());
    };
    let speedup = b.median_s / a.median_s;
    println!();
    println!(
        "PDF verification benchmark: the {:.1} MiB, {CONTRACT_PAGES}-page contract with \
         {SIGNATURES} ECDSA P-256 signatures, whole process, wall time median of {} run(s) \
         (min..max), peak RSS",
        signed_bytes as f64 / MIB,
        args.runs
    );
    println!("  inkseal: {}", inkseal.display());
    println!(
        "  pyHanko: {} ({})",
        pyhanko.display(),
        pyhanko_version(&pyhanko)
    );
    for (name, s) in [("inkseal verify", &a), ("pyhanko sign validate", &b)] {
        println!(
            "  {name:<22} {:>8.3} s ({:.3}..{:.3})  {:>7.1} MiB",
            s.median_s, s.min_s, s.max_s, s.peak_mib
        );
    }
    println!(
        "  inkseal is {speedup:.1}x faster (goal: at least {GOAL_SPEEDUP:.0}x): {}",
        if speedup >= GOAL_SPEEDUP {
            "met"
        } else {
            "NOT MET"
        }
    );
    drop(temp);
    Ok(())
}

/// Runs `cmd` (untimed) and requires it to succeed with `valid` printed once per signature.
fn judge_all_valid(cmd: &mut Command, what: &str, valid: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let count = text.matches(valid).count();
    if out.status.success() && count == SIGNATURES {
        Ok(())
    } else {
        Err(format!(
            "{what} did not judge all {SIGNATURES} signatures valid ({}; {count} valid):\n{text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
