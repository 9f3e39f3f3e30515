//! What the host offers the `vm` runner: QEMU on PATH and its version, a guest
//! kernel, the `full` guests' initrd and image (whose manifest must name the current
//! probe), and whether /dev/kvm opens. Nothing here is timed; `build` boots with what
//! [`inspect`] found, without looking again.

use super::qemu::Accel;
use super::{AccelChoice, Guest, Settings, Variant, IMAGE, QEMU, VARIANTS};
use crate::probes::{self, ProbeArtifacts};
use crate::runner::{Availability, RuntimeKind};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

/// The `vm:full` image, once its manifest names the current probe.
fn full_image(settings: &Settings, probes: &ProbeArtifacts) -> Result<PathBuf, String> {
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
    Ok(path)
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
pub(super) fn kvm_device() -> Result<(), String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map(|_| ())
        .map_err(|e| format!("/dev/kvm cannot be opened ({e}): KVM is absent or not permitted"))
}

/// What `detect` found on this host, for `build` to use without looking again.
pub(super) struct Found {
    pub(super) qemu: PathBuf,
    pub(super) kernel: PathBuf,
    /// The full guests' initrd and image, or why they cannot boot.
    pub(super) full: Result<FullBootFiles, String>,
}

/// What a `full` guest boots from besides the kernel.
#[derive(Debug, Clone)]
pub(super) struct FullBootFiles {
    /// The initramfs with the virtio-blk driver.
    pub(super) initrd: PathBuf,
    /// The Debian root filesystem image.
    pub(super) image: PathBuf,
}

/// Available when QEMU and a guest kernel are; `full` needs its image, `kvm` /dev/kvm.
pub fn detect(probes: &Result<ProbeArtifacts, String>, settings: &Settings) -> Availability {
    inspect(probes, settings).0
}

/// What [`detect`] reports, and what it found for `build`; `None` when the runner
/// cannot run at all.
pub(super) fn inspect(
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
    let full = full_initrd(settings, &kernel).and_then(|initrd| {
        full_image(settings, probes).map(|image| FullBootFiles { initrd, image })
    });
    let kvm = kvm_device();
    for variant in VARIANTS {
        let Variant { guest, accel } = Variant::parse(variant);
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
