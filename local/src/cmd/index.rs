//! `rag index list|rollback`: the published versions of a collection.

use rag_core::collection::{self, DEFAULT_COLLECTION};

use crate::context::Context;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Published versions, newest first (* marks CURRENT).
    List {
        #[arg(long, default_value = DEFAULT_COLLECTION)]
        collection: String,
    },
    /// Point CURRENT back at an earlier version (warm query processes follow within
    /// INDEX_REFRESH_SECS).
    Rollback {
        #[arg(long, default_value = DEFAULT_COLLECTION)]
        collection: String,
        version: String,
    },
}

pub async fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::List { collection } => {
            for v in collection::versions(ctx.objects.as_ref(), &collection).await? {
                println!(
                    "{} {}  created {}  {} documents  {} chunks",
                    if v.current { "*" } else { " " },
                    v.version,
                    v.created_at,
                    v.documents,
                    v.chunks
                );
            }
        }
        Command::Rollback {
            collection,
            version,
        } => {
            collection::rollback(ctx.objects.as_ref(), &collection, &version).await?;
            println!("collection {collection}: CURRENT is now {version}");
        }
    }
    Ok(())
}
