//! The AWS variants of the `lambda` runner: a deployed function per architecture and
//! memory size, cold starts forced through the control plane, invokes timed.
//!
//! Forcing a cold start (untimed), as lambda-perf and SeBS do: read the function's
//! configuration, update it with the **merged** environment (the user's variables
//! kept, the probe's parameters set, `COLDSTART_INSTANCE_NONCE` fresh: the start's
//! instance nonce, which the probe's init is keyed by), wait until
//! `LastUpdateStatus` is `Successful`. The next `Invoke` of `$LATEST` then needs a
//! new execution environment; its REPORT must show `Init Duration`.
//!
//! **Two clocks.** What we time is the client's round trip of that one `Invoke`
//! (phase `invoke`, the whole cold start): from sending the request until the
//! response is received. Lambda's REPORT figures (Init Duration, Duration, Billed
//! Duration, Max Memory Used) are the platform's own clock: they go to the sample's
//! `reported`, summarized apart, never into our phases; a sample whose REPORT adds
//! up to more than our round trip is flagged. The invoke client's connection is
//! opened untimed when the runner is built (one DryRun call), and each variant
//! records a network baseline: the round trip of `Invoke` with
//! `InvocationType=DryRun`, which runs no function code.
//!
//! Warm samples go to a version the runner publishes when it is built (and deletes on
//! close): the cold starts update `$LATEST` only, so that version's environment stays
//! alive between them. An instance nonce goes with a configuration, not with a request:
//! the warm samples' version has the one it was published with, and every environment
//! of one burst shares the burst's update's. Results record the region, the function's
//! ARN with the account replaced by `*`, memory, architecture and runtime; never
//! credentials. A run whose endpoints are not AWS's own (`--lambda-endpoint`,
//! `--lambda-invoke-endpoint` pointing at moto, a stub, LocalStack) records them and a
//! `location` starting with `local`, which no claim judges.

use super::invoke::{self, Invoked};
use super::sdk::{access, control_client, redact_arn, sdk_error};
use super::INSTANCE_NONCE_VAR;
use crate::phase::PhaseTimes;
use crate::runner::{
    Built, ColdStart, Instance, Request, Response, RunContext, Runner, RunnerInfo, RunnerKey,
    RuntimeKind, SampleError, StartRequest,
};
use async_trait::async_trait;
use aws_sdk_lambda::types::{Environment, LastUpdateStatus, State};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

const COLD_PHASES: &[&str] = &["invoke"];

/// Where the samples' `reported` figures come from.
const REPORTED_SOURCE: &str =
    "AWS Lambda's REPORT log line (Invoke with LogType=Tail): the platform's own clock";

/// How long a configuration update or a new version may take to become usable.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(180);

/// Waits until the function (or its version) has applied its last change.
pub async fn wait_ready(
    client: &aws_sdk_lambda::Client,
    function: &str,
    qualifier: Option<&str>,
) -> Result<
    aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput,
    String,
