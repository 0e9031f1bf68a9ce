//! End-to-end tests of the `rag` binary with the real model on the sample PDF: the CLI contract
//! other tools rely on, refusals, and damaged index files.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Rag {
    data: tempfile::TempDir,
}

impl Rag {
    /// A scratch data directory, or `None` (test skipped) when the model files are missing.
    fn new() -> Option<Rag> {
        let models = support::model_dir();
        if !support::available(
            &models.join("multilingual-e5-small"),
            "model files (layers/model/build.sh)",
        ) {
            return None;
        }
        Some(Rag {
            data: tempfile::tempdir().expect("tempdir"),
        })
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rag"))
            .arg("--data-dir")
            .arg(self.data.path())
            .args(args)
            .env("RAG_MODEL_DIR", support::model_dir())
            .current_dir(support::repo_root())
            .output()
            .expect("run rag")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "rag {args:?} failed: {stderr}");
        assert!(
            !stderr.contains("panicked"),
            "rag {args:?} panicked: {stderr}"
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    fn ask_json(&self, question: &str) -> Value {
        serde_json::from_str(&self.ok(&["ask", "--json", question])).expect("one JSON object")
    }

    fn index_file(&self) -> PathBuf {
        let current = self.data.path().join("indexes/default/CURRENT");
        let version = std::fs::read_to_string(current).expect("CURRENT");
        self.data
            .path()
            .join("indexes/default")
            .join(version.trim())
            .join("index.rag")
    }
}

fn sample() -> String {
    support::repo_root()
        .join("data/pdf/procedures-support-it.pdf")
        .display()
        .to_string()
}

#[test]
fn ingest_then_ask_in_french_and_english_with_page_citations() {
    let Some(rag) = Rag::new() else { return };
    let out = rag.ok(&["ingest", &sample()]);
    assert!(out.contains("documents 1, pages 7, chunks"), "{out}");

    let a = rag.ask_json("Comment réinitialiser mon mot de passe ?");
    assert_eq!(a["grounded"], true);
    assert_eq!(a["lang"], "fr");
    let sources = a["sources"].as_array().expect("sources");
    assert!(!sources.is_empty() && sources.len() <= 5);
    assert_eq!(sources[0]["document"], "procedures-support-it.pdf");
    assert_eq!(sources[0]["page"], 1, "password reset is on page 1: {a}");
    let answer = a["answer"].as_str().expect("answer");
    assert!(answer.contains("[1]"), "answer cites its source: {answer}");
    assert!(a["latency_ms"].as_f64().expect("latency") > 0.0);
    for s in sources {
        let score = s["score"].as_f64().expect("score");
        assert!((0.0..=1.0).contains(&score));
        assert!(!s["excerpt"].as_str().expect("excerpt").is_empty());
    }

    // Cross-lingual: an English question over the French manual.
    let a = rag.ask_json("What should I do if I lost my company laptop?");
    assert_eq!(a["grounded"], true, "{a}");
    assert_eq!(a["sources"][0]["page"], 6, "{a}");
    assert!(
        a["answer"]
            .as_str()
            .expect("answer")
            .starts_with("According to the documentation (in French)")
    );
}

#[test]
fn out_of_scope_questions_are_refused_in_the_question_language() {
    let Some(rag) = Rag::new() else { return };
    rag.ok(&["ingest", &sample()]);
    let a = rag.ask_json("Quel est le menu de la cantine aujourd'hui ?");
    assert_eq!(
        a["answer"],
        "Je n'ai pas cette information dans la documentation."
    );
    assert_eq!(a["grounded"], false);
    assert_eq!(a["sources"].as_array().map(Vec::len), Some(0));
    let a = rag.ask_json("How many days of paid holiday do employees get?");
    assert_eq!(
        a["answer"],
        "I don't have this information in the documentation."
    );
}

#[test]
fn search_writes_one_line_per_question_with_the_expected_pages() {
    let Some(rag) = Rag::new() else { return };
    rag.ok(&["ingest", &sample()]);
    let qa = support::repo_root().join("tests/eval/sample-qa.jsonl");
    let out = rag.ok(&[
        "search",
        "--k",
        "3",
        "--questions",
        &qa.display().to_string(),
    ]);
    let questions: Vec<Value> = std::fs::read_to_string(&qa)
        .expect("qa")
        .lines()
        .map(|l| serde_json::from_str(l).expect("qa line"))
        .collect();
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), questions.len());
    let mut hits = 0;
    let mut in_scope = 0;
    for (q, line) in questions.iter().zip(&lines) {
        assert_eq!(q["id"], line["id"]);
        let sources = line["sources"].as_array().expect("sources");
        assert!(sources.len() <= 3);
        let pages: Vec<(Value, Value)> = sources
            .iter()
            .map(|s| (s["document"].clone(), s["page"].clone()))
            .collect();
        let unique: std::collections::HashSet<String> =
            pages.iter().map(|p| format!("{p:?}")).collect();
        assert_eq!(unique.len(), pages.len(), "one source per page");
        if q["in_scope"] == true {
            in_scope += 1;
            let expected = &q["expected"][0]["pages"];
            if sources
                .iter()
                .any(|s| expected.as_array().is_some_and(|e| e.contains(&s["page"])))
            {
                hits += 1;
            }
        }
    }
    assert!(
        hits * 10 >= in_scope * 9,
        "hit@3 on the sample: {hits}/{in_scope}"
    );
}

