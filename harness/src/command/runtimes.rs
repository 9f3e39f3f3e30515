//! `coldstart runtimes`: what this build measures, whether each variant can run on
//! this host, and why not. A variant is checked as `run` checks it: first what is
//! cheap to know (a binary, a daemon, credentials, a registered OCI runtime), then
//! the runtime's own preflight, as `run` builds it (a first container per variant, a
//! KVM guest), so a variant listed as runnable is one `run` will measure.

use crate::cli::RuntimesArgs;
use crate::error::EXIT_OK;
use crate::options;
use crate::probes::{Language, LanguageProbe, ProbeArtifacts};
use crate::runner::{self, Built, RunContext, RuntimeKind};
use std::time::Duration;

pub async fn list(args: RuntimesArgs) -> anyhow::Result<i32> {
    let probes = ProbeArtifacts::locate(args.probes.probes_dir.as_deref());
    let engine = runner::container::Settings {
        podman_host: args.podman_host.clone(),
        ..Default::default()
    };
    let vm = options::vm_settings(&args.vm, &Default::default());
    let lambda = options::lambda_settings(&args.lambda);
    eprintln!(
        "checking each variant as `run` does (a first container per container variant, a KVM guest): this takes a while"
    );
    for kind in RuntimeKind::ALL {
        let a = runner::detect(kind, &probes, &lambda, &engine, &vm).await;
        let versions: Vec<String> = a.versions.iter().map(|(k, v)| format!("{k} {v}")).collect();
        if let Some(reason) = &a.unavailable {
            println!("{:<8}  no   {reason}", kind.name());
            continue;
        }
        println!("{:<8}  yes  {}", kind.name(), versions.join(", "));
        let mut reasons: Vec<(&str, String)> = a.unavailable_variants.clone();
        // The rest go through the runtime's preflight, as `run` builds them.
        let candidates: Vec<&'static str> = a
            .variants
            .iter()
            .copied()
            .filter(|v| !reasons.iter().any(|(u, _)| u == v))
            .collect();
        if let Ok(probes) = &probes {
            let ctx = RunContext {
                probes: probes.clone(),
                params: probe_core::InitParams::DEFAULT,
                timeout: Duration::from_secs(10),
                timeout_given: false,
                run_id: format!("runtimes-{}", crate::results::hex(rand::random())),
                engine: engine.clone(),
                lambda: lambda.clone(),
                vm: vm.clone(),
                most_live: 0,
                test_sleep: None,
                language: Default::default(),
            };
            match runner::build(kind, &candidates, &ctx).await {
                Err(e) => {
                    for v in &candidates {
                        reasons.push((v, format!("{e:#}")));
                    }
                }
                Ok(built) => {
                    for b in built {
                        match b {
                            Built::Skipped { variant, reason } => reasons.push((variant, reason)),
                            Built::Ready(mut r) => {
                                for note in r.close().await {
                                    eprintln!("{}: {note}", r.key());
                                }
                            }
                        }
                    }
                }
            }
        }
        for variant in a.variants {
            match reasons.iter().find(|(v, _)| v == variant) {
                None => println!("  {kind}:{variant}"),
                Some((_, reason)) => println!("  {kind}:{variant}  not available: {reason}"),
            }
        }
    }
    // The probe's languages (`run --language`): its file, its interpreter here.
    println!("languages");
    for language in Language::ALL {
        let dir = match &probes {
            Ok(p) => p.dir.clone(),
            Err(_) => crate::probes::default_dir(),
        };
        match LanguageProbe::locate(language, &dir) {
            Ok(p) => {
                let versions: Vec<&str> = p.versions.values().map(String::as_str).collect();
                println!(
                    "  {:<8}  yes  {} {}",
                    language.name(),
                    p.program.display(),
                    versions.join(", ")
                );
            }
            Err(reason) => println!("  {:<8}  no   {reason}", language.name()),
        }
    }
    Ok(EXIT_OK)
}
