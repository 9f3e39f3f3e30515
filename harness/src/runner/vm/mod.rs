//! The `vm` runner: the probe in a virtual machine booted by QEMU
//! (`qemu-system-x86_64`, Debian's `qemu-system-x86`), from a Linux kernel to the
//! probe's first answer over a serial port.
//!
//! * `minimal-*`: the guest kernel plus an initramfs whose `/init` is the static probe
//!   (built by the harness, [`initramfs`]): the floor of a VM boot, what
//!   Firecracker-style microVMs approach.
//! * `full-*`: a Debian root filesystem with systemd, booted from a disk image
//!   (`scripts/build-vm-image.sh`), the probe a systemd service started after
//!   `multi-user.target`: what "a VM boots in 30-120 s" means.
//! * `*-kvm` runs with hardware virtualization, `*-tcg` under QEMU's emulator. The
//!   accelerator is in the name, so the two never share a histogram. A KVM variant is
//!   preflighted (one minimal guest, [`KVM_PREFLIGHT_TIMEOUT`]) and skipped with the
//!   reason when KVM is absent, refused, or its guest does not reach READY.
//!
//! What is timed:
//! * **cold**: from the spawn of the QEMU process (its arguments built before the
//!   clock, the kernel command line ending with the start's instance nonce) until the
//!   probe's first `DONE` on the serial line. Phases: `spawn` (the process exists),
//!   `boot` (until `READY`: QEMU, firmware, kernel, and init or systemd),
//!   `first_response` (`INVOKE` written, `DONE` read); in a burst, `held` after
//!   `spawn` (at the round's gate while the other QEMUs are spawned; this guest
//!   boots meanwhile, so its `boot` runs from the gate). The
//!   guest's own clock goes to `reported`, never into phases:
//!   `CLOCK_BOOTTIME` when the probe started (`guest_init_start_ns` as `/init`,
//!   `guest_unit_start_ns` when systemd started its unit) and at READY
//!   (`guest_ready_ns`): `boot` minus guest uptime is the VMM's and firmware's time.
//! * **warm**: one `INVOKE`/`DONE` round trip over the serial line of a live guest.
//! * **teardown** (timed apart): `EXIT` written until QEMU has exited (the probe powers
//!   the guest off as init; systemd powers it off when the unit ends).

mod detect;
pub mod initramfs;
pub mod qemu;

pub use detect::detect;

use super::{
    line_protocol, Built, ColdStart, Request, RunContext, Runner, RunnerInfo, RunnerKey,
    RuntimeKind, SampleError, StartRequest, Ticket,
};
use crate::phase::Stopwatch;
use crate::probes;
use crate::results::Counts;
use async_trait::async_trait;
use detect::{inspect, kvm_device, Found, FullBootFiles};
use initramfs::Initramfs;
use qemu::{Accel, Alive, Boottime, Machine};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// `<guest>-<accelerator>`.
pub const VARIANTS: &[&str] = &["minimal-kvm", "minimal-tcg", "full-kvm", "full-tcg"];

const COLD_PHASES: &[&str] = &["spawn", "boot", "first_response"];

/// The QEMU binary looked up on PATH.
pub const QEMU: &str = "qemu-system-x86_64";

/// How long a KVM guest may take to answer before KVM is judged unusable here.
pub const KVM_PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(15);

/// The image `scripts/build-vm-image.sh` links into the probes directory, and the
/// manifest beside it that names the probe inside.
pub const IMAGE: &str = "vm-full.img";

/// Where the `reported` figures of VM samples come from.
pub const REPORTED_SOURCE: &str =
    "the guest's CLOCK_BOOTTIME (time since the guest kernel started), sent by the probe";

/// Which accelerators a run may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccelChoice {
    /// KVM variants where KVM works here (preflighted), TCG variants always
    #[default]
    Auto,
    /// Only the KVM variants
    Kvm,
    /// Only the TCG variants
    Tcg,
}

/// VM settings from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Guest kernel (default: the newest /boot/vmlinuz-*).
    pub kernel: Option<PathBuf>,
    /// Initramfs of `full` guests (default: the kernel's /boot/initrd.img-*).
    pub initrd: Option<PathBuf>,
    /// Disk image of `full` guests (default: `<probes dir>/vm-full.img`).
    pub image: Option<PathBuf>,
    pub memory_mib: u64,
    pub cpus: u64,
    pub accel: AccelChoice,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            kernel: None,
            initrd: None,
            image: None,
            memory_mib: 256,
            cpus: 1,
            accel: AccelChoice::Auto,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guest {
    Minimal,
    Full,
}

