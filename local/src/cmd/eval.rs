//! `rag eval`: hit@1/3/5 and MRR per language and category, plus the "not in the
//! documentation" decision on out-of-scope questions.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use rag_core::answer;
use rag_core::collection::DEFAULT_COLLECTION;
use rag_core::embed::Models;
use rag_core::eval::{Question, Scores, group_scores};
use rag_core::generate::{self, CONTEXT_TOKENS, Generator};
use rag_core::index::Index;
use rag_core::query::{self, QueryOptions};
use rag_core::text::detect_lang;
use serde::Serialize;

use crate::cmd::search::RetrievalArg;
use crate::context::Context;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = DEFAULT_COLLECTION)]
    collection: String,
    /// Question set (JSONL: id, question, lang, in_scope, expected).
    #[arg(long)]
    qa: PathBuf,
    #[arg(long, short, default_value_t = 5)]
    k: usize,
    /// Retrieval modes to compare (repeatable).
    #[arg(long, value_enum, default_values = ["hybrid"])]
    retrieval: Vec<RetrievalArg>,
    /// Also answer every question the way the service does (with the LLM of the `LLM_*`
    /// variables, if any) and report how often the answer is "not in the documentation".
    #[arg(long)]
    answers: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// The "not in the documentation" decision of the full answer path, LLM included.
#[derive(Serialize)]
struct AnswerReport {
    /// Out-of-scope questions answered "not in the documentation".
    out_of_scope_refused: f64,
    /// In-scope questions answered (not refused).
    in_scope_answered: f64,
    /// Answers per generator ("extractive", "openai", "extractive-fallback", ...).
    by_generator: BTreeMap<String, usize>,
}

#[derive(Serialize)]
struct ModeReport {
    retrieval: String,
    by_language: BTreeMap<String, Scores>,
    by_category: BTreeMap<String, Scores>,
    /// Out-of-scope questions in the set.
    out_of_scope: usize,
    /// Out-of-scope questions answered "not in the documentation".
    out_of_scope_refused: f64,
    /// In-scope questions answered (not refused).
    in_scope_answered: f64,
    min_similarity: f32,
    /// Similarity threshold that best separates in-scope from out-of-scope on this set, and
    /// its balanced accuracy.
    calibrated_min_similarity: (f32, f64),
    /// With `--answers`.
    answers: Option<AnswerReport>,
}

/// Category from the id: "x-fr-en-03" → "x-fr-en", "en-001" → "en".
fn category(id: &str) -> String {
    id.rsplit_once('-').map_or(id, |(head, _)| head).to_string()
}

pub fn load_questions(path: &PathBuf) -> anyhow::Result<Vec<Question>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).with_context(|| format!("{} line {}", path.display(), n + 1))
        })
        .collect()
}

/// The similarity threshold maximising (in-scope answered + out-of-scope refused) / 2, and
/// that balanced accuracy.
fn calibrate(in_scope: &[f32], out_of_scope: &[f32]) -> (f32, f64) {
    let mut best = (f64::MIN, 0.0f32);
    for step in 0..=400 {
        let t = 0.70 + step as f32 * 0.0005;
        let answered =
            in_scope.iter().filter(|&&s| s >= t).count() as f64 / in_scope.len().max(1) as f64;
        let refused = out_of_scope.iter().filter(|&&s| s < t).count() as f64
            / out_of_scope.len().max(1) as f64;
        let score = answered + refused;
        if score > best.0 {
            best = (score, t);
        }
    }
    (best.1, best.0 / 2.0)
}

/// Answers each question as `POST /query` would and counts the refusals.
async fn answer_rates(
    index: &Index,
    models: &Models,
    questions: &[Question],
    options: &QueryOptions,
    generator: Option<&dyn Generator>,
) -> anyhow::Result<AnswerReport> {
    let (mut refused_out, mut answered_in, mut out) = (0, 0, 0);
    let mut by_generator = BTreeMap::new();
    for q in questions {
        let mut answer = query::ask(index, models, &q.question, options)?;
        if let Some(generator) = generator {
            answer = generate::ground(answer, &q.question, generator, CONTEXT_TOKENS, None).await;
        }
        *by_generator.entry(answer.generator.clone()).or_insert(0) += 1;
        match (q.in_scope, answer.grounded) {
            (false, false) => refused_out += 1,
            (true, true) => answered_in += 1,
            _ => {}
        }
        out += usize::from(!q.in_scope);
    }
    let share = |n: usize, of: usize| n as f64 / of.max(1) as f64;
    Ok(AnswerReport {
        out_of_scope_refused: share(refused_out, out),
        in_scope_answered: share(answered_in, questions.len() - out),
        by_generator,
    })
}

