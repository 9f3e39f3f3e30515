//! `vm`: the VM runner (issue 11), side by side on this machine.
//!
//! 1. One `coldstart run --runtime process:native,docker:runc-none,vm --seed 11` with
//!    no counts on the command line: process and Docker take the defaults (100 cold +
//!    1000 warm), the VMs the counts their runner sets for them (the file's
//!    `variant_counts`). KVM variants run where a preflight guest answers, TCG
//!    always. Per variant: cold p50/p99 with each phase's p50 (our clock: QEMU's
//!    spawn to the probe's first verified answer over the serial line), warm p50,
//!    teardown p50, and the guest's own clock at READY (its uptime, reported: another
//!    clock than ours).
//! 2. QEMU's own: `hyperfine -N --warmup 1 --runs RUNS` of the same QEMU command line
//!    booting the minimal guest (TCG) with the probe one-shot: boot, one invocation,
//!    power off. Against coldstart's cold p50 + teardown p50 of vm:minimal-tcg.
//! 3. A CPU-bound invocation (`--invoke-iters 2000000`, 2 cold + 20 warm) as
//!    process:native and inside vm:minimal-tcg: the warm p50 ratio, which is the
//!    hypervisor's overhead under KVM and only the emulator's slowdown under TCG.
//!
//! No target: it reports.

use crate::exec::{self, Setup, Sink, Step};
use crate::hyperfine::{self, Hyperfine};
use crate::read;
use crate::table::{duration, Row, Table};
use anyhow::{Context, Result};
use coldstart::results::{Mode, ResultFile, RuntimeResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// hyperfine's runs of QEMU's own boot (step 2).
    #[arg(long, env = "RUNS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
}

/// The newest guest kernel in /boot, as the harness picks it.
fn kernel() -> Result<String> {
    let mut kernels: Vec<String> = std::fs::read_dir("/boot")
        .context("cannot read /boot")?
        .filter_map(|e| e.ok())
        .map(|e| e.path().display().to_string())
        .filter(|p| p.starts_with("/boot/vmlinuz-"))
        .collect();
    kernels.sort();
    kernels.pop().ok_or_else(|| {
        exec::Missing {
            what: "no guest kernel in /boot (vmlinuz-*)".into(),
            fix: "apt-get install -y linux-image-cloud-amd64".into(),
        }
        .into()
    })
}

/// The QEMU command line coldstart boots vm:minimal-tcg with, the probe one-shot.
fn qemu_command(kernel: &str, initramfs: &str) -> String {
    format!(
        "qemu-system-x86_64 -M pc,accel=tcg -cpu max -m 256 -smp 1 -nodefaults \
         -no-user-config -display none -no-reboot -kernel {kernel} -initrd {initramfs} \
         -append 'console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init -- once' \
         -chardev null,id=console -device isa-serial,chardev=console"
    )
}

