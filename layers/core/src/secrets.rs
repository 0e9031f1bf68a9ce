//! Secrets kept in AWS Systems Manager Parameter Store (SecureString), read once at start, so
//! that a deployment never carries them in plain environment variables or template
//! parameters. Endpoint and credentials come from the standard AWS chain (`AWS_ENDPOINT_URL`
//! points it at a local server).

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("SSM parameter {name}: {message}")]
    Unavailable { name: String, message: String },
    #[error("SSM parameter {name} has no value")]
    Empty { name: String },
}

/// Reads parameters from Parameter Store, decrypting SecureStrings.
pub struct ParameterStore {
    client: aws_sdk_ssm::Client,
}

impl ParameterStore {
    pub async fn from_env() -> ParameterStore {
        ParameterStore {
            client: aws_sdk_ssm::Client::new(&crate::aws::shared_config().await),
        }
    }

    /// The parameter's value, decrypted.
    pub async fn get(&self, name: &str) -> Result<String, SecretError> {
        let answer = self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| SecretError::Unavailable {
                name: name.into(),
                message: aws_sdk_ssm::error::DisplayErrorContext(&e).to_string(),
            })?;
        answer
            .parameter
            .and_then(|p| p.value)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| SecretError::Empty { name: name.into() })
    }
}
