//! `history` of a directory of runs: it reads what is inside the directory, once, and
//! follows no link out of it.

use crate::support::{coldstart, read_json, repo_file};

#[test]
fn history_does_not_follow_links_out_of_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    std::fs::copy(
        repo_file("fixtures/compare/aa-a/run-01.json"),
        runs.join("one.json"),
    )
    .unwrap();
    let secret = outside.path().join("elsewhere.json");
    std::fs::copy(repo_file("fixtures/compare/aa-b/run-02.json"), &secret).unwrap();
    std::os::unix::fs::symlink(&secret, runs.join("out.json")).unwrap();
    std::os::unix::fs::symlink(outside.path(), runs.join("outdir")).unwrap();
    // A link to itself's parent would loop forever if followed.
    std::os::unix::fs::symlink(&runs, runs.join("loop")).unwrap();
    // A link inside the directory is read once.
    std::os::unix::fs::symlink(runs.join("one.json"), runs.join("again.json")).unwrap();
    let out = coldstart().arg("history").arg(&runs).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let one = read_json(&runs.join("one.json"))["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = read_json(&secret)["run_id"].as_str().unwrap().to_string();
    assert!(stdout.contains(&one), "{stdout}");
    assert!(
        !stdout.contains(&other),
        "read through a link out of the directory"
    );
    assert_eq!(
        stdout.matches(&one).count(),
        read_json(&runs.join("one.json"))["runtimes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["available"] == true)
            .map(|r| if r["modes"]["warm"]["ok"] == 0 { 1 } else { 2 })
            .sum::<usize>(),
        "one row per group, not two: {stdout}"
    );
    assert!(stderr.contains("out.json: a link out of"), "{stderr}");
    assert!(
        stderr.contains("outdir: a link to a directory is not followed"),
        "{stderr}"
    );
}
