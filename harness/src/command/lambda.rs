//! `coldstart lambda deploy` and `coldstart lambda destroy`: the only commands that
//! create or remove anything in an AWS account.
//!
//! `deploy` zips the stripped static `bootstrap` (a deterministic zip: fixed time
//! stamps, so an unchanged probe gives an unchanged `CodeSha256`) and creates or
//! updates one function per architecture and memory size, named
//! `<prefix>-<arch>-<memory>mb`, runtime `provided.al2023`, tagged
//! `coldstart=managed`. A function of that name without the tag is not touched.
//! `destroy` deletes the tagged functions of the same names. A command, like `run`:
//! it reads the command line and uses the lambda runner's helpers (names, the AWS
//! control client), never the other way round.

use crate::cli::{DeployArgs, DestroyArgs, FunctionSet, LambdaCommand};
use crate::error::UsageError;
use crate::runner::lambda::aws::wait_ready;
use crate::runner::lambda::sdk::{self, describe, redact_arn};
use crate::runner::lambda::{function_name, variant_name, Arch};
use anyhow::Context as _;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, Runtime};
use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

/// The tag that marks what `deploy` made.
pub const MANAGED_TAG: (&str, &str) = ("coldstart", "managed");

/// How often a new role may be "cannot be assumed" before deploy gives up (IAM
/// takes seconds to propagate a new role).
const ROLE_RETRIES: u32 = 5;

pub async fn run(command: LambdaCommand) -> anyhow::Result<i32> {
    match command {
        LambdaCommand::Deploy(args) => deploy(args).await,
        LambdaCommand::Destroy(args) => destroy(args).await,
    }
}

/// The zip Lambda expects: one executable file named `bootstrap`.
pub fn zip_bootstrap(binary: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options)?;
    zip.write_all(binary)?;
    Ok(zip.finish()?.into_inner())
}

fn architectures(set: &FunctionSet) -> Result<Vec<Arch>, UsageError> {
    set.arch
        .iter()
        .map(|a| match a.trim() {
            "x86_64" => Ok(Arch::X86_64),
            "arm64" => Ok(Arch::Arm64),
            other => Err(UsageError(format!(
                "--arch {other:?}: Lambda has x86_64 and arm64"
            ))),
        })
        .collect()
}

/// The memory sizes asked for: only those `coldstart run` has a variant for (a
/// function of another size could be deployed but never measured).
fn memory_sizes(set: &FunctionSet) -> Result<Vec<i32>, UsageError> {
    let measured: Vec<i32> = crate::runner::lambda::aws_variants()
        .iter()
        .filter_map(|v| crate::runner::lambda::parse_variant(v))
        .map(|(_, mb)| mb)
        .fold(Vec::new(), |mut sizes, mb| {
            if !sizes.contains(&mb) {
                sizes.push(mb);
            }
            sizes
        });
    for m in &set.memory {
        if !measured.contains(m) {
            let list: Vec<String> = measured.iter().map(|mb| mb.to_string()).collect();
            return Err(UsageError(format!(
                "--memory {m}: `coldstart run` measures {} MB only (its lambda:<arch>-<MB>mb variants); pick from those",
                list.join(", ")
            )));
        }
    }
    Ok(set.memory.clone())
}

/// The zip of each architecture's bootstrap, from the probes directory.
fn zips(dir: &Path, arches: &[Arch]) -> anyhow::Result<Vec<(Arch, Vec<u8>)>> {
    let mut out = Vec::new();
    for arch in arches {
        let path = dir.join(arch.bootstrap_file());
        let binary = std::fs::read(&path).map_err(|e| {
            UsageError(format!(
                "cannot read the {} bootstrap {}: {e}; build it with scripts/build-probes.sh{}",
                arch.name(),
                path.display(),
                if *arch == Arch::Arm64 {
                    " (arm64 needs `rustup target add aarch64-unknown-linux-musl` and \
                     `pip install cargo-lambda`, whose zig links it)"
                } else {
                    ""
                }
            ))
        })?;
        out.push((*arch, zip_bootstrap(&binary)?));
    }
    Ok(out)
}

