//! S3 bucket notifications, in the forms they arrive: the Lambda `S3Event`, the same JSON
//! POSTed by MinIO and other S3-compatible servers, or wrapped in an SNS envelope (an SNS HTTP
//! subscription). Only the bucket and object keys matter: what to do with each key is read from
//! the bucket. Webhook bodies are read leniently (S3-compatible servers omit fields AWS sends);
//! only a caller holding the webhook secret may send them.

use aws_lambda_events::s3::S3Event;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::request::Parts;
use percent_encoding::percent_decode_str;
use serde::Deserialize;

use crate::caller::{bearer, credentials};
use crate::error::ApiError;
use crate::state::App;

/// The bucket's notifications: a request carrying the webhook secret, in
/// `Authorization: Bearer <secret>` (MinIO's `auth_token`) or as the password of
/// `Authorization: Basic` (an SNS subscription URL `https://user:secret@host/events/s3`). Never
/// from the query string, which ends up in access logs. Without a configured secret the webhook
/// is not served at all.
pub struct BucketEvent;

impl FromRequestParts<App> for BucketEvent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let Some(secret) = app.ingest.as_ref().and_then(|i| i.webhook_token.as_deref()) else {
            return Err(ApiError::not_found());
        };
        let given = bearer(&parts.headers).map(str::to_owned).or_else(|| {
            use base64::Engine as _;
            let basic = credentials(&parts.headers, "basic")?;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(basic)
                .ok()?;
            let decoded = String::from_utf8(decoded).ok()?;
            decoded
                .split_once(':')
                .map(|(_, password)| password.to_owned())
        });
        if given.is_some_and(|g| same_secret(&g, secret)) {
            Ok(BucketEvent)
        } else {
            // SNS sends Basic credentials only after a challenge.
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "missing or wrong webhook secret",
            )
            .with_header(WWW_AUTHENTICATE, "Basic realm=\"events\""))
        }
    }
}

/// Compares digests in constant time: neither the time taken nor an early exit says how much
/// of a guess was right.
fn same_secret(given: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    Sha256::digest(given.as_bytes())
        .ct_eq(&Sha256::digest(expected.as_bytes()))
        .into()
}

/// What a notification asks for.
#[derive(Debug, PartialEq)]
pub enum Notification {
    /// Keys of objects created or removed, URL-decoded.
    Keys(Vec<String>),
    /// S3's `s3:TestEvent`, sent when notifications are configured: nothing to do.
    Test,
    /// An SNS subscription to confirm (by visiting the URL) before messages flow.
    SubscriptionConfirmation { subscribe_url: String },
}

/// Why a body is not a notification.
#[derive(Debug, thiserror::Error)]
#[error("not an S3 event notification: {0}")]
pub struct NotAnEvent(String);

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsEnvelope {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(default)]
    message: String,
    #[serde(rename = "SubscribeURL", default)]
    subscribe_url: String,
}

/// The part of an S3 event record the webhook needs.
#[derive(Deserialize)]
struct Records {
    #[serde(rename = "Records")]
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    s3: Entity,
}

#[derive(Deserialize)]
struct Entity {
    bucket: Bucket,
    object: Object,
}

