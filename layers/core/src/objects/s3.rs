//! The S3 object store (aws-sdk-s3): AWS S3, MinIO and other S3-compatible servers. Endpoint,
//! region and credentials come from the standard AWS chain (`AWS_ENDPOINT_URL`, `AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`, …); a custom endpoint switches to path-style addressing.

use aws_config::BehaviorVersion;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use super::{ObjectError, ObjectStore, Tag, check_key};

/// Objects above this size are uploaded in parts.
const MULTIPART_THRESHOLD: usize = 16 * 1024 * 1024;
const PART_SIZE: usize = 8 * 1024 * 1024;

/// A bucket.
#[derive(Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
}

fn unavailable<E: std::error::Error + 'static>(key: &str, e: &SdkError<E>) -> ObjectError {
    ObjectError::Unavailable(format!(
        "{key}: {}",
        aws_sdk_s3::error::DisplayErrorContext(e)
    ))
}

/// Maps an SDK error: 404-style codes to `NotFound`, failed preconditions to
/// `PreconditionFailed`, the rest to `Unavailable`.
fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    key: &str,
    e: SdkError<E>,
) -> ObjectError {
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e
        .as_service_error()
        .and_then(|s| s.code())
        .unwrap_or_default();
    match (status, code) {
        (Some(404), _) | (_, "NoSuchKey" | "NotFound") => ObjectError::NotFound(key.to_string()),
        (Some(412), _) | (_, "PreconditionFailed" | "ConditionalRequestConflict") => {
            ObjectError::PreconditionFailed(key.to_string())
        }
        _ => unavailable(key, &e),
    }
}

impl S3Store {
    /// A client from the standard AWS configuration chain (us-east-1 when no region is set).
    pub async fn from_env(bucket: &str) -> S3Store {
        let shared = crate::aws::shared_config().await;
        let custom_endpoint = std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(custom_endpoint)
            .build();
        S3Store {
            client: Client::from_conf(config),
            bucket: bucket.to_string(),
        }
    }

    /// A client for an explicit endpoint and static credentials (local S3-compatible servers).
    pub fn with_endpoint(
        bucket: &str,
        endpoint: &str,
        access_key: &str,
        secret_key: &str,
    ) -> S3Store {
        let credentials =
            aws_sdk_s3::config::Credentials::new(access_key, secret_key, None, None, "static");
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .force_path_style(true)
            .build();
        S3Store {
            client: Client::from_conf(config),
            bucket: bucket.to_string(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Creates the bucket when it does not exist (local stacks; production buckets are made by
    /// the deployment).
    pub async fn ensure_bucket(&self) -> Result<(), ObjectError> {
        if self
            .client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        self.client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| classify(&self.bucket, e))?;
        Ok(())
    }

    async fn put_multipart(&self, key: &str, bytes: &[u8]) -> Result<(), ObjectError> {
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| classify(key, e))?;
        let id = upload.upload_id().unwrap_or_default().to_string();
        let mut parts = Vec::new();
        for (n, chunk) in bytes.chunks(PART_SIZE).enumerate() {
            let number = n as i32 + 1;
            let part = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&id)
                .part_number(number)
                .body(ByteStream::from(chunk.to_vec()))
                .send()
                .await;
            match part {
                Ok(p) => parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(p.e_tag().map(str::to_string))
                        .build(),
                ),
                Err(e) => {
                    // Leave no half-uploaded object behind.
                    let _ = self
                        .client
                        .abort_multipart_upload()
                        .bucket(&self.bucket)
                        .key(key)
                        .upload_id(&id)
                        .send()
                        .await;
                    return Err(classify(key, e));
                }
            }
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| classify(key, e))?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ObjectStore for S3Store {
    async fn create_if_missing(&self) -> Result<(), ObjectError> {
        self.ensure_bucket().await
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
        self.get_tagged(key)
            .await?
            .map(|(bytes, _)| bytes)
            .ok_or_else(|| ObjectError::NotFound(key.to_string()))
    }

    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), ObjectError> {
        check_key(key)?;
        if bytes.len() > MULTIPART_THRESHOLD {
            return self.put_multipart(key, bytes).await;
        }
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map_err(|e| classify(key, e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(prefix, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        check_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| classify(key, e))?;
        Ok(())
    }

    async fn get_tagged(&self, key: &str) -> Result<Option<(Vec<u8>, Tag)>, ObjectError> {
        check_key(key)?;
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return match classify(key, e) {
                    ObjectError::NotFound(_) => Ok(None),
                    other => Err(other),
                };
            }
        };
        let tag = Tag(out.e_tag().unwrap_or_default().to_string());
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| ObjectError::Unavailable(format!("{key}: {e}")))?
            .into_bytes()
            .to_vec();
        Ok(Some((bytes, tag)))
    }

