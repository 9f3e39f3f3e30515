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
//! * **cold**: from the spawn of the QEMU process until the probe's first `DONE` on the
//!   serial line. Phases: `spawn` (the process exists), `boot` (until `READY`:
//!   QEMU, firmware, kernel, and init or systemd), `first_response` (`INVOKE` written,
//!   `DONE` read). The guest's own clock goes to `reported`, never into phases:
//!   `CLOCK_BOOTTIME` when the probe started (`guest_init_start_ns` as `/init`,
//!   `guest_unit_start_ns` when systemd started its unit) and at READY
//!   (`guest_ready_ns`): `boot` minus guest uptime is the VMM's and firmware's time.
//! * **warm**: one `INVOKE`/`DONE` round trip over the serial line of a live guest.
//! * **teardown** (timed apart): `EXIT` written until QEMU has exited (the probe powers
//!   the guest off as init; systemd powers it off when the unit ends).

pub mod initramfs;
pub mod qemu;

use super::{
    line_protocol, Availability, Built, ColdStart, Request, RunContext, Runner, RunnerInfo,
    RunnerKey, RuntimeKind, SampleError,
};
use crate::phase::Stopwatch;
use crate::probes::{self, ProbeArtifacts};
use crate::results::Counts;
use async_trait::async_trait;
use qemu::{Accel, Alive, Machine};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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

fn parse_variant(name: &str) -> (Guest, Accel) {
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
    (guest, accel)
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

/// A program on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The guest kernel: `--vm-kernel`, or the newest `/boot/vmlinuz-*`.
fn kernel(settings: &Settings) -> Result<PathBuf, String> {
    if let Some(path) = &settings.kernel {
        return if path.is_file() {
            Ok(path.clone())
        } else {
            Err(format!("--vm-kernel {}: no such file", path.display()))
        };
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/boot")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .collect();
    found.sort();
    found.pop().ok_or_else(|| {
        "no guest kernel in /boot: install linux-image-cloud-amd64 (apt-get install \
         linux-image-cloud-amd64) or pass --vm-kernel PATH"
            .to_string()
    })
}

/// The version part of a kernel's file name (`vmlinuz-6.1.0-27-cloud-amd64`).
fn kernel_release(kernel: &Path) -> Option<String> {
    kernel
        .file_name()?
        .to_str()?
        .strip_prefix("vmlinuz-")
        .map(str::to_string)
}

/// The initramfs `full` guests boot with (it holds the virtio-blk driver).
fn full_initrd(settings: &Settings, kernel: &Path) -> Result<PathBuf, String> {
    if let Some(path) = &settings.initrd {
        return if path.is_file() {
            Ok(path.clone())
        } else {
            Err(format!("--vm-initrd {}: no such file", path.display()))
        };
    }
    let release = kernel_release(kernel).ok_or_else(|| {
        format!(
            "cannot tell the initrd of kernel {}: pass --vm-initrd PATH",
            kernel.display()
        )
    })?;
    let path = kernel.with_file_name(format!("initrd.img-{release}"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no initrd {} for the vm:full guests: pass --vm-initrd PATH",
            path.display()
        ))
    }
}

/// The `vm:full` image and the probe hash its manifest names.
fn full_image(settings: &Settings, probes: &ProbeArtifacts) -> Result<(PathBuf, String), String> {
    let path = settings
        .image
        .clone()
        .unwrap_or_else(|| probes.dir.join(IMAGE));
    let build = "build it with scripts/build-vm-image.sh (or pass --vm-image PATH)";
    if !path.is_file() {
        return Err(format!("no vm:full image at {}: {build}", path.display()));
    }
    let manifest_path = PathBuf::from(format!("{}.json", path.display()));
    let manifest: serde_json::Value = std::fs::read(&manifest_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            format!(
                "the vm:full image has no readable manifest {}: {build}",
                manifest_path.display()
            )
        })?;
    let inside = manifest["probe_sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let current = probes::file_sha256(&probes.native()).map_err(|e| e.to_string())?;
    if inside != current {
        return Err(format!(
            "the vm:full image {} holds another probe than {} (rebuilt since): {build}",
            path.display(),
            probes.native().display()
        ));
    }
    Ok((path, inside))
}

/// `qemu-system-x86_64 --version`'s number.
fn qemu_version(qemu: &Path) -> Option<String> {
    let out = std::process::Command::new(qemu)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .next()?
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_string)
}

/// Whether /dev/kvm can be opened for the guest.
fn kvm_device() -> Result<(), String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map(|_| ())
        .map_err(|e| format!("/dev/kvm cannot be opened ({e}): KVM is absent or not permitted"))
}