> {
    let deadline = Instant::now() + UPDATE_TIMEOUT;
    let mut pause = Duration::from_millis(100);
    loop {
        let config = client
            .get_function_configuration()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("reading the configuration of {function}"), e))?;
        let failed = |what: &str, reason: Option<&str>| {
            Err(format!(
                "{what} of {function} failed: {}",
                reason.unwrap_or("no reason given")
            ))
        };
        match (config.state(), config.last_update_status()) {
            (Some(State::Failed), _) => return failed("the creation", config.state_reason()),
            (_, Some(LastUpdateStatus::Failed)) => {
                return failed("the update", config.last_update_status_reason())
            }
            (Some(State::Pending), _) | (_, Some(LastUpdateStatus::InProgress)) => {}
            _ => return Ok(config),
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{function} was still updating after {}s",
                UPDATE_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// Updates the function's environment to `existing ∪ probe ∪ {nonce}` and waits
/// until the update is `Successful`. Returns the environment set.
pub async fn force_new_environment(
    client: &aws_sdk_lambda::Client,
    function: &str,
    probe: &BTreeMap<String, String>,
    instance_nonce: u64,
) -> Result<HashMap<String, String>, String> {
    let current = wait_ready(client, function, None).await?;
    let mut variables: HashMap<String, String> = current
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    variables.extend(probe.iter().map(|(k, v)| (k.clone(), v.clone())));
    variables.insert(INSTANCE_NONCE_VAR.into(), format!("{instance_nonce:016x}"));
    client
        .update_function_configuration()
        .function_name(function)
        .environment(
            Environment::builder()
                .set_variables(Some(variables.clone()))
                .build(),
        )
        .send()
        .await
        .map_err(|e| sdk_error(&format!("updating the configuration of {function}"), e))?;
    wait_ready(client, function, None).await?;
    Ok(variables)
}

/// Builds the runners of the AWS variants; a variant whose function is missing or
/// does not match it is skipped with what to do.
pub async fn build(variants: &[&'static str], ctx: &RunContext) -> Vec<Built> {
    let skip_all = |reason: String| {
        variants
            .iter()
            .map(|variant| Built::Skipped {
                variant,
                reason: reason.clone(),
            })
            .collect()
    };
    let config = match access(&ctx.lambda).await {
        Ok(config) => config,
        Err(reason) => return skip_all(reason),
    };
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    // An endpoint set by the environment or a profile is used by both clients where
    // no flag overrides it: it decides `location` as a flag does.
    let settings = super::Settings {
        configured_endpoint: std::env::var("AWS_ENDPOINT_URL_LAMBDA")
            .ok()
            .filter(|url| !url.is_empty())
            .or_else(|| config.endpoint_url().map(String::from)),
        ..ctx.lambda.clone()
    };
    let control = control_client(&config, ctx.lambda.endpoint.as_deref());
    let invoke = invoke::timed_client(
        aws_sdk_lambda::config::Builder::from(&config),
        ctx.lambda.invoke_endpoint.as_deref(),
        ctx.timeout,
    );
    let mut built = Vec::new();
    for variant in variants {
        let function = super::function_name(&ctx.lambda.function_prefix, variant);
        let runner = AwsRunner {
            key: RunnerKey::new(RuntimeKind::Lambda.name(), *variant),
            control: control.clone(),
            invoke: invoke.clone(),
            function,
            probe_env: super::probe_env(ctx),
            run_id: ctx.run_id.clone(),
            live_instance_nonce: rand::random(),
            live_version: None,
            timeout: ctx.timeout,
            info: RunnerInfo {
                versions: super::sdk::sdk_versions(),
                reported_source: Some(REPORTED_SOURCE.into()),
                ..Default::default()
            },
        };
        built.push(match runner.prepare(variant, &region, &settings).await {
            Ok(runner) => Built::Ready(Box::new(runner)),
            Err(reason) => Built::Skipped { variant, reason },
        });
    }
    built
}

struct AwsRunner {
    key: RunnerKey,
    control: aws_sdk_lambda::Client,
    invoke: aws_sdk_lambda::Client,
    function: String,
    probe_env: BTreeMap<String, String>,
    run_id: String,
    /// The instance nonce of the version published for warm samples.
    live_instance_nonce: u64,
    /// The version published for warm samples.
    live_version: Option<String>,
    timeout: Duration,
    info: RunnerInfo,
}

impl AwsRunner {
    /// Checks the function matches the variant, then publishes the run's version
    /// for warm samples (with the run's probe parameters). Untimed.
    async fn prepare(
        mut self,
        variant: &str,
        region: &str,
        settings: &super::Settings,
    ) -> Result<AwsRunner, String> {
        let (arch, memory) = super::parse_variant(variant).expect("an AWS variant");
        let config = wait_ready(&self.control, &self.function, None).await?;
        let has_arch = config
            .architectures()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>();
        let arch_ok =
            has_arch.contains(&arch.name()) || (has_arch.is_empty() && arch.name() == "x86_64");
        if !arch_ok || config.memory_size() != Some(memory) {
            return Err(format!(
                "function {} is {} with {} MB, but variant {variant} needs {} with {memory} MB: \
                 redeploy it with `coldstart lambda deploy`",
                self.function,
                has_arch.join(","),
                config.memory_size().unwrap_or_default(),
                arch.name()
            ));
        }
        force_new_environment(
            &self.control,
            &self.function,
            &self.probe_env,
            self.live_instance_nonce,
        )
        .await?;
        let published = self
            .control
            .publish_version()
            .function_name(&self.function)
            .description(format!("coldstart run {} (warm samples)", self.run_id))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("publishing a version of {}", self.function), e))?;
        let version = published
            .version()
            .ok_or("PublishVersion returned no version")?
            .to_string();
        wait_ready(&self.control, &self.function, Some(&version)).await?;
        self.live_version = Some(version.clone());
        // Opens the invoke client's connection (TLS included), untimed, so the
        // first timed call does not pay for it.
        invoke::dry_run(&self.invoke, &self.function, None, self.timeout)
            .await
            .map_err(|e| format!("opening the connection: {e}"))?;
        let details = &mut self.info.details;
        // A stand-in (moto, a stub, LocalStack) answers like AWS but is not it: its
        // location starts with `local`, and no claim judges it.
        details.insert("location".into(), settings.location().into());
        for (name, url) in settings.endpoints() {
            details.insert(name.into(), url.into());
        }
        details.insert("region".into(), region.into());
        if let Some(arn) = config.function_arn() {
            details.insert("function_arn".into(), redact_arn(arn).into());
        }
        details.insert("memory_mb".into(), memory.into());
        details.insert("architecture".into(), arch.name().into());
        if let Some(runtime) = config.runtime() {
            details.insert("lambda_runtime".into(), runtime.as_str().into());
        }
        if let Some(sha) = config.code_sha256() {
            details.insert("code_sha256".into(), sha.into());
        }
        details.insert("warm_version".into(), version.into());
        self.info.artifact_bytes = u64::try_from(config.code_size()).ok();
        Ok(self)
    }

    fn started(
        &self,
        invoked: Invoked,
        qualifier: Option<String>,
        instance_nonce: u64,
    ) -> Result<ColdStart, SampleError> {
        let report = invoked.report.as_ref().ok_or_else(|| {
            SampleError::Protocol(
                "Invoke returned no log tail (LogResult), so there is no REPORT line".into(),
            )
        })?;
        let not_cold = report
            .init_duration_ns
            .or(report.restore_duration_ns)
            .is_none()
            .then(|| {
                "the REPORT has no Init Duration: an environment initialised ahead of the \
                 request answered, so this is not a cold start"
                    .to_string()
            });
        Ok(ColdStart {
            response: invoked.response,
            // Our stopwatch: the round trip is the one phase; REPORT stays apart.
            times: invoked.times(Some("invoke")),
            shared_instance_nonce: Some(instance_nonce),
            not_cold,
            instance: Box::new(AwsInstance {
                client: self.invoke.clone(),
                function: self.function.clone(),
                qualifier,
                timeout: self.timeout,
            }),
        })
    }
}

