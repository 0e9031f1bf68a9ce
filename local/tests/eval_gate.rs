//! Retrieval quality gate: the real corpus ingested with the real models, scored with
//! `rag eval` on the team's question set (tests/eval/qa.jsonl). Fails if quality regresses.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::Command;

use serde_json::Value;

/// Floors a change must not go below (measured values are in docs/evaluation.md).
const MIN_HIT5_EN: f64 = 0.85;
const MIN_HIT5_FR: f64 = 0.75;
const MIN_OUT_OF_SCOPE_REFUSED: f64 = 0.70;
const MIN_IN_SCOPE_ANSWERED: f64 = 0.90;

fn rag(data: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rag"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("RAG_MODEL_DIR", support::model_dir())
        .current_dir(support::repo_root())
        .output()
        .expect("run rag");
    assert!(
        out.status.success(),
        "rag {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn retrieval_quality_on_the_team_question_set() {
    let corpus = support::corpus_dir();
    if !support::available(&corpus.join("en"), "../shared/corpus")
        || !support::available(&support::model_dir().join("use-m3"), "model files")
    {
        return;
    }
    let data = tempfile::tempdir().expect("tempdir");
    let en = corpus.join("en").display().to_string();
    let fr = corpus.join("fr").display().to_string();
    rag(data.path(), &["ingest", "--collection", "corpus", &en, &fr]);
    let report: Value = serde_json::from_str(&rag(
        data.path(),
        &[
            "eval",
            "--collection",
            "corpus",
            "--qa",
            "tests/eval/qa.jsonl",
            "--json",
        ],
    ))
    .expect("eval JSON");
    let r = &report[0];
    eprintln!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
    let hit5 = |lang: &str| r["by_language"][lang]["hit5"].as_f64().expect("hit5");
    assert!(hit5("en") >= MIN_HIT5_EN, "EN hit@5 {}", hit5("en"));
    assert!(hit5("fr") >= MIN_HIT5_FR, "FR hit@5 {}", hit5("fr"));
    let refused = r["out_of_scope_refused"].as_f64().expect("refused");
    let answered = r["in_scope_answered"].as_f64().expect("answered");
    assert!(
        refused >= MIN_OUT_OF_SCOPE_REFUSED,
        "out-of-scope refused {refused}"
    );
    assert!(
        answered >= MIN_IN_SCOPE_ANSWERED,
        "in-scope answered {answered}"
    );
}