    async fn put_if(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&Tag>,
    ) -> Result<(), ObjectError> {
        check_key(key)?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes.to_vec()));
        let request = match expected {
            Some(tag) => request.if_match(&tag.0),
            None => request.if_none_match("*"),
        };
        request.send().await.map_err(|e| classify(key, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bucket on the test S3-compatible server (`RAG_TEST_S3_ENDPOINT`, default a local
    /// moto server on port 5001); `None` (skip) when it does not answer, except under CI.
    async fn bucket() -> Option<S3Store> {
        let endpoint = std::env::var("RAG_TEST_S3_ENDPOINT")
            .unwrap_or_else(|_| "http://127.0.0.1:5001".into());
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!(
            "rag-test-{}-{}-{n}",
            std::process::id(),
            crate::store::now_ms()
        );
        let store = S3Store::with_endpoint(&name, &endpoint, "test", "test-secret");
        match store.ensure_bucket().await {
            Ok(()) => Some(store),
            Err(e) => {
                assert!(
                    !std::env::var("CI").is_ok_and(|v| v == "true"),
                    "S3 server required under CI: {e}"
                );
                eprintln!("SKIPPED: no S3-compatible server at {endpoint}: {e}");
                None
            }
        }
    }

    #[tokio::test]
    async fn objects_round_trip_including_multipart_and_conditional_writes() {
        let Some(store) = bucket().await else { return };
        store.put("docs/a.pdf", b"%PDF-1.7").await.expect("put");
        assert_eq!(store.get("docs/a.pdf").await.expect("get"), b"%PDF-1.7");
        assert!(matches!(
            store.get("docs/missing.pdf").await,
            Err(ObjectError::NotFound(_))
        ));
        assert_eq!(
            store.get_tagged("docs/missing.pdf").await.expect("get"),
            None
        );

        let big: Vec<u8> = (0..(MULTIPART_THRESHOLD + PART_SIZE / 2))
            .map(|i| (i % 251) as u8)
            .collect();
        store
            .put("indexes/default/v1/index.rag", &big)
            .await
            .expect("multipart put");
        assert_eq!(
            store
                .get("indexes/default/v1/index.rag")
                .await
                .expect("get"),
            big
        );
        assert_eq!(
            store.list("indexes/").await.expect("list"),
            ["indexes/default/v1/index.rag"]
        );

        crate::objects::check_conditional_writes(&store, "indexes/default/CURRENT").await;

        store.delete("docs/a.pdf").await.expect("delete");
        assert!(matches!(
            store.get("docs/a.pdf").await,
            Err(ObjectError::NotFound(_))
        ));
    }

    /// Passes everything to the bucket, except that the upload of an index file never
    /// finishes: the writer is then killed mid-upload.
    struct StallsOnIndex(S3Store);

    #[async_trait::async_trait]
    impl ObjectStore for StallsOnIndex {
        async fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
            self.0.get(key).await
        }
        async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), ObjectError> {
            if key.ends_with("/index.rag") {
                std::future::pending::<()>().await;
            }
            self.0.put(key, bytes).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
            self.0.list(prefix).await
        }
        async fn delete(&self, key: &str) -> Result<(), ObjectError> {
            self.0.delete(key).await
        }
        async fn get_tagged(&self, key: &str) -> Result<Option<(Vec<u8>, Tag)>, ObjectError> {
            self.0.get_tagged(key).await
        }
        async fn put_if(
            &self,
            key: &str,
            bytes: &[u8],
            expected: Option<&Tag>,
        ) -> Result<(), ObjectError> {
            self.0.put_if(key, bytes, expected).await
        }
    }

    fn sample_index(previous: Option<&crate::index::Index>, name: &str) -> crate::index::Index {
        let doc = crate::ingest::Document {
            name: name.into(),
            bytes: std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../data/pdf/procedures-support-it.pdf"
            ))
            .expect("sample"),
            password: None,
        };
        crate::ingest::ingest(
            previous,
            "default",
            &crate::embed::letters::models(),
            vec![doc],
            crate::chunk::ChunkParams::default(),
            &mut |_| {},
        )
        .expect("ingest")
        .0
    }

    #[tokio::test]
    async fn a_publisher_killed_mid_upload_or_beaten_leaves_current_complete() {
        use crate::collection::{self, CollectionError};
        let Some(store) = bucket().await else { return };
        let v1 = sample_index(None, "a.pdf");
        collection::publish(&store, &v1, None).await.expect("v1");

        // Killed while uploading v2's index: CURRENT still names v1, which loads, and the
        // half-written version is not listed.
        let v2 = sample_index(Some(&v1), "b.pdf");
        let base = collection::load_base(&store, "default")
            .await
            .expect("base");
        let stalled = StallsOnIndex(store.clone());
        let writer =
            tokio::spawn(
                async move { collection::publish(&stalled, &v2, base.tag.as_ref()).await },
            );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        writer.abort();
        assert!(writer.await.is_err(), "the writer was killed");
        let current = collection::load_current(&store, "default")
            .await
            .expect("load")
            .expect("published");
        assert_eq!(current.version(), v1.version());
        let listed = collection::versions(&store, "default").await.expect("list");
        assert_eq!(listed.len(), 1);
        assert!(listed[0].current);

        // Two writers that read the same CURRENT: one wins, the other is told.
        let base = collection::load_base(&store, "default")
            .await
            .expect("base");
        let left = sample_index(Some(&v1), "left.pdf");
        let right = sample_index(Some(&v1), "right.pdf");
        collection::publish(&store, &left, base.tag.as_ref())
            .await
            .expect("first writer");
        assert!(matches!(
            collection::publish(&store, &right, base.tag.as_ref()).await,
            Err(CollectionError::Conflict(_))
        ));
        assert_eq!(
            collection::current_version(&store, "default")
                .await
                .expect("current"),
            Some(left.version())
        );
    }
}
