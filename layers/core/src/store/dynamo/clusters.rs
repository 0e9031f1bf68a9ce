//! Clustering runs in DynamoDB. A run's assignments are written onto its questions first, each
//! keeping the assignment it replaces (`prev_run`, `prev_cluster`); the run's header is written
//! last, and readers take an assignment into account only when its run has a header. So a run
//! that is being written, or that failed half-way, is never seen, and the run before it keeps
//! all its members meanwhile.

use aws_sdk_dynamodb::types::AttributeValue;
use tokio::task::JoinSet;

use super::item::{self, Builder, Item};
use super::keys::{self, GSI1, GSI2, PK, RUNS, SK};
use super::queries::{assignment, flag};
use super::{DynamoStore, attrs, condition_failed, n, s};
use crate::cluster::{Clustering, QuestionPoint};
use crate::store::{ClusterRef, ClusterRun, ClusterStore, StoreError, UserStore, now_ms, records};

/// Assignments written at once while a run is stored.
const WRITERS: usize = 16;

impl DynamoStore {
    /// Whether run `run` was committed (its header exists).
    async fn committed(&self, run: i64) -> Result<bool, StoreError> {
        if self.known_committed(run) {
            return Ok(true);
        }
        let found = self.get(RUNS, &keys::run(run)).await?.is_some();
        if found {
            self.remember_committed(run);
        }
        Ok(found)
    }

    fn known_committed(&self, run: i64) -> bool {
        self.committed_runs
            .lock()
            .is_ok_and(|runs| runs.contains(&run))
    }

    fn remember_committed(&self, run: i64) {
        if let Ok(mut runs) = self.committed_runs.lock() {
            runs.insert(run);
        }
    }

    /// A question's assignment as readers may see it: its run's, or the one it replaced while
    /// that run is not committed. A placement made when the question was asked is its own.
    pub(super) async fn visible_assignment(
        &self,
        item: &Item,
    ) -> Result<Option<ClusterRef>, StoreError> {
        for (run, cluster, by_run) in [
            (attrs::RUN, attrs::CLUSTER, attrs::BY_RUN),
            (attrs::PREV_RUN, attrs::PREV_CLUSTER, attrs::PREV_BY_RUN),
        ] {
            if let Some(a) = assignment(item, run, cluster)?
                && (!flag(item, by_run) || self.committed(a.run).await?)
            {
                return Ok(Some(a));
            }
        }
        Ok(None)
    }

    /// Writes one assignment onto its question; a question deleted meanwhile is skipped.
    pub(super) async fn assign(
        &self,
        run: i64,
        id: &str,
        cluster: usize,
    ) -> Result<(), StoreError> {
        let (owner, sk) = keys::parse_query_id(id)
            .map_err(|_| StoreError::Invalid(format!("not a query id: {id}")))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::queries(owner)))
            .key(SK, s(sk))
            .condition_expression("attribute_exists(pk)")
            .update_expression(
                "SET prev_run = if_not_exists(run, :none), prev_cluster = if_not_exists(#cluster, :none), \
                 prev_by_run = if_not_exists(by_run, :no), \
                 run = :run, #cluster = :cluster, by_run = :yes, gsi2pk = :members, gsi2sk = :sk",
            )
            .expression_attribute_names("#cluster", attrs::CLUSTER)
            .expression_attribute_values(":none", n(0))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":sk", s(sk))
            .expression_attribute_values(":run", n(run))
            .expression_attribute_values(":cluster", n(cluster))
            .expression_attribute_values(":members", s(keys::run_members(run)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(self.err(&e)),
        }
    }

    /// (sort key, cluster, created_at) of the questions whose `run` attribute is `run`.
    async fn members_of(&self, run: i64) -> Result<Vec<Item>, StoreError> {
        let query = self
            .query()
            .index_name(GSI2)
            .key_condition_expression("gsi2pk = :members")
            .expression_attribute_values(":members", s(keys::run_members(run)));
        self.collect(query, None).await
    }
}

