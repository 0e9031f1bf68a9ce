//! Creating the table where no template did (a developer's machine, a local DynamoDB): the same
//! keys and indexes as `template.yaml`'s `Table`, billed per request.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};

use super::keys::{EXPIRES_AT, GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_PK, GSI2_SK, PK, SK};
use super::{attrs, unavailable};
use crate::store::StoreError;

/// What each index carries besides its keys: enough to answer its reads without a second one.
pub const GSI1_ATTRIBUTES: [&str; 3] = [attrs::QUESTION, attrs::EMBEDDING, attrs::CREATED_AT];
pub const GSI2_ATTRIBUTES: [&str; 4] = [
    attrs::CLUSTER,
    attrs::CREATED_AT,
    attrs::PREV_RUN,
    attrs::PREV_CLUSTER,
];

fn built<T>(r: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Invalid(e.to_string()))
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    built(
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build(),
    )
}

fn index(
    name: &str,
    pk: &str,
    sk: &str,
    include: &[&str],
) -> Result<GlobalSecondaryIndex, StoreError> {
    let mut projection = Projection::builder().projection_type(ProjectionType::Include);
    for attribute in include {
        projection = projection.non_key_attributes(*attribute);
    }
    built(
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(pk, KeyType::Hash)?)
            .key_schema(key(sk, KeyType::Range)?)
            .projection(projection.build())
            .build(),
    )
}

/// Creates `table` and waits until it and its indexes are active.
pub async fn create(client: &Client, table: &str) -> Result<(), StoreError> {
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .global_secondary_indexes(index(GSI1, GSI1_PK, GSI1_SK, &GSI1_ATTRIBUTES)?)
        .global_secondary_indexes(index(GSI2, GSI2_PK, GSI2_SK, &GSI2_ATTRIBUTES)?);
    for name in [PK, SK, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK] {
        request = request.attribute_definitions(built(
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build(),
        )?);
    }
    match request.send().await {
        Ok(_) => {}
        // Another process created it meanwhile.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(unavailable(table, &e)),
    }
    wait_active(client, table).await?;
    // Local servers without TTL (dynalite) refuse this; failed logins are then deleted as they
    // are recorded instead, which the store does anyway.
    if let Err(e) = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(built(
            TimeToLiveSpecification::builder()
                .attribute_name(EXPIRES_AT)
                .enabled(true)
                .build(),
        )?)
        .send()
        .await
    {
        tracing::info!(error = %unavailable(table, &e), "no TTL on this DynamoDB server");
    }
    Ok(())
}

async fn wait_active(client: &Client, table: &str) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| unavailable(table, &e))?;
        let t = described.table();
        let active = t.and_then(|t| t.table_status()) == Some(&TableStatus::Active)
            && t.map(|t| t.global_secondary_indexes())
                .unwrap_or_default()
                .iter()
                .all(|i| {
                    i.index_status()
                        .is_none_or(|s| *s == aws_sdk_dynamodb::types::IndexStatus::Active)
                });
        if active {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(StoreError::Unavailable(format!(
                "DynamoDB table {table} is not active after 2 minutes"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