#[async_trait(?Send)]
impl Runner for AwsRunner {
    fn key(&self) -> &RunnerKey {
        &self.key
    }

    fn cold_phases(&self) -> &'static [&'static str] {
        COLD_PHASES
    }

    fn info(&self) -> RunnerInfo {
        self.info.clone()
    }

    async fn cold_start(&self, start: StartRequest) -> Result<ColdStart, SampleError> {
        force_new_environment(
            &self.control,
            &self.function,
            &self.probe_env,
            start.instance_nonce,
        )
        .await
        .map_err(|e| SampleError::Runtime(format!("forcing a new environment: {e}")))?;
        let invoked = invoke::invoke(
            &self.invoke,
            &self.function,
            None,
            start.request,
            self.timeout,
        )
        .await?;
        self.started(invoked, None, start.instance_nonce)
    }

    /// A burst on AWS: one configuration update (untimed) retires every environment
    /// of `$LATEST`, then all C invocations go out at one instant, so each needs a new
    /// environment (a REPORT without Init Duration marks one that did not).
    async fn burst(&self, starts: &[StartRequest]) -> Result<crate::runner::BurstOutcomes, String> {
        let Some(first) = starts.first() else {
            return Ok(Vec::new());
        };
        // One configuration for the whole burst: its instances share one nonce.
        let instance_nonce = first.instance_nonce;
        force_new_environment(
            &self.control,
            &self.function,
            &self.probe_env,
            instance_nonce,
        )
        .await
        .map_err(|e| format!("forcing new environments: {e}"))?;
        let launch = Instant::now();
        let calls = starts.iter().map(|s| async move {
            let invoked =
                invoke::invoke(&self.invoke, &self.function, None, s.request, self.timeout).await?;
            // At the answer, not after parsing it.
            let since_launch = invoked.answered.saturating_duration_since(launch);
            Ok::<_, SampleError>(crate::runner::BurstStart {
                cold: self.started(invoked, None, instance_nonce)?,
                since_launch,
            })
        });
        Ok(futures_util::future::join_all(calls).await)
    }

    fn burst_method(&self) -> String {
        "one untimed configuration update retiring every environment, then every Invoke \
         issued at one instant (Lambda starts an environment for each)"
            .into()
    }

    /// DryRun invokes of `$LATEST`: the network's share of every invocation.
    async fn network_baseline(&mut self, count: u64) -> Option<Result<Vec<u64>, String>> {
        let mut values = Vec::new();
        for _ in 0..count {
            match invoke::dry_run(&self.invoke, &self.function, None, self.timeout).await {
                Ok(took) => values.push(crate::phase::nanos(took)),
                Err(e) => return Some(Err(e.to_string())),
            }
        }
        Some(Ok(values))
    }

    /// The warm samples' instance: the run's published version, which the cold
    /// starts' updates of `$LATEST` leave alone.
    async fn start_live(&mut self, start: StartRequest) -> Result<ColdStart, SampleError> {
        let version = self.live_version.clone();
        let invoked = invoke::invoke(
            &self.invoke,
            &self.function,
            version.as_deref(),
            start.request,
            self.timeout,
        )
        .await?;
        self.started(invoked, version, self.live_instance_nonce)
    }

    /// The published version's environment stays alive after its instance is
    /// retired (nothing stops it from outside), and answers the next start.
    fn live_outlives_teardown(&self) -> bool {
        true
    }

    async fn close(&mut self) -> Vec<String> {
        let Some(version) = self.live_version.take() else {
            return Vec::new();
        };
        match self
            .control
            .delete_function()
            .function_name(&self.function)
            .qualifier(&version)
            .send()
            .await
        {
            Ok(_) => Vec::new(),
            Err(e) => vec![sdk_error(
                &format!(
                    "deleting version {version} of {} (delete it by hand)",
                    self.function
                ),
                e,
            )],
        }
    }
}

/// An execution environment reached by invoking the function (or one version).
struct AwsInstance {
    client: aws_sdk_lambda::Client,
    function: String,
    qualifier: Option<String>,
    timeout: Duration,
}

#[async_trait(?Send)]
impl Instance for AwsInstance {
    async fn invoke(&mut self, request: Request) -> Result<(Response, PhaseTimes), SampleError> {
        let invoked = invoke::invoke(
            &self.client,
            &self.function,
            self.qualifier.as_deref(),
            request,
            self.timeout,
        )
        .await?;
        let times = invoked.times(None);
        Ok((invoked.response, times))
    }

    /// Lambda environments cannot be stopped from outside: nothing is timed.
    async fn teardown(self: Box<Self>) -> Result<Option<Duration>, SampleError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_lose_the_account() {
        assert_eq!(
            redact_arn(
                "arn:aws:lambda:eu-west-1:123456789012:function:coldstart-probe-x86_64-512mb"
            ),
            "arn:aws:lambda:eu-west-1:*:function:coldstart-probe-x86_64-512mb"
        );
    }
}