/// A variant's guest and accelerator, parsed from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Variant {
    guest: Guest,
    accel: Accel,
}

impl Variant {
    fn parse(name: &str) -> Variant {
        let guest = if name.starts_with("minimal") {
            Guest::Minimal
        } else {
            Guest::Full
        };
        let accel = if name.ends_with("kvm") {
            Accel::Kvm
        } else {
            Accel::Tcg
        };
        Variant { guest, accel }
    }
}

/// Sample counts of VM variants when `--cold`/`--warm`/`--warmup` are not given on the
/// command line: a TCG full boot takes about 17 s here, so 100 cold starts would
/// take half an hour; 10 is what the vm-boot claim needs to be judged. No warm-up:
/// each block's first item is unrecorded anyway.
fn own_counts(guest: Guest, accel: Accel) -> Counts {
    match (guest, accel) {
        (Guest::Full, Accel::Tcg) => Counts {
            cold: 10,
            warm: 20,
            warmup: 0,
        },
        _ => Counts {
            cold: 10,
            warm: 100,
            warmup: 0,
        },
    }
}

/// The per-sample timeout when `--timeout` is not given.
fn own_timeout(guest: Guest, accel: Accel) -> Duration {
    Duration::from_secs(match (guest, accel) {
        (Guest::Minimal, Accel::Kvm) => 30,
        (Guest::Minimal, Accel::Tcg) => 60,
        (Guest::Full, Accel::Kvm) => 60,
        (Guest::Full, Accel::Tcg) => 180,
    })
}

