//! A technician's question end to end, as the service answers it: retrieval and the extractive
//! answer on the warm index ([`draft`]), then the LLM when one is configured and the history
//! row ([`complete`]). Two steps so that a streamed reply can refuse a bad question with a
//! status before its first byte.

use std::sync::Arc;

use crate::cluster::runs::Assigner;
use crate::generate::{self, CONTEXT_TOKENS, Generator, OnDelta};
use crate::live::LiveIndex;
use crate::query::{self, Answer, QueryError, QueryOptions};
use crate::store::{ClusterRef, NewQuery, Store, StoreError};
use crate::track::{Kind, Run, Tracker};

/// Why a question could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("no index loaded: {0}")]
    NoIndex(String),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A question answered from the index, before the LLM and before it is recorded.
#[derive(Debug)]
pub struct Draft {
    pub question: String,
    pub answer: Answer,
    pub index_version: String,
    pub options: QueryOptions,
}

/// What completing an answer uses besides the draft.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    /// The LLM; `None`: the extractive answer stands.
    pub generator: Option<&'a dyn Generator>,
    pub store: &'a dyn Store,
    /// MLflow; `None`: tracking off.
    pub tracker: Option<&'a Tracker>,
    /// Gives the question its nearest cluster of the latest clustering run.
    pub assigner: &'a Assigner,
}

/// An answered and recorded question.
#[derive(Debug)]
pub struct Asked {
    pub query_id: String,
    pub answer: Answer,
    pub index_version: String,
    /// Its nearest cluster of the latest clustering run, if any.
    pub cluster: Option<ClusterRef>,
}

/// Validates the question, then searches the live index and drafts the extractive answer.
pub async fn draft(
    engine: &Arc<LiveIndex>,
    question: &str,
    options: QueryOptions,
) -> Result<Draft, AskError> {
    let question = query::validate(question, options.top_k)
        .map_err(QueryError::from)?
        .to_string();
    engine.refresh_if_due().await;
    let index = engine.current().ok_or_else(|| {
        AskError::NoIndex(
            engine
                .last_failure()
                .map_or_else(|| "no version published yet".to_string(), |f| f.message),
        )
    })?;
    let (models, searched, asked) = (engine.models.clone(), index.clone(), question.clone());
    // Embedding is CPU-bound: keep it off the async workers. The request keeps its snapshot of
    // the index even if a newer version is swapped in meanwhile.
    let answer =
        tokio::task::spawn_blocking(move || query::ask(&searched, &models, &asked, &options))
            .await
            .map_err(|e| AskError::NoIndex(format!("query worker failed: {e}")))??;
    Ok(Draft {
        question,
        answer,
        index_version: index.version(),
        options,
    })
}

/// Lets the LLM, when there is one, rewrite a grounded draft (streaming its text to
/// `on_delta`; the extractive answer stands if it fails), records the final answer in the
/// user's history and hands the run to the tracker.
pub async fn complete(
    draft: Draft,
    services: Services<'_>,
    user_id: i64,
    mut on_delta: Option<&mut OnDelta<'_>>,
) -> Result<Asked, StoreError> {
    let Draft {
        question,
        answer,
        index_version,
        options,
    } = draft;
    let generator = services.generator;
    let mut shown = false;
    let answer = match (generator, on_delta.as_deref_mut()) {
        (Some(generator), Some(on_delta)) => {
            let mut forward = |piece: &str| {
                shown = true;
                on_delta(piece);
            };
            let streaming = Some(&mut forward as &mut OnDelta<'_>);
            generate::ground(answer, &question, generator, CONTEXT_TOKENS, streaming).await
        }
        (Some(generator), None) => {
            generate::ground(answer, &question, generator, CONTEXT_TOKENS, None).await
        }
        (None, _) => answer,
    };
    // Answers the LLM did not write (extractive, refused before any call) come in one piece.
    if let Some(on_delta) = on_delta.filter(|_| !shown) {
        on_delta(&answer.answer);
    }
    let embedding = (!answer.embedding.is_empty()).then(|| answer.embedding.clone());
    let cluster = match &embedding {
        Some(embedding) => services.assigner.assign(services.store, embedding).await,
        None => None,
    };
    let query_id = services
        .store
        .record_query(NewQuery {
            user_id,
            question: question.clone(),
            answer: answer.answer.clone(),
            sources: answer.sources.clone(),
            best_score: answer.best_score,
            grounded: answer.grounded,
            latency_ms: answer.latency_ms,
            index_version: index_version.clone(),
            generator: answer.generator.clone(),
            model: answer.model.clone(),
            embedding,
            cluster,
        })
        .await?;
    let asked = Asked {
        query_id,
        answer,
        index_version,
        cluster,
    };
    if let Some(tracker) = services.tracker {
        tracker.track(query_run(&asked, &question, &options, generator));
    }
    Ok(asked)
}

/// The MLflow run of one answered question: the settings that produced the answer, its
/// timings and what was read and written.
fn query_run(
    asked: &Asked,
    question: &str,
    options: &QueryOptions,
    generator: Option<&dyn Generator>,
) -> Run {
    let a = &asked.answer;
    let passages: Vec<_> = a
        .passages
        .iter()
        .map(|p| serde_json::json!({"document": p.document, "page": p.page, "text": p.text}))
        .collect();
    let mut run = Run::new(Kind::Query, format!("query-{}", asked.query_id))
        .param("generator", &a.generator)
        .param("model", a.model.as_deref().unwrap_or("-"))
        .param(
            "temperature",
            generator.map_or_else(|| "-".to_string(), |g| g.temperature().to_string()),
        )
        .param("top_k", options.top_k)
        .param(
            "retrieval",
            format!("{:?}", options.retrieval).to_lowercase(),
        )
        .param("min_similarity", options.min_similarity)
        .param("index_version", &asked.index_version)
        .metric("latency_ms", a.latency_ms)
        .metric("embed_ms", a.timings.embed_ms)
        .metric("search_ms", a.timings.search_ms)
        .metric("answer_ms", a.timings.answer_ms)
        .metric("generate_ms", a.timings.generate_ms)
        .metric("best_score", f64::from(a.best_score))
        .metric("grounded", f64::from(u8::from(a.grounded)))
        .metric("sources", a.sources.len() as f64)
        .metric("dropped_citations", a.dropped_citations as f64)
        .tag("rag.query_id", asked.query_id.clone())
        .artifact("question.txt", question.as_bytes().to_vec())
        .artifact("answer.txt", a.answer.as_bytes().to_vec())
        .artifact(
            "passages.json",
            serde_json::to_vec_pretty(&passages).unwrap_or_default(),
        );
    if let Some(c) = asked.cluster {
        run = run
            .tag("rag.cluster_run", c.run.to_string())
            .tag("rag.cluster", c.cluster.to_string());
    }
    if let Some(prompt) = &a.prompt {
        let text = format!("[system]\n{}\n\n[user]\n{}\n", prompt.system, prompt.user);
        run = run.artifact("prompt.txt", text.into_bytes());
    }
    run
}