#[derive(Deserialize)]
struct Bucket {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Object {
    key: Option<String>,
}

#[derive(Deserialize)]
struct TestEvent {
    #[serde(rename = "Event")]
    event: String,
}

/// Object keys arrive form-encoded in S3 events (`Guide+r%C3%A9seau.pdf`).
fn decode_key(key: &str) -> String {
    percent_decode_str(&key.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The decoded keys of (bucket, key) pairs in the bucket `bucket` only (others are logged and
/// ignored; `None` accepts every bucket).
fn keys_in<'a>(
    records: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
    bucket: Option<&str>,
) -> Vec<String> {
    records
        .filter(|(name, _)| {
            let ours = bucket.is_none() || *name == bucket;
            if !ours {
                tracing::warn!(bucket = ?name, "event for another bucket ignored");
            }
            ours
        })
        .filter_map(|(_, key)| key.map(decode_key))
        .collect()
}

/// The keys of a Lambda S3 event, in the bucket `bucket` only.
pub fn keys(event: &S3Event, bucket: Option<&str>) -> Vec<String> {
    keys_in(
        event
            .records
            .iter()
            .map(|r| (r.s3.bucket.name.as_deref(), r.s3.object.key.as_deref())),
        bucket,
    )
}

/// Reads a webhook body: an S3 event, an SNS envelope around one, or a test event.
pub fn parse(body: &[u8], bucket: Option<&str>) -> Result<Notification, NotAnEvent> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| NotAnEvent(e.to_string()))?;
    if value.get("Records").is_some() {
        let event: Records =
            serde_json::from_value(value).map_err(|e| NotAnEvent(e.to_string()))?;
        let pairs = event
            .records
            .iter()
            .map(|r| (r.s3.bucket.name.as_deref(), r.s3.object.key.as_deref()));
        return Ok(Notification::Keys(keys_in(pairs, bucket)));
    }
    if let Ok(test) = serde_json::from_value::<TestEvent>(value.clone())
        && test.event == "s3:TestEvent"
    {
        return Ok(Notification::Test);
    }
    let envelope: SnsEnvelope = serde_json::from_value(value)
        .map_err(|_| NotAnEvent("neither Records, a test event nor an SNS message".into()))?;
    match envelope.kind.as_str() {
        "Notification" => parse(envelope.message.as_bytes(), bucket),
        "SubscriptionConfirmation" => Ok(Notification::SubscriptionConfirmation {
            subscribe_url: envelope.subscribe_url,
        }),
        other => Err(NotAnEvent(format!("SNS message of type {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(bucket: &str, key: &str, name: &str) -> serde_json::Value {
        serde_json::json!({
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-11-25T10:00:00.000Z", "eventName": name,
            "userIdentity": {"principalId": "AWS:X"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "1"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                   "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                   "object": {"key": key, "size": 10, "eTag": "e", "sequencer": "0"}}
        })
    }

    #[test]
    fn reads_bare_records_with_encoded_keys() {
        let body = serde_json::json!({"Records": [
            record("rag", "docs/Guide+r%C3%A9seau+%282%29.pdf", "ObjectCreated:Put"),
            record("other", "docs/x.pdf", "ObjectCreated:Put"),
            record("rag", "docs/old.pdf", "ObjectRemoved:Delete"),
        ]});
        let parsed = parse(body.to_string().as_bytes(), Some("rag")).expect("parse");
        assert_eq!(
            parsed,
            Notification::Keys(vec![
                "docs/Guide réseau (2).pdf".into(),
                "docs/old.pdf".into()
            ])
        );
    }

    #[test]
    fn unwraps_sns_envelopes_and_recognises_test_events() {
        let inner =
            serde_json::json!({"Records": [record("rag", "docs/a.pdf", "ObjectCreated:Put")]});
        let sns = serde_json::json!({"Type": "Notification", "MessageId": "m",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": inner.to_string()});
        assert_eq!(
            parse(sns.to_string().as_bytes(), Some("rag")).expect("parse"),
            Notification::Keys(vec!["docs/a.pdf".into()])
        );
        let test = serde_json::json!({"Service": "Amazon S3", "Event": "s3:TestEvent",
            "Time": "2026-11-25T10:00:00.000Z", "Bucket": "rag"});
        let wrapped = serde_json::json!({"Type": "Notification", "Message": test.to_string()});
        assert_eq!(
            parse(wrapped.to_string().as_bytes(), None).expect("parse"),
            Notification::Test
        );
        let confirm = serde_json::json!({"Type": "SubscriptionConfirmation",
            "SubscribeURL": "https://sns.example/confirm"});
        assert!(matches!(
            parse(confirm.to_string().as_bytes(), None),
            Ok(Notification::SubscriptionConfirmation { .. })
        ));
    }

    #[test]
    fn reads_the_minimal_records_of_s3_compatible_servers() {
        // As moto's S3 sends them through SNS: no userIdentity, requestParameters or
        // responseElements, and the '/' of the key encoded too.
        let body = r#"{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "rag"}, "object": {"key": "docs%2Fa+b.pdf", "size": 5}}}]}"#;
        assert_eq!(
            parse(body.as_bytes(), Some("rag")).expect("parse"),
            Notification::Keys(vec!["docs/a b.pdf".into()])
        );
    }

    #[test]
    fn refuses_what_is_not_an_event() {
        for body in [
            &b"not json"[..],
            b"{}",
            b"[1,2]",
            br#"{"Records": [{"s3": 1}]}"#,
        ] {
            assert!(
                parse(body, None).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn reads_the_lambda_fixture() {
        let fixture = r#"{"Records":[{"eventVersion":"2.0","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"1970-01-01T00:00:00.123Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"EXAMPLE"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},"s3":{"s3SchemaVersion":"1.0","configurationId":"testConfigRule","bucket":{"name":"sourcebucket","ownerIdentity":{"principalId":"EXAMPLE"},"arn":"arn:aws:s3:::mybucket"},"object":{"key":"HappyFace.jpg","size":1024,"urlDecodedKey":"HappyFace.jpg","versionId":"version","eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"Happy Sequencer"}}}]}"#;
        let event: S3Event = serde_json::from_str(fixture).expect("fixture");
        assert_eq!(keys(&event, Some("sourcebucket")), ["HappyFace.jpg"]);
    }
}
