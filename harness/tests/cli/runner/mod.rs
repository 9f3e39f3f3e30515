//! Each runner against the real thing it drives: dockerd, Podman's service, gVisor,
//! moto and cargo-lambda's emulator, QEMU.

mod docker;
mod gvisor;
mod lambda;
mod podman;
mod vm;
