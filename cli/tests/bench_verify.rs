//! `inkseal bench verify`: it signs the generated 2 MiB contract three times, makes sure both
//! `inkseal verify` and `pyhanko sign validate` judge every signature valid, and reports both
//! tools' wall time and peak memory and the ratio against the 20x goal. The numbers come from
//! a release build (`scripts/bench-pdf.sh verify`); this only checks the benchmark works.

use std::process::Command;

#[test]
fn bench_verify_reports_both_tools_on_the_three_times_signed_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_inkseal"))
        .args(["bench", "verify", "--runs", "1", "--keep"])
        .arg(dir.path())
        .output()
        .expect("run the benchmark");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "inkseal verify",
        "pyhanko sign validate",
        "faster (goal: at least 20x)",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    // The file it measured: three signatures, every one valid by inkseal's own verifier.
    let signed = dir.path().join("contract-3-signed.pdf");
    let report = inkseal_pdf::verify::verify(
        &std::fs::read(&signed).expect("the signed contract"),
        &Default::default(),
    )
    .expect("verify");
    assert_eq!(report.signatures.len(), 3);
    assert!(report.all_ok(), "{report:#?}");
}
