//! The standard AWS configuration chain (environment, profile, container or Lambda role), shared
//! by every AWS client; us-east-1 when no region is set, as local servers accept any region.

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;

pub(crate) async fn shared_config() -> aws_config::SdkConfig {
    let region = RegionProviderChain::default_provider().or_else("us-east-1");
    aws_config::defaults(BehaviorVersion::latest())
        .region(region)
        .load()
        .await
}