/// Builds the selected variants: writes the initramfs, checks the image, and boots
/// one KVM guest when a KVM variant is selected (the preflight).
pub async fn build(variants: &[&'static str], ctx: &RunContext) -> anyhow::Result<Vec<Built>> {
    let settings = &ctx.vm;
    let (availability, found) = inspect(&Ok(ctx.probes.clone()), settings);
    let Some(Found { qemu, kernel, full }) = found else {
        anyhow::bail!(availability.unavailable.unwrap_or_default());
    };
    let work = std::sync::Arc::new(
        tempfile::Builder::new()
            .prefix("coldstart-vm-")
            .tempdir()
            .map_err(|e| {
                anyhow::anyhow!("cannot make a directory for the guests' consoles: {e}")
            })?,
    );
    let cache = std::env::temp_dir().join("coldstart-vm-cache");
    let Initramfs {
        path: initramfs,
        sha256: initramfs_sha,
    } = initramfs::ensure(&ctx.probes.native(), &cache)?;
    let probe_sha = probes::file_sha256(&ctx.probes.native())?;
    let alive: Alive = Default::default();

    let machine = |guest: Guest, accel: Accel| -> Machine {
        let (initrd, disk, append) = match guest {
            Guest::Minimal => (initramfs.clone(), None, minimal_cmdline(ctx)),
            Guest::Full => {
                let FullBootFiles { initrd, image } =
                    full.clone().expect("only built when the image is there");
                (initrd, Some(image), full_cmdline(ctx))
            }
        };
        Machine {
            qemu: qemu.clone(),
            accel,
            kernel: kernel.clone(),
            initrd,
            disk,
            memory_mib: settings.memory_mib,
            cpus: settings.cpus,
            append,
        }
    };

    // The KVM preflight, once, if a KVM variant may run.
    let unavailable: BTreeMap<&str, String> =
        availability.unavailable_variants.iter().cloned().collect();
    let wants_kvm = variants
        .iter()
        .any(|v| Variant::parse(v).accel == Accel::Kvm && !unavailable.contains_key(v));
    let kvm_failure = if wants_kvm {
        preflight(machine(Guest::Minimal, Accel::Kvm), &work, &alive)
            .await
            .err()
    } else {
        None
    };

    let mut built = Vec::new();
    let mut counter = 0;
    for variant in variants {
        let Variant { guest, accel } = Variant::parse(variant);
        if let Some(reason) = unavailable.get(variant) {
            built.push(Built::Skipped {
                variant,
                reason: reason.clone(),
            });
            continue;
        }
        if let (Accel::Kvm, Some(reason)) = (accel, &kvm_failure) {
            built.push(Built::Skipped {
                variant,
                reason: reason.clone(),
            });
            continue;
        }
        let machine = machine(guest, accel);
        let timeout = if ctx.timeout_given {
            ctx.timeout
        } else {
            own_timeout(guest, accel)
        };
        let mut info = RunnerInfo {
            versions: availability.versions.clone(),
            reported_source: Some(REPORTED_SOURCE.into()),
            ..Default::default()
        };
        let d = &mut info.details;
        d.insert("accel".into(), accel.name().into());
        d.insert(
            "accel_reason".into(),
            accel_reason(accel, settings.accel, wants_kvm, &kvm_failure).into(),
        );
        d.insert("machine".into(), "pc".into());
        d.insert("cpu_model".into(), accel.cpu().into());
        d.insert("memory_mib".into(), settings.memory_mib.into());
        d.insert("cpus".into(), settings.cpus.into());
        d.insert("kernel".into(), machine.kernel.display().to_string().into());
        d.insert("kernel_cmdline".into(), machine.append.clone().into());
        d.insert("initrd".into(), machine.initrd.display().to_string().into());
        d.insert("probe_sha256".into(), probe_sha.clone().into());
        d.insert("timeout_ns".into(), crate::phase::nanos(timeout).into());
        match guest {
            Guest::Minimal => {
                d.insert("initramfs_sha256".into(), initramfs_sha.clone().into());
                info.artifact_bytes = probes::file_bytes(&machine.initrd);
                d.insert(
                    "artifact".into(),
                    "the initramfs (the probe as /init); the kernel is counted apart".into(),
                );
            }
            Guest::Full => {
                let image = machine.disk.clone().expect("full has a disk");
                info.artifact_bytes = probes::file_bytes(&image);
                d.insert("image".into(), image.display().to_string().into());
                d.insert(
                    "artifact".into(),
                    "the ext4 root filesystem image (Debian, systemd, the probe's unit)".into(),
                );
            }
        }
        // Unreadable: unknown, so left out, never 0.
        if let Some(bytes) = probes::file_bytes(&machine.kernel) {
            d.insert("kernel_bytes".into(), bytes.into());
        }
        counter += 1;
        built.push(Built::Ready(Box::new(VmRunner {
            key: RunnerKey::new(RuntimeKind::Vm.name(), *variant),
            guest,
            machine,
            timeout,
            counts: own_counts(guest, accel),
            info,
            consoles: work.clone(),
            next_console: Cell::new(counter * 1_000_000),
            alive: alive.clone(),
        })));
    }
    Ok(built)
}

fn accel_reason(
    accel: Accel,
    choice: AccelChoice,
    kvm_tried: bool,
    kvm_failure: &Option<String>,
) -> String {
    match (accel, choice, kvm_tried, kvm_failure) {
        (Accel::Kvm, ..) => "KVM preflight: a minimal guest answered".into(),
        (Accel::Tcg, AccelChoice::Tcg, ..) => "--vm-accel tcg".into(),
        (Accel::Tcg, _, true, Some(why)) => format!("KVM unusable here: {why}"),
        (Accel::Tcg, _, true, None) => "measured beside KVM (--vm-accel auto)".into(),
        (Accel::Tcg, ..) => match kvm_device() {
            Err(e) => format!("KVM unusable here: {e}"),
            Ok(()) => "TCG selected; KVM not tried in this run".into(),
        },
    }
}

/// One KVM guest must answer within [`KVM_PREFLIGHT_TIMEOUT`].
async fn preflight(
    machine: Machine,
    consoles: &std::sync::Arc<tempfile::TempDir>,
    alive: &Alive,
) -> Result<(), String> {
    let start = StartRequest {
        instance_nonce: rand::random(),
        request: Request {
            seq: 0,
            nonce: rand::random(),
            iters: 1,
        },
    };
    let runner = VmRunner {
        key: RunnerKey::new("vm", "preflight"),
        guest: Guest::Minimal,
        machine,
        timeout: KVM_PREFLIGHT_TIMEOUT,
        counts: own_counts(Guest::Minimal, Accel::Kvm),
        info: RunnerInfo::default(),
        consoles: consoles.clone(),
        next_console: Cell::new(0),
        alive: alive.clone(),
    };
    match runner.cold_start(start).await {
        Ok(cold) => {
            let _ = cold.instance.teardown().await;
            Ok(())
        }
        Err(e) => Err(format!(
            "KVM preflight: a minimal guest under -accel kvm did not answer within {}: {}",
            humantime::format_duration(KVM_PREFLIGHT_TIMEOUT),
            line_protocol::tail(&e.to_string(), 400)
        )),
    }
}

/// The kernel command line of a minimal guest: the probe is `/init`, its arguments
/// follow `--`; `COLDSTART_TEST_SLEEP` (tests only) reaches init's environment.
fn minimal_cmdline(ctx: &RunContext) -> String {
    let mut line = String::from("console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init");
    for (name, value) in ctx.passed_env() {
        line.push_str(&format!(" {name}={value}"));
    }
    line.push_str(&format!(
        " -- serve --vm --tty /dev/ttyS1 --init-kib {} --init-iters {}",
        ctx.params.init_kib, ctx.params.init_iters
    ));
    line
}

/// The words ending a guest's kernel command line that give a start its instance nonce:
/// the minimal guest's init takes it as an argument (its arguments end the line),
/// the full guest's unit reads it from `/proc/cmdline`.
fn instance_nonce_cmdline_tail(guest: Guest, instance_nonce: u64) -> String {
    match guest {
        Guest::Minimal => format!("--instance-nonce {instance_nonce:016x}"),
        Guest::Full => format!("coldstart.instance_nonce={instance_nonce:016x}"),
    }
}

/// The kernel command line of a full guest: systemd's unit reads the probe's
/// parameters from it (`coldstart-probe --cmdline`).
fn full_cmdline(ctx: &RunContext) -> String {
    let mut line = format!(
        "console=ttyS0 root=/dev/vda rw quiet loglevel=1 panic=-1 systemd.show_status=false \
         coldstart.init_kib={} coldstart.init_iters={}",
        ctx.params.init_kib, ctx.params.init_iters
    );
    if let Some(sleep) = &ctx.test_sleep {
        line.push_str(&format!(" coldstart.test_sleep={sleep}"));
    }
    line
}

struct VmRunner {
    key: RunnerKey,
    guest: Guest,
    machine: Machine,
    timeout: Duration,
    counts: Counts,
    info: RunnerInfo,
    /// Where the guests' console logs go (removed with the last runner).
    consoles: std::sync::Arc<tempfile::TempDir>,
    next_console: Cell<u64>,
    alive: Alive,
}

#[async_trait(?Send)]
impl Runner for VmRunner {
    fn key(&self) -> &RunnerKey {
        &self.key
    }

    fn cold_phases(&self) -> &'static [&'static str] {
        COLD_PHASES
    }

    fn info(&self) -> RunnerInfo {
        self.info.clone()
    }

    fn own_counts(&self) -> Option<Counts> {
        Some(self.counts)
    }

    async fn cold_start(&self, start: StartRequest) -> Result<ColdStart, SampleError> {
        self.start(start, None).await
    }

    async fn gated_cold_start(
        &self,
        start: StartRequest,
        ticket: Ticket<'_>,
    ) -> Result<ColdStart, SampleError> {
        self.start(start, Some(ticket)).await
    }

    /// Kills any QEMU a teardown missed (each is a leftover).
    async fn close(&mut self) -> Vec<String> {
        let pids: Vec<u32> = std::mem::take(&mut *self.alive.lock().expect("not poisoned"))
            .into_iter()
            .collect();
        pids.into_iter()
            .map(|pid| {
                // SAFETY: a plain kill(2) of a child we started and have not reaped.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                format!("QEMU process {pid} was still running: killed")
            })
            .collect()
    }
}