/// What `detect` found on this host, for `build` to use without looking again.
struct Found {
    qemu: PathBuf,
    kernel: PathBuf,
    /// The full guests' initrd and image, or why they cannot boot.
    full: Result<(PathBuf, PathBuf), String>,
}

/// Available when QEMU and a guest kernel are; `full` needs its image, `kvm` /dev/kvm.
pub fn detect(probes: &Result<ProbeArtifacts, String>, settings: &Settings) -> Availability {
    inspect(probes, settings).0
}

fn inspect(
    probes: &Result<ProbeArtifacts, String>,
    settings: &Settings,
) -> (Availability, Option<Found>) {
    let mut availability = Availability {
        runtime: RuntimeKind::Vm,
        variants: VARIANTS,
        versions: BTreeMap::new(),
        unavailable: None,
        unavailable_variants: Vec::new(),
    };
    let probes = match probes {
        Ok(p) => p,
        Err(e) => {
            availability.unavailable = Some(e.clone());
            return (availability, None);
        }
    };
    let Some(qemu) = on_path(QEMU) else {
        availability.unavailable = Some(format!(
            "{QEMU} not found on PATH: install qemu-system-x86 (apt-get install qemu-system-x86)"
        ));
        return (availability, None);
    };
    if let Some(v) = qemu_version(&qemu) {
        availability.versions.insert("qemu".into(), v);
    }
    let kernel = match kernel(settings) {
        Ok(k) => k,
        Err(e) => {
            availability.unavailable = Some(e);
            return (availability, None);
        }
    };
    if let Some(release) = kernel_release(&kernel) {
        availability.versions.insert("guest_kernel".into(), release);
    }
    let full = full_initrd(settings, &kernel)
        .and_then(|initrd| full_image(settings, probes).map(|(image, _)| (initrd, image)));
    let kvm = kvm_device();
    for variant in VARIANTS {
        let (guest, accel) = parse_variant(variant);
        let reason = match (settings.accel, accel) {
            (AccelChoice::Tcg, Accel::Kvm) => Some("--vm-accel tcg".to_string()),
            (AccelChoice::Kvm, Accel::Tcg) => Some("--vm-accel kvm".to_string()),
            _ => None,
        }
        .or_else(|| match (guest, &full) {
            (Guest::Full, Err(e)) => Some(e.clone()),
            _ => None,
        })
        .or_else(|| match (accel, &kvm) {
            (Accel::Kvm, Err(e)) => Some(e.clone()),
            _ => None,
        });
        if let Some(reason) = reason {
            availability.unavailable_variants.push((variant, reason));
        }
    }
    let found = Found { qemu, kernel, full };
    (availability, Some(found))
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
    let (initramfs, initramfs_sha) = initramfs::ensure(&ctx.probes.native(), &cache)?;
    let probe_sha = probes::file_sha256(&ctx.probes.native())?;
    let alive: Alive = Default::default();

    let machine = |guest: Guest, accel: Accel| -> Machine {
        let (initrd, disk, append) = match guest {
            Guest::Minimal => (initramfs.clone(), None, minimal_cmdline(ctx)),
            Guest::Full => {
                let (initrd, image) = full.clone().expect("only built when the image is there");
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
        .any(|v| parse_variant(v).1 == Accel::Kvm && !unavailable.contains_key(v));
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
        let (guest, accel) = parse_variant(variant);
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
        d.insert(
            "kernel_bytes".into(),
            probes::file_bytes(&machine.kernel).unwrap_or(0).into(),
        );
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
    let request = Request {
        seq: 0,
        nonce: rand::random(),
        iters: 1,
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
    match runner.cold_start(request).await {
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

    async fn cold_start(&self, request: Request) -> Result<ColdStart, SampleError> {
        self.next_console.set(self.next_console.get() + 1);
        let console = self
            .consoles
            .path()
            .join(format!("console-{}.log", self.next_console.get()));
        let args = self.machine.args(&console);
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
        let (at_start, at_ready) = guest.boottime(deadline).await?;
        let response =
            line_protocol::ready_and_first_response(&mut guest, &mut sw, "boot", request, deadline)
                .await?;
        let mut times = sw.finish();
        let start_name = match self.guest {
            Guest::Minimal => "guest_init_start_ns",
            Guest::Full => "guest_unit_start_ns",
        };
        times.reported.insert(start_name, at_start);
        times.reported.insert("guest_ready_ns", at_ready);
        Ok(ColdStart {
            instance: Box::new(guest),
            response,
            times,
            not_cold: None,
        })
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
