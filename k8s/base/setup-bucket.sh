#!/bin/sh
# Creates the documents bucket if it is missing and points its notifications at the ingest
# function's webhook; safe to run again. NOTIFY_MODE says how the store delivers events:
#   minio  through the webhook target RAG configured on the MinIO server (its env);
#   sns    through an SNS topic with an HTTP subscription (AWS, and the moto stand-in), the
#          webhook secret as Basic credentials in the subscription URL.
set -eu
: "${S3_BUCKET:?}" "${AWS_ENDPOINT_URL:?}" "${WEBHOOK_URL:?}" "${INGEST_WEBHOOK_TOKEN:?}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"
aws_() { aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

tries=0
until aws_ s3api list-buckets >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "object store not answering at $AWS_ENDPOINT_URL" >&2; exit 1; }
    sleep 2
done
aws_ s3api head-bucket --bucket "$S3_BUCKET" 2>/dev/null || aws_ s3api create-bucket --bucket "$S3_BUCKET" >/dev/null

events='"Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "docs/"}]}}'
case "${NOTIFY_MODE:-minio}" in
    minio)
        config="{\"QueueConfigurations\": [{\"Id\": \"rag\", \"QueueArn\": \"arn:minio:sqs::RAG:webhook\", $events}]}"
        ;;
    sns)
        topic="$(aws_ sns create-topic --name "$S3_BUCKET-events" --query TopicArn --output text)"
        endpoint="$(echo "$WEBHOOK_URL" | sed "s#://#://events:$INGEST_WEBHOOK_TOKEN@#")"
        aws_ sns subscribe --topic-arn "$topic" --protocol http --notification-endpoint "$endpoint" >/dev/null
        config="{\"TopicConfigurations\": [{\"Id\": \"rag\", \"TopicArn\": \"$topic\", $events}]}"
        ;;
    *)
        echo "NOTIFY_MODE must be minio or sns" >&2
        exit 2
        ;;
esac
aws_ s3api put-bucket-notification-configuration --bucket "$S3_BUCKET" --notification-configuration "$config"
echo "bucket $S3_BUCKET notifies $WEBHOOK_URL ($NOTIFY_MODE)"