pub async fn run(ctx: &Context, args: Args) -> anyhow::Result<()> {
    let questions = load_questions(&args.qa)?;
    let index = ctx.index(&args.collection).await?;
    let models = ctx.models()?;
    let generator = rag_api::config::llm_from_env()?
        .map(|(provider, endpoint)| generate::connect(provider, endpoint));
    let mut reports = Vec::new();
    for mode in &args.retrieval {
        let options = QueryOptions {
            top_k: args.k,
            retrieval: (*mode).into(),
            ..QueryOptions::default()
        };
        let mut by_lang = Vec::new();
        let mut by_cat = Vec::new();
        let (mut in_best, mut out_best) = (Vec::new(), Vec::new());
        for q in &questions {
            let hits = query::search(&index, &models, &q.question, &options)?.hits;
            let best = answer::evidence(&hits, &index.chunks, detect_lang(&q.question));
            if !q.in_scope {
                out_best.push(best);
                continue;
            }
            in_best.push(best);
            let rank = q.first_hit(&query::sources(&index, &hits));
            by_lang.push((q.lang.clone().unwrap_or_else(|| "?".into()), rank));
            by_cat.push((category(&q.id), rank));
        }
        let t = options.min_similarity;
        let rate = |v: &[f32], answered: bool| {
            v.iter().filter(|&&s| (s >= t) == answered).count() as f64 / v.len().max(1) as f64
        };
        let answers = if args.answers {
            let generator = generator.as_deref();
            Some(answer_rates(&index, &models, &questions, &options, generator).await?)
        } else {
            None
        };
        reports.push(ModeReport {
            retrieval: format!("{:?}", options.retrieval).to_lowercase(),
            by_language: group_scores(&by_lang),
            by_category: group_scores(&by_cat),
            out_of_scope: out_best.len(),
            out_of_scope_refused: rate(&out_best, false),
            in_scope_answered: rate(&in_best, true),
            min_similarity: t,
            calibrated_min_similarity: calibrate(&in_best, &out_best),
            answers,
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(());
    }
    println!(
        "{} questions from {}, k = {}, models {}",
        questions.len(),
        args.qa.display(),
        args.k,
        index.manifest.models.join(" + ")
    );
    for r in &reports {
        println!("\nretrieval: {}", r.retrieval);
        println!(
            "  {:<12} {:>4} {:>7} {:>7} {:>7} {:>7}",
            "group", "n", "hit@1", "hit@3", "hit@5", "MRR"
        );
        let rows = r
            .by_language
            .iter()
            .map(|(k, s)| (format!("lang {k}"), s))
            .chain(
                r.by_category
                    .iter()
                    .filter(|(k, _)| *k != "all")
                    .map(|(k, s)| (format!("set {k}"), s)),
            );
        for (name, s) in rows {
            println!(
                "  {:<12} {:>4} {:>7.3} {:>7.3} {:>7.3} {:>7.3}",
                name, s.questions, s.hit1, s.hit3, s.hit5, s.mrr
            );
        }
        if r.out_of_scope == 0 {
            println!(
                "  not in documentation: no out-of-scope question in this set, {:.0}% of in-scope answered (similarity threshold {:.3})",
                r.in_scope_answered * 100.0,
                r.min_similarity
            );
        } else {
            println!(
                "  not in documentation: {:.0}% of out-of-scope refused, {:.0}% of in-scope answered (similarity threshold {:.3}; best on this set {:.3}, balanced accuracy {:.2})",
                r.out_of_scope_refused * 100.0,
                r.in_scope_answered * 100.0,
                r.min_similarity,
                r.calibrated_min_similarity.0,
                r.calibrated_min_similarity.1
            );
        }
        if let Some(a) = &r.answers {
            let generators: Vec<String> = a
                .by_generator
                .iter()
                .map(|(g, n)| format!("{g} {n}"))
                .collect();
            println!(
                "  full answers: {:.0}% of out-of-scope refused, {:.0}% of in-scope answered ({})",
                a.out_of_scope_refused * 100.0,
                a.in_scope_answered * 100.0,
                generators.join(", ")
            );
        }
    }
    Ok(())
}
