//! The ingest function: S3 events (the Lambda trigger, or POST /events/s3 from MinIO or SNS)
//! and admin uploads (POST /documents) → a new published index version.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    rag_api::run_ingest_function().await
}
