//! The AWS SDK as every lambda piece uses it: credentials and region from the usual
//! chain, the control-plane client, SDK errors in one line, the SDK's version.

use super::Settings;
use aws_sdk_lambda::config::ProvideCredentials as _;
use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long credential discovery may take before it counts as "no credentials".
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(10);

/// The AWS config of the usual chain (env, profile, SSO, IMDS...), if it has a region
/// and credentials. The credentials are only checked, never kept in results.
pub async fn access(settings: &Settings) -> Result<aws_config::SdkConfig, String> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = &settings.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let config = loader.load().await;
    let Some(provider) = config.credentials_provider() else {
        return Err(no_credentials("no credentials provider"));
    };
    match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(no_credentials(&e.to_string())),
        Err(_) => return Err(no_credentials("looking for them timed out")),
    }
    if config.region().is_none() {
        return Err("no region: set AWS_REGION or AWS_PROFILE, or pass --lambda-region".into());
    }
    Ok(config)
}

fn no_credentials(why: &str) -> String {
    format!(
        "no credentials ({why}): configure AWS credentials (AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or SSO) to measure Lambda in AWS; \
         `lambda:local-emulator` runs without them"
    )
}

/// `arn:aws:lambda:eu-west-1:123456789012:function:f` -> the same with `*` for the account.
pub fn redact_arn(arn: &str) -> String {
    let mut parts: Vec<&str> = arn.split(':').collect();
    if parts.len() > 4 {
        parts[4] = "*";
    }
    parts.join(":")
}

/// A control-plane client: its calls are untimed, so the SDK's standard retries stay.
pub fn control_client(
    config: &aws_config::SdkConfig,
    endpoint: Option<&str>,
) -> aws_sdk_lambda::Client {
    let mut builder = aws_sdk_lambda::config::Builder::from(config);
    if let Some(url) = endpoint {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_lambda::Client::from_conf(builder.build())
}

/// An SDK error in one line: the service's code and message, or the transport's chain.
pub fn describe<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (e.code(), e.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => DisplayErrorContext(e).to_string(),
    }
}

pub fn sdk_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    what: &str,
    e: SdkError<E, R>,
) -> String {
    let code = e.code().unwrap_or_default().to_string();
    let hint = match code.as_str() {
        "ResourceNotFoundException" => {
            " (create it with `coldstart lambda deploy --role <role ARN>`)"
        }
        "AccessDeniedException" | "UnrecognizedClientException" => {
            " (the credentials are not allowed to do this; see README: Lambda permissions)"
        }
        _ => "",
    };
    format!("{what}: {}{hint}", describe(&e))
}

/// The SDK's version, recorded with every lambda row.
pub fn sdk_versions() -> BTreeMap<String, String> {
    BTreeMap::from([(
        "aws-sdk-lambda".to_string(),
        aws_sdk_lambda::meta::PKG_VERSION.to_string(),
    )])
}