fn parse_env(pairs: &[String]) -> Result<HashMap<String, String>, UsageError> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(UsageError(format!("--env {pair:?} is not KEY=VALUE"))),
        })
        .collect()
}

async fn client(set: &FunctionSet) -> anyhow::Result<aws_sdk_lambda::Client> {
    let settings = crate::options::lambda_settings(&set.lambda);
    let config = sdk::access(&settings)
        .await
        .map_err(|e| UsageError(format!("cannot reach AWS Lambda: {e}")))?;
    Ok(sdk::control_client(&config, settings.endpoint.as_deref()))
}

fn is_not_found<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ResourceNotFoundException")
}

/// Whether an existing function carries the tag `deploy` puts on what it makes.
fn managed(tags: Option<&HashMap<String, String>>) -> bool {
    tags.and_then(|t| t.get(MANAGED_TAG.0)).map(String::as_str) == Some(MANAGED_TAG.1)
}

async fn deploy(args: DeployArgs) -> anyhow::Result<i32> {
    let arches = architectures(&args.functions)?;
    let memories = memory_sizes(&args.functions)?;
    let env = parse_env(&args.env)?;
    if args.timeout_s < 1 || args.timeout_s > 900 {
        return Err(UsageError("--timeout-s: Lambda takes 1 to 900 seconds".into()).into());
    }
    let dir = args
        .probes
        .probes_dir
        .clone()
        .unwrap_or_else(crate::probes::default_dir);
    let zips = zips(&dir, &arches)?;
    if let Some(path) = &args.zip_only {
        for (arch, zip) in &zips {
            let target = match arch {
                Arch::X86_64 => path.clone(),
                Arch::Arm64 => path.with_file_name(format!(
                    "{}-arm64.zip",
                    path.file_stem().unwrap_or_default().to_string_lossy()
                )),
            };
            std::fs::write(&target, zip)
                .with_context(|| format!("cannot write {}", target.display()))?;
            println!("{} ({} bytes)", target.display(), zip.len());
        }
        return Ok(crate::error::EXIT_OK);
    }
    let role = args
        .role
        .clone()
        .expect("clap requires --role without --zip-only");
    let client = client(&args.functions).await?;
    let prefix = &args.functions.lambda.lambda_prefix;
    for (arch, zip) in &zips {
        for memory in &memories {
            let name = function_name(prefix, &variant_name(*arch, *memory));
            let what = put_function(&client, &name, *arch, *memory, zip, &role, &env, &args)
                .await
                .map_err(|e| UsageError(format!("{name}: {e}")))?;
            let config = wait_ready(&client, &name, None).await.map_err(UsageError)?;
            println!(
                "{what} {name}: {} MB, {}, {} ({})",
                memory,
                arch.name(),
                config.runtime().map(|r| r.as_str()).unwrap_or("?"),
                redact_arn(config.function_arn().unwrap_or_default())
            );
        }
    }
    Ok(crate::error::EXIT_OK)
}

