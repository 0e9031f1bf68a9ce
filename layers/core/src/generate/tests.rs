//! Each adapter against a local HTTP server speaking the provider's wire format: the request
//! shape is checked, answers and failures are replayed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};

use super::*;
use crate::text::Lang;

/// One scripted reply: status, body, delay before answering.
type Reply = (u16, String, Duration);

#[derive(Clone, Default)]
struct Script {
    replies: Arc<Mutex<Vec<Reply>>>,
    seen: Arc<Mutex<Vec<(String, HeaderMap, Value)>>>,
}

impl Script {
    fn requests(&self) -> usize {
        self.seen.lock().expect("lock").len()
    }
    fn request(&self, i: usize) -> (String, HeaderMap, Value) {
        self.seen.lock().expect("lock")[i].clone()
    }
}

async fn reply(
    State(script): State<Script>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
    script
        .seen
        .lock()
        .expect("lock")
        .push((uri.to_string(), headers, parsed));
    let next = {
        let mut replies = script.replies.lock().expect("lock");
        if replies.len() > 1 {
            replies.remove(0)
        } else {
            replies[0].clone()
        }
    };
    tokio::time::sleep(next.2).await;
    (StatusCode::from_u16(next.0).expect("status"), next.1)
}

/// A server answering every POST with the scripted replies (the last one repeats).
async fn server(replies: Vec<Reply>) -> (String, Script) {
    let script = Script {
        replies: Arc::new(Mutex::new(replies)),
        ..Script::default()
    };
    let app = Router::new().fallback(reply).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), script)
}

/// How a streamed reply ends.
#[derive(Clone, Copy)]
enum Ending {
    /// Closed after the events.
    Clean,
    /// Connection broken mid-body.
    Cut,
    /// Kept open, silent.
    Stall,
}

/// A server answering every POST with these SSE events (`data: {event}`), then `ending`.
async fn stream_server(events: Vec<String>, ending: Ending) -> (String, Script) {
    let script = Script::default();
    let seen = script.clone();
    let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let (seen, events) = (seen.clone(), events.clone());
        async move {
            let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
            seen.seen
                .lock()
                .expect("lock")
                .push((uri.to_string(), headers, parsed));
            let (chunks, body) = tokio::sync::mpsc::channel(16);
            tokio::spawn(async move {
                for event in events {
                    let _ = chunks
                        .send(Ok(Bytes::from(format!("data: {event}\n\n"))))
                        .await;
                }
                // Headers and events go out before the ending.
                tokio::time::sleep(Duration::from_millis(50)).await;
                match ending {
                    Ending::Clean => {}
                    Ending::Cut => {
                        let reset = std::io::Error::other("connection reset");
                        let _ = chunks.send(Err(reset)).await;
                    }
                    Ending::Stall => tokio::time::sleep(Duration::from_secs(3600)).await,
                }
            });
            let body =
                axum::body::Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(body));
            ([("content-type", "text/event-stream")], body)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), script)
}

fn openai_delta(text: &str, finish: Option<&str>) -> String {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "m",
           "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]})
    .to_string()
}

fn gemini_delta(text: &str, finish: Option<&str>) -> String {
    let mut candidate = json!({"content": {"role": "model", "parts": [{"text": text}]}});
    if let Some(finish) = finish {
        candidate["finishReason"] = json!(finish);
    }
    json!({"candidates": [candidate], "modelVersion": "gemini-flash-latest"}).to_string()
}

/// Streams with `llm`, collecting the pieces passed on.
async fn streamed(llm: &dyn Generator) -> (Result<String, GenerateError>, Vec<String>) {
    let mut pieces = Vec::new();
    let result = llm
        .generate_stream(&prompt(), &mut |p: &str| pieces.push(p.to_string()))
        .await;
    (result, pieces)
}

fn ok(body: Value) -> Reply {
    (200, body.to_string(), Duration::ZERO)
}

fn endpoint(base_url: String, model: &str, timeout_ms: u64) -> Endpoint {
    Endpoint {
        base_url,
        model: model.into(),
        api_key: Some("secret-key".into()),
        temperature: 0.0,
        timeout: Duration::from_millis(timeout_ms),
    }
}

fn prompt() -> Prompt {
    prompt::build(
        "How do I connect to the VPN?",
        Lang::En,
        &[Passage {
            document: "vpn.pdf".into(),
            page: 4,
            text: "Open the VPN client and sign in with your badge number.".into(),
        }],
        1000,
    )
}

fn openai_answer(text: &str) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "m",
           "choices": [{"index": 0, "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text}}],
           "usage": {"prompt_tokens": 50, "completion_tokens": 9, "total_tokens": 59}})
}