impl VmRunner {
    /// A cold start; in a burst, held at the gate after `spawn` (the `held` lap).
    async fn start(
        &self,
        start: StartRequest,
        ticket: Option<Ticket<'_>>,
    ) -> Result<ColdStart, SampleError> {
        self.next_console.set(self.next_console.get() + 1);
        let console = self
            .consoles
            .path()
            .join(format!("console-{}.log", self.next_console.get()));
        let args = self.machine.args(
            &console,
            &instance_nonce_cmdline_tail(self.guest, start.instance_nonce),
        );
        let deadline = Instant::now() + self.timeout;
        let mut sw = Stopwatch::start();
        let mut guest = qemu::spawn(
            &self.machine.qemu,
            &args,
            console,
            self.timeout,
            &self.alive,
        )?;
        sw.lap("spawn");
        crate::runner::launch_gate::hold(ticket, &mut sw).await;
        let Boottime {
            at_start_ns,
            at_ready_ns,
        } = guest.boottime(deadline).await?;
        let response = line_protocol::ready_and_first_response(
            &mut guest,
            &mut sw,
            "boot",
            start.request,
            deadline,
        )
        .await?;
        let mut times = sw.finish();
        let start_name = match self.guest {
            Guest::Minimal => "guest_init_start_ns",
            Guest::Full => "guest_unit_start_ns",
        };
        times.reported.insert(start_name, at_start_ns);
        times.reported.insert("guest_ready_ns", at_ready_ns);
        Ok(ColdStart {
            instance: Box::new(guest),
            response,
            times,
            shared_instance_nonce: None,
            not_cold: None,
        })
    }
}