/// Creates the function, or updates the one `deploy` made earlier.
#[allow(clippy::too_many_arguments)]
async fn put_function(
    client: &aws_sdk_lambda::Client,
    name: &str,
    arch: Arch,
    memory: i32,
    zip: &[u8],
    role: &str,
    env: &HashMap<String, String>,
    args: &DeployArgs,
) -> Result<&'static str, String> {
    let architecture = Architecture::from(arch.name());
    let existing = match client.get_function().function_name(name).send().await {
        Ok(found) => Some(found),
        Err(e) if e.as_service_error().is_some_and(is_not_found) => None,
        Err(e) => return Err(describe(&e)),
    };
    let Some(existing) = existing else {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let created = client
                .create_function()
                .function_name(name)
                .runtime(Runtime::Providedal2023)
                .handler("bootstrap")
                .role(role)
                .architectures(architecture.clone())
                .memory_size(memory)
                .timeout(args.timeout_s)
                .description("coldstart probe (https://github.com/coldstart-bench/coldstart)")
                .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
                .environment(
                    Environment::builder()
                        .set_variables(Some(env.clone()))
                        .build(),
                )
                .tags(MANAGED_TAG.0, MANAGED_TAG.1)
                .send()
                .await;
            match created {
                Ok(_) => return Ok("created"),
                Err(e)
                    if attempt < ROLE_RETRIES
                        && e.message().is_some_and(|m| m.contains("cannot be assumed")) =>
                {
                    eprintln!("{name}: the role cannot be assumed yet (new roles take seconds to propagate); retrying");
                    tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
                }
                Err(e) => return Err(format!("creating it: {}", describe(&e))),
            }
        }
    };
    if !managed(existing.tags()) {
        return Err(format!(
            "a function of this name exists and was not made by `coldstart lambda deploy` \
             (no tag {}={}): not touching it; pick another --lambda-prefix",
            MANAGED_TAG.0, MANAGED_TAG.1
        ));
    }
    client
        .update_function_code()
        .function_name(name)
        .zip_file(Blob::new(zip))
        .architectures(architecture)
        .send()
        .await
        .map_err(|e| format!("updating its code: {}", describe(&e)))?;
    wait_ready(client, name, None).await?;
    let mut variables = existing
        .configuration()
        .and_then(|c| c.environment())
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    variables.extend(env.clone());
    client
        .update_function_configuration()
        .function_name(name)
        .role(role)
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .memory_size(memory)
        .timeout(args.timeout_s)
        .environment(
            Environment::builder()
                .set_variables(Some(variables))
                .build(),
        )
        .send()
        .await
        .map_err(|e| format!("updating its configuration: {}", describe(&e)))?;
    Ok("updated")
}

async fn destroy(args: DestroyArgs) -> anyhow::Result<i32> {
    let arches = architectures(&args.functions)?;
    let memories = memory_sizes(&args.functions)?;
    let client = client(&args.functions).await?;
    let prefix = &args.functions.lambda.lambda_prefix;
    let mut refused = 0;
    for arch in &arches {
        for memory in &memories {
            let name = function_name(prefix, &variant_name(*arch, *memory));
            match client.get_function().function_name(&name).send().await {
                Err(e) if e.as_service_error().is_some_and(is_not_found) => {
                    println!("{name}: not there");
                }
                Err(e) => return Err(UsageError(format!("{name}: {}", describe(&e))).into()),
                Ok(found) if !managed(found.tags()) => {
                    eprintln!("{name}: not made by `coldstart lambda deploy` (no coldstart=managed tag): left alone");
                    refused += 1;
                }
                Ok(_) => {
                    client
                        .delete_function()
                        .function_name(&name)
                        .send()
                        .await
                        .map_err(|e| UsageError(format!("deleting {name}: {}", describe(&e))))?;
                    println!("{name}: deleted");
                }
            }
        }
    }
    Ok(if refused > 0 {
        crate::error::EXIT_SAMPLES_FAILED
    } else {
        crate::error::EXIT_OK
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn the_zip_holds_an_executable_bootstrap_and_is_deterministic() {
        let zip = zip_bootstrap(b"\x7fELF...").unwrap();
        assert_eq!(zip, zip_bootstrap(b"\x7fELF...").unwrap());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut file = archive.by_name("bootstrap").unwrap();
        assert_eq!(file.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut body = Vec::new();
        file.read_to_end(&mut body).unwrap();
        assert_eq!(body, b"\x7fELF...");
    }

    #[test]
    fn env_pairs_need_a_key() {
        assert_eq!(parse_env(&["A=1".into(), "B=".into()]).unwrap().len(), 2);
        assert!(parse_env(&["=1".into()]).is_err());
        assert!(parse_env(&["nokey".into()]).is_err());
    }
}