#[tokio::test]
async fn openai_compatible_request_and_answer() {
    let (base, script) = server(vec![ok(openai_answer("Open the VPN client [1]."))]).await;
    let llm = OpenAi::new(endpoint(format!("{base}/v1"), "mistral-small", 2000));
    let text = llm.generate(&prompt()).await.expect("answer");
    assert_eq!(text, "Open the VPN client [1].");
    let (path, headers, body) = script.request(0);
    assert_eq!(path, "/v1/chat/completions");
    assert_eq!(headers["authorization"], "Bearer secret-key");
    assert_eq!(body["model"], "mistral-small");
    assert_eq!(body["temperature"], 0.0);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["role"], "user");
    assert!(
        body["messages"][1]["content"]
            .as_str()
            .unwrap_or("")
            .contains("<<<PASSAGE 1 | vpn.pdf, page 4>>>")
    );
}

#[tokio::test]
async fn gemini_request_and_answer() {
    let answer = json!({"candidates": [{"content": {"role": "model",
        "parts": [{"text": "Ouvrez le client VPN "}, {"text": "[1]."}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 50}, "modelVersion": "gemini-flash-latest"});
    let (base, script) = server(vec![ok(answer)]).await;
    let llm = Gemini::new(endpoint(base, "gemini-flash-latest", 2000));
    assert_eq!(
        llm.generate(&prompt()).await.expect("answer"),
        "Ouvrez le client VPN [1]."
    );
    let (path, headers, body) = script.request(0);
    assert_eq!(path, "/v1beta/models/gemini-flash-latest:generateContent");
    assert_eq!(headers["x-goog-api-key"], "secret-key");
    assert!(
        body["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("Rules")
    );
    assert_eq!(body["contents"][0]["role"], "user");
    assert_eq!(body["generationConfig"]["temperature"], 0.0);
}

#[tokio::test]
async fn gemini_blocked_or_empty_answers_are_malformed() {
    let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"}});
    let (base, _) = server(vec![ok(blocked)]).await;
    let llm = Gemini::new(endpoint(base, "gemini-flash-latest", 2000));
    match llm.generate(&prompt()).await {
        Err(GenerateError::Malformed(why)) => assert_eq!(why, "SAFETY"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn overload_and_server_errors_are_retried_with_backoff() {
    let (base, script) = server(vec![
        (
            429,
            r#"{"error":{"message":"rate limited"}}"#.into(),
            Duration::ZERO,
        ),
        (503, "upstream down".into(), Duration::ZERO),
        ok(openai_answer("ok [1]")),
    ])
    .await;
    let llm = Resilient::new(
        OpenAi::new(endpoint(base, "m", 2000)),
        2,
        Duration::from_millis(10),
        Duration::from_secs(30),
    );
    assert_eq!(
        llm.generate(&prompt()).await.expect("third attempt"),
        "ok [1]"
    );
    assert_eq!(script.requests(), 3);
}

#[tokio::test]
async fn repeated_failures_open_the_circuit() {
    let (base, script) = server(vec![(500, "boom".into(), Duration::ZERO)]).await;
    let llm = Resilient::new(
        OpenAi::new(endpoint(base, "m", 2000)),
        0,
        Duration::from_millis(1),
        Duration::from_secs(30),
    );
    for _ in 0..5 {
        assert!(matches!(
            llm.generate(&prompt()).await,
            Err(GenerateError::Status { status: 500, .. })
        ));
    }
    assert!(matches!(
        llm.generate(&prompt()).await,
        Err(GenerateError::CircuitOpen(_))
    ));
    assert_eq!(script.requests(), 5, "an open circuit makes no call");
}

#[tokio::test]
async fn timeouts_malformed_json_and_unreachable_servers_are_errors_not_panics() {
    let (base, _) = server(vec![(
        200,
        openai_answer("late").to_string(),
        Duration::from_secs(2),
    )])
    .await;
    let slow = OpenAi::new(endpoint(base, "m", 150));
    assert!(matches!(
        slow.generate(&prompt()).await,
        Err(GenerateError::Timeout(150))
    ));

    let (base, script) = server(vec![(200, "{\"choices\": [".into(), Duration::ZERO)]).await;
    let broken = Resilient::new(
        OpenAi::new(endpoint(base, "m", 2000)),
        2,
        Duration::from_millis(1),
        Duration::from_secs(30),
    );
    assert!(matches!(
        broken.generate(&prompt()).await,
        Err(GenerateError::Malformed(_))
    ));
    assert_eq!(script.requests(), 1, "malformed answers are not retried");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let gone = OpenAi::new(endpoint(format!("http://127.0.0.1:{port}"), "m", 2000));
    match gone.generate(&prompt()).await {
        Err(GenerateError::Unavailable(why)) => assert!(!why.contains("secret-key")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_api_key_is_never_printed() {
    let shown = format!("{:?}", endpoint("http://x".into(), "m", 1));
    assert!(
        !shown.contains("secret-key") && shown.contains("<redacted>"),
        "{shown}"
    );
}

fn extractive(grounded: bool) -> crate::query::Answer {
    let source = |page| crate::query::Source {
        document: "vpn.pdf".into(),
        page,
        score: 0.9,
        excerpt: "Open the VPN client".into(),
    };
    crate::query::Answer {
        answer: "Open the VPN client and sign in [1].".into(),
        sources: vec![source(4), source(5)],
        latency_ms: 100.0,
        grounded,
        best_score: 0.9,
        lang: Lang::En,
        timings: crate::query::Timings::default(),
        generator: "extractive".into(),
        model: None,
        dropped_citations: 0,
        passages: (4..6)
            .map(|page| Passage {
                document: "vpn.pdf".into(),
                page,
                text: "Open the VPN client and sign in with your badge number.".into(),
            })
            .collect(),
        prompt: None,
        embedding: Vec::new(),
    }
}

#[tokio::test]
async fn the_llm_rewrites_grounded_answers_and_its_citations_are_checked() {
    let (base, script) = server(vec![
        ok(openai_answer("Open the client [1], then sign in [7].")),
        ok(openai_answer(
            "I don't have this information in the documentation.",
        )),
    ])
    .await;
    let llm = connect(Provider::OpenAi, endpoint(base, "m", 2000));
    let q = "How do I connect to the VPN?";

    let answer = ground(extractive(true), q, llm.as_ref(), 1000, None).await;
    assert_eq!(answer.answer, "Open the client [1], then sign in.");
    assert_eq!(
        (answer.generator.as_str(), answer.model.as_deref()),
        ("openai", Some("m"))
    );
    assert_eq!(answer.dropped_citations, 1);
    assert_eq!(answer.sources.len(), 2);
    assert!(answer.timings.generate_ms > 0.0);

    let refused = ground(extractive(true), q, llm.as_ref(), 1000, None).await;
    assert!(!refused.grounded && refused.sources.is_empty());
    assert_eq!(
        refused.answer,
        "I don't have this information in the documentation."
    );

    // Weak evidence: no call at all.
    let weak = ground(extractive(false), q, llm.as_ref(), 1000, None).await;
    assert_eq!(weak.generator, "extractive");
    assert_eq!(script.requests(), 2);
}

#[tokio::test]
async fn a_failing_llm_leaves_the_extractive_answer_marked_as_fallback() {
    let (base, script) = server(vec![(500, "down".into(), Duration::ZERO)]).await;
    let llm = connect(
        Provider::Gemini,
        endpoint(base, "gemini-flash-latest", 2000),
    );
    let answer = ground(extractive(true), "VPN?", llm.as_ref(), 1000, None).await;
    assert_eq!(answer.generator, "extractive-fallback");
    assert_eq!(answer.answer, "Open the VPN client and sign in [1].");
    assert!(answer.grounded);
    assert_eq!(script.requests(), 1 + RETRIES as usize);
}

#[test]
fn providers_are_parsed_from_their_names() {
    assert_eq!(Provider::parse("").expect("empty"), None);
    assert_eq!(Provider::parse("extractive").expect("default"), None);
    assert_eq!(
        Provider::parse("Gemini").expect("gemini"),
        Some(Provider::Gemini)
    );
    assert_eq!(
        Provider::parse("openai").expect("openai"),
        Some(Provider::OpenAi)
    );
    assert!(Provider::parse("claude").is_err());
}

#[tokio::test]
async fn openai_compatible_stream_passes_pieces_as_they_come() {
    let events = vec![
        openai_delta("Open the ", None),
        openai_delta("VPN client [1].", None),
        openai_delta("", Some("stop")),
        "[DONE]".to_string(),
    ];
    let (base, script) = stream_server(events, Ending::Clean).await;
    let llm = OpenAi::new(endpoint(format!("{base}/v1"), "m", 2000));
    let (text, pieces) = streamed(&llm).await;
    assert_eq!(text.expect("answer"), "Open the VPN client [1].");
    assert_eq!(pieces, ["Open the ", "VPN client [1]."]);
    let (path, headers, body) = script.request(0);
    assert_eq!(path, "/v1/chat/completions");
    assert_eq!(headers["accept"], "text/event-stream");
    assert_eq!(body["stream"], true);
    assert_eq!(body["messages"][0]["role"], "system");
}

#[tokio::test]
async fn gemini_stream_passes_pieces_as_they_come() {
    let events = vec![
        gemini_delta("Ouvrez ", None),
        gemini_delta("le client VPN [1].", Some("STOP")),
    ];
    let (base, script) = stream_server(events, Ending::Clean).await;
    let llm = Gemini::new(endpoint(base, "gemini-flash-latest", 2000));
    let (text, pieces) = streamed(&llm).await;
    assert_eq!(text.expect("answer"), "Ouvrez le client VPN [1].");
    assert_eq!(pieces, ["Ouvrez ", "le client VPN [1]."]);
    let (path, headers, body) = script.request(0);
    assert_eq!(
        path,
        "/v1beta/models/gemini-flash-latest:streamGenerateContent?alt=sse"
    );
    assert_eq!(headers["x-goog-api-key"], "secret-key");
    assert_eq!(body["contents"][0]["role"], "user");
}

#[tokio::test]
async fn a_stream_cut_mid_way_is_an_error_and_not_retried_once_text_was_shown() {
    for ending in [Ending::Cut, Ending::Clean] {
        let events = vec![openai_delta("Open the ", None)];
        let (base, script) = stream_server(events, ending).await;
        let llm = Resilient::new(
            OpenAi::new(endpoint(base, "m", 2000)),
            2,
            Duration::from_millis(1),
            Duration::from_secs(30),
        );
        let (result, pieces) = streamed(&llm).await;
        assert!(
            matches!(result, Err(GenerateError::StreamCut(_))),
            "{result:?}"
        );
        assert_eq!(pieces, ["Open the "]);
        assert_eq!(script.requests(), 1, "shown text cannot be retried");
    }

    let (base, script) = stream_server(vec![gemini_delta("", None)], Ending::Cut).await;
    let llm = Resilient::new(
        Gemini::new(endpoint(base, "g", 2000)),
        2,
        Duration::from_millis(1),
        Duration::from_secs(30),
    );
    let (result, pieces) = streamed(&llm).await;
    assert!(matches!(result, Err(GenerateError::StreamCut(_))));
    assert!(pieces.is_empty());
    assert_eq!(script.requests(), 3, "nothing shown yet: retried");
}

#[tokio::test]
async fn a_stalled_stream_times_out_and_a_refusal_mid_stream_is_malformed() {
    let (base, _) = stream_server(vec![openai_delta("Open", None)], Ending::Stall).await;
    let llm = OpenAi::new(endpoint(base, "m", 200));
    let (result, pieces) = streamed(&llm).await;
    assert!(
        matches!(result, Err(GenerateError::Timeout(200))),
        "{result:?}"
    );
    assert_eq!(pieces, ["Open"]);

    let events = vec![
        gemini_delta("Ouvrez", None),
        gemini_delta("", Some("SAFETY")),
    ];
    let (base, _) = stream_server(events, Ending::Clean).await;
    let llm = Gemini::new(endpoint(base, "g", 2000));
    match streamed(&llm).await.0 {
        Err(GenerateError::Malformed(why)) => assert_eq!(why, "SAFETY"),
        other => panic!("{other:?}"),
    }

    let (base, _) = stream_server(vec!["{not json".into()], Ending::Clean).await;
    let llm = OpenAi::new(endpoint(base, "m", 2000));
    assert!(matches!(
        streamed(&llm).await.0,
        Err(GenerateError::Malformed(_))
    ));
}

#[tokio::test]
async fn grounding_streams_the_answer_and_falls_back_when_the_stream_breaks() {
    let events = vec![
        openai_delta("Open the client [1] ", None),
        openai_delta("and badge in [9].", Some("stop")),
    ];
    let (base, _) = stream_server(events, Ending::Clean).await;
    let llm = connect(Provider::OpenAi, endpoint(base, "m", 2000));
    let mut pieces = String::new();
    let answer = ground(
        extractive(true),
        "VPN?",
        llm.as_ref(),
        1000,
        Some(&mut |p: &str| pieces.push_str(p)),
    )
    .await;
    assert_eq!(pieces, "Open the client [1] and badge in [9].");
    assert_eq!(answer.answer, "Open the client [1] and badge in.");
    assert_eq!(
        (answer.generator.as_str(), answer.dropped_citations),
        ("openai", 1)
    );

    let (base, _) = stream_server(vec![openai_delta("Open the", None)], Ending::Cut).await;
    let llm = connect(Provider::OpenAi, endpoint(base, "m", 2000));
    let answer = ground(
        extractive(true),
        "VPN?",
        llm.as_ref(),
        1000,
        Some(&mut |_: &str| {}),
    )
    .await;
    assert_eq!(answer.generator, "extractive-fallback");
    assert_eq!(answer.answer, "Open the VPN client and sign in [1].");
}