#[async_trait::async_trait]
impl ClusterStore for DynamoStore {
    async fn question_points(&self, limit: usize) -> Result<Vec<QuestionPoint>, StoreError> {
        // Month by month, newest first, back to the month of the first account: no question
        // is older than that.
        let first = self
            .users()
            .await?
            .iter()
            .map(|u| u.created_at)
            .min()
            .unwrap_or_else(now_ms);
        let oldest = keys::month_of(first);
        let mut month = keys::month_of(now_ms());
        let mut items = Vec::new();
        while items.len() < limit && month >= oldest {
            let query = self
                .query()
                .index_name(GSI1)
                .key_condition_expression("gsi1pk = :month")
                .expression_attribute_values(":month", s(keys::month_partition(month)))
                .scan_index_forward(false);
            items.extend(self.collect(query, Some(limit - items.len())).await?);
            month = keys::previous_month(month);
        }
        items
            .iter()
            .rev()
            .map(|item| {
                Ok(QuestionPoint {
                    id: item::s(item, keys::GSI1_SK)?,
                    text: item::s(item, attrs::QUESTION)?,
                    embedding: item::opt_floats(item, attrs::EMBEDDING)?
                        .ok_or_else(|| StoreError::Invalid("indexed without embedding".into()))?,
                    created_at: item::n(item, attrs::CREATED_AT)?,
                })
            })
            .collect()
    }

    async fn record_clustering(&self, clustering: &Clustering) -> Result<i64, StoreError> {
        let summary = records::clustering_to_json(clustering)?.to_string();
        let run = self.next("run").await?;
        let mut writers = JoinSet::new();
        let shares = clustering
            .assignments
            .chunks(clustering.assignments.len().div_ceil(WRITERS).max(1));
        for share in shares {
            let (store, share) = (self.clone(), share.to_vec());
            writers.spawn(async move {
                for (id, cluster) in share {
                    store.assign(run, &id, cluster).await?;
                }
                Ok::<(), StoreError>(())
            });
        }
        while let Some(done) = writers.join_next().await {
            done.map_err(|e| StoreError::Unavailable(e.to_string()))??;
        }
        let header = Builder::key(RUNS, keys::run(run))
            .n(attrs::ID, run)
            .n(attrs::CREATED_AT, now_ms())
            .s(attrs::SUMMARY, summary)
            .build();
        self.put(header).await?;
        self.remember_committed(run);
        Ok(run)
    }

    async fn latest_clustering(&self) -> Result<Option<ClusterRun>, StoreError> {
        let query = self.partition(RUNS, None).scan_index_forward(false);
        let Some(header) = self.collect(query, Some(1)).await?.pop() else {
            return Ok(None);
        };
        let id = item::n(&header, attrs::ID)?;
        self.remember_committed(id);
        Ok(Some(ClusterRun {
            id,
            created_at: item::n(&header, attrs::CREATED_AT)?,
            clustering: records::clustering_from_json(item::json(&header, attrs::SUMMARY)?)?,
        }))
    }

    async fn cluster_members(&self, run: i64) -> Result<Vec<(usize, i64)>, StoreError> {
        let mut members: Vec<(String, usize, i64)> = Vec::new();
        for item in self.members_of(run).await? {
            if let Some(cluster) = item::opt_n(&item, attrs::CLUSTER)? {
                members.push((
                    item::s(&item, keys::GSI2_SK)?,
                    cluster,
                    item::n(&item, attrs::CREATED_AT)?,
                ));
            }
        }
        // Questions a later, uncommitted run has taken are still this run's.
        for later in run + 1..=self.counter("run").await? {
            if self.committed(later).await? {
                continue;
            }
            for item in self.members_of(later).await? {
                if let Some(a) = assignment(&item, attrs::PREV_RUN, attrs::PREV_CLUSTER)?
                    && a.run == run
                {
                    members.push((
                        item::s(&item, keys::GSI2_SK)?,
                        a.cluster,
                        item::n(&item, attrs::CREATED_AT)?,
                    ));
                }
            }
        }
        members.sort();
        Ok(members.into_iter().map(|(_, c, at)| (c, at)).collect())
    }
}