pub fn run(setup: &Setup, args: &Args) -> Result<Table> {
    exec::require("hyperfine", "apt-get install -y hyperfine")?;
    exec::require("qemu-system-x86_64", "apt-get install -y qemu-system-x86")?;
    exec::require_docker_daemon()?;
    let kernel = kernel()?;
    let env = setup.prepare("vm")?;
    if !env.repo.join("probes/out/vm-full.img").exists() {
        env.say("building the vm:full image (scripts/build-vm-image.sh)");
        Step::new(env.repo.join("scripts/build-vm-image.sh"))
            .current_dir(&env.repo)
            .check()?;
    }

    env.say("1. process:native, docker:runc-none and every vm variant in one run");
    env.coldstart(["run", "--runtime", "process:native,docker:runc-none,vm"])
        .args(["--seed", "11", "--export-json"])
        .arg(env.file("vm.json"))
        .stdout(Sink::Null)
        .stderr(Sink::File(env.file("vm.err")))
        .code()?;
    let side_by_side = read::load(&env.file("vm.json"))?;
    let minimal = read::measured(&side_by_side, "vm", Some("minimal-tcg"))?;
    let initramfs = read::detail(minimal, "initrd")?.to_string();

    env.say("2. QEMU's own boot of the minimal guest under hyperfine");
    let qemu_export = env.file("hyperfine-qemu.json");
    Hyperfine {
        warmup: 1,
        runs: args.runs,
        export: qemu_export.clone(),
        commands: vec![qemu_command(&kernel, &initramfs)],
    }
    .step()
    .check()?;

    env.say("3. a CPU-bound invocation inside and outside the guest");
    env.coldstart(["run", "--runtime", "process:native,vm:minimal-tcg"])
        .args(["--cold", "2", "--warm", "20", "--invoke-iters", "2000000"])
        .arg("--export-json")
        .arg(env.file("overhead.json"))
        .stdout(Sink::Null)
        .stderr(Sink::File(env.file("overhead.err")))
        .check_measured()?;

    let mut table = Table::new(
        "vm: one run side by side (process and Docker 100 cold + 1000 warm, the VMs their \
         own counts); p50s and p99s of each variant's samples; hyperfine's median",
    );
    for r in &side_by_side.runtimes {
        table.push(variant_row(r));
    }
    table.push(Row::or_not_measured(
        format!(
            "QEMU's own: `hyperfine -N` of the minimal guest one-shot (boot, one invocation, \
             power off), --runs {}, vs coldstart's vm:minimal-tcg cold p50 + teardown p50",
            args.runs
        ),
        None,
        |what| {
            let h = hyperfine::command(&hyperfine::load(&qemu_export)?, 0, &qemu_export)?;
            let what = format!("{what} (n={})", h.times.len());
            let both = read::p50(minimal, Mode::Cold, "total")? + read::teardown_p50(minimal)?;
            Ok(Row::ratio(
                what,
                format!(
                    "{} vs hyperfine median {} (mean {})",
                    duration(both),
                    duration(h.median_ns()),
                    duration(h.mean_ns())
                ),
                both / h.median_ns(),
                None,
            ))
        },
    ));
    table.push(Row::or_not_measured(
        "CPU-bound warm invocation (2,000,000 rounds) p50, vm:minimal-tcg vs process:native",
        None,
        |what| {
            let file: ResultFile = read::load(&env.file("overhead.json"))?;
            let warm = |v: &str| -> Result<f64> {
                let runtime = if v == "native" { "process" } else { "vm" };
                read::p50(
                    read::measured(&file, runtime, Some(v))?,
                    Mode::Warm,
                    "total",
                )
            };
            let (native, guest) = (warm("native")?, warm("minimal-tcg")?);
            Ok(Row::ratio(
                what,
                format!(
                    "{} vs {} (TCG's emulation, not a hypervisor's overhead)",
                    duration(guest),
                    duration(native)
                ),
                guest / native,
                None,
            ))
        },
    ));
    table.note(format!("raw files: {}", env.out.display()));
    Ok(table)
}

/// One variant of the side-by-side run, as the script printed it.
fn variant_row(r: &RuntimeResult) -> Row {
    let key = read::key(r);
    if !r.available {
        return Row::not_measured(
            key,
            format!(
                "skipped: {}",
                r.skipped_reason.as_deref().unwrap_or("no reason given")
            ),
            None,
        );
    }
    let cold = &r.modes.cold;
    let Some(total) = cold.phases.get("total") else {
        return Row::not_measured(
            key,
            format!(
                "no valid cold sample ({} failed, {} invalid)",
                cold.failed, cold.invalid
            ),
            None,
        );
    };
    let phases: Vec<String> = r
        .phase_order
        .iter()
        .filter(|p| p.as_str() != "total")
        .filter_map(|p| {
            cold.phases
                .get(p)
                .map(|s| format!("{p} {}", duration(s.p50_ns as f64)))
        })
        .collect();
    let mut text = format!(
        "cold n={} p50 {}, p99 {} ({})",
        total.count,
        duration(total.p50_ns as f64),
        duration(total.p99_ns as f64),
        phases.join(", ")
    );
    if let Some(warm) = r.modes.warm.phases.get("total") {
        text += &format!(
            "; warm n={} p50 {}",
            warm.count,
            duration(warm.p50_ns as f64)
        );
    }
    if let Some(teardown) = &r.teardown {
        text += &format!("; teardown p50 {}", duration(teardown.p50_ns as f64));
    }
    if let Some(ready) = cold.reported.get("guest_ready_ns") {
        text += &format!(
            "; the guest's uptime at READY p50 {}",
            duration(ready.p50_ns as f64)
        );
    }
    if r.runtime == "vm" {
        let accel = r
            .details
            .get("accel")
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        let why = r
            .details
            .get("accel_reason")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        text += &format!(
            "; accel {accel}: {}",
            why.chars().take(160).collect::<String>()
        );
    }
    Row::report(key, text)
}
