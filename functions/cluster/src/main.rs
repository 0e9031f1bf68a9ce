//! The cluster function: its schedule (EventBridge in Lambda, a CronJob in Kubernetes) and
//! POST /clusters/run group the recorded questions by topic; GET /clusters shows them.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    rag_api::run_cluster_function().await
}