#[test]
fn the_server_refuses_to_start_without_a_strong_jwt_secret() {
    let Some(rag) = Rag::new() else { return };
    for secret in [None, Some("too-short")] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rag"));
        cmd.arg("--data-dir")
            .arg(rag.data.path())
            .args(["serve", "--port", "0"]);
        match secret {
            Some(s) => cmd.env("JWT_SECRET", s),
            None => cmd.env_remove("JWT_SECRET"),
        };
        let out = cmd.output().expect("run rag serve");
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("JWT_SECRET is missing or shorter than 32 bytes"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn ingesting_the_same_pdf_twice_keeps_the_same_version() {
    let Some(rag) = Rag::new() else { return };
    rag.ok(&["ingest", &sample()]);
    let first =
        std::fs::read_to_string(rag.data.path().join("indexes/default/CURRENT")).expect("CURRENT");
    let out = rag.ok(&["ingest", &sample()]);
    assert!(out.contains("unchanged"), "{out}");
    let second =
        std::fs::read_to_string(rag.data.path().join("indexes/default/CURRENT")).expect("CURRENT");
    assert_eq!(first, second);
}

#[test]
fn bad_inputs_get_clear_errors_not_panics() {
    let Some(rag) = Rag::new() else { return };
    // A file that is not a PDF is reported, and nothing is published.
    let junk = rag.data.path().join("notes.pdf");
    std::fs::write(&junk, b"just some text").expect("write");
    let out = rag.run(&["ingest", &junk.display().to_string()]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("notes.pdf: NOT INGESTED: not a readable PDF"),
        "{stdout}"
    );
    assert!(!Path::new(&rag.data.path().join("indexes/default/CURRENT")).exists());

    // Asking before anything was ingested says what to do.
    let out = rag.run(&["ask", "Comment réinitialiser mon mot de passe ?"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rag ingest"));

    rag.ok(&["ingest", &sample()]);
    let out = rag.run(&["ask", "   "]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the question is empty"));
    let long = "mot de passe ".repeat(200);
    let out = rag.run(&["ask", &long]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than 1000 characters"));

    // A damaged index file is refused with the reason; no panic.
    let index = rag.index_file();
    let mut bytes = std::fs::read(&index).expect("index");
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&index, &bytes).expect("corrupt");
    let out = rag.run(&["ask", "VPN"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    std::fs::write(&index, &bytes[..n / 3]).expect("truncate");
    let stderr = String::from_utf8_lossy(&rag.run(&["ask", "VPN"]).stderr).into_owned();
    assert!(stderr.contains("truncated"), "{stderr}");
}
