//! Question clustering through the API: technicians' real questions asked through `rag serve`,
//! clustered by `POST /clusters/run` (admin), read back from `GET /clusters` with trends, each
//! history row carrying its cluster, and a new question given its nearest cluster at once.

mod common;

use common::Backend;

use reqwest::blocking::Client;
use serde_json::{Value, json};

fn login(server: &common::Server, user: &str) -> String {
    let login: Value = Client::new()
        .post(format!("{}/auth/login", server.base))
        .json(&json!({"username": user, "password": format!("{user}-password")}))
        .send()
        .and_then(|r| r.json())
        .expect("login");
    login["token"].as_str().expect("token").to_string()
}

fn ask(server: &common::Server, token: &str, question: &str) {
    let response = Client::new()
        .post(format!("{}/query", server.base))
        .bearer_auth(token)
        .json(&json!({ "question": question }))
        .send()
        .expect("query");
    assert_eq!(response.status().as_u16(), 200, "{question}");
}

fn call(method: reqwest::Method, url: &str, token: &str) -> (u16, Value) {
    let response = Client::new()
        .request(method, url)
        .bearer_auth(token)
        .send()
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

/// A few questions on three topics, from the real question lists.
const QUESTIONS: [&str; 12] = [
    "How to use Remote Desktop?",
    "What is 'Remote Desktop'?",
    "What are the benefits of remote administration tools like TeamViewer?",
    "How do you connect to a remote computer with Remote Desktop?",
    "How do you troubleshoot device driver errors?",
    "How do you troubleshoot device driver problems?",
    "Comment dépanner les pilotes de périphériques (drivers) ?",
    "Quand faut-il effectuer un 'Roll back' de pilote ?",
    "Why does good documentation save a business time and money?",
    "How does documentation save time and money?",
    "Quelle est l'importance de la documentation initiale ?",
    "Comment documenter la solution trouvée de manière exploitable ?",
];

#[test]
fn asked_questions_are_clustered_and_new_ones_get_their_cluster() {
    let Some(server) = common::start(Backend::Embedded) else {
        return;
    };
    let (alice, admin) = (login(&server, "alice"), login(&server, "admin"));
    let run_url = format!("{}/clusters/run?k_min=2&k_max=5", server.base);
    let clusters_url = format!("{}/clusters", server.base);

    // Nothing to cluster yet; not for users.
    let (status, body) = call(reqwest::Method::GET, &clusters_url, &admin);
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("no_clustering"))
    );
    let (status, body) = call(reqwest::Method::POST, &run_url, &admin);
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("too_few_questions"))
    );
    let (status, _) = call(reqwest::Method::POST, &run_url, &alice);
    assert_eq!(status, 403);

    for question in QUESTIONS {
        ask(&server, &alice, question);
    }
    let (status, run) = call(reqwest::Method::POST, &run_url, &admin);
    assert_eq!(status, 200, "{run}");
    let k = run["k"].as_u64().expect("k") as usize;
    assert!((2..=5).contains(&k), "{run}");
    assert_eq!(run["elbow"].as_array().map(Vec::len), Some(4));
    let clusters = run["clusters"].as_array().expect("clusters");
    let sizes: Vec<u64> = clusters
        .iter()
        .map(|c| c["size"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(sizes.iter().sum::<u64>(), QUESTIONS.len() as u64, "{run}");
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "biggest first: {sizes:?}"
    );
    for c in clusters {
        assert!(!c["terms"].as_array().expect("terms").is_empty(), "{c}");
        for r in c["representatives"].as_array().expect("representatives") {
            assert!(QUESTIONS.contains(&r.as_str().unwrap_or("")), "{r}");
        }
    }
    let today: u64 = run["per_day"][0]["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(today, QUESTIONS.len() as u64);
    assert_eq!(run["per_week"].as_array().map(Vec::len), Some(1));

    // GET /clusters reads the same run back.
    let (status, latest) = call(reqwest::Method::GET, &clusters_url, &admin);
    assert_eq!(status, 200);
    assert_eq!(latest["run"], run["run"]);
    assert_eq!(latest["clusters"], run["clusters"]);

    // Every recorded question has its cluster; paraphrases share one.
    let (_, history) = call(
        reqwest::Method::GET,
        &format!("{}/history?limit=50", server.base),
        &alice,
    );
    let items = history["items"].as_array().expect("items");
    let cluster_of = |question: &str| {
        let item = items
            .iter()
            .find(|i| i["question"] == question)
            .unwrap_or_else(|| panic!("{question} not in history"));
        assert_eq!(item["cluster"]["run"], run["run"], "{item}");
        item["cluster"]["cluster"].as_u64().expect("cluster")
    };
    assert_eq!(cluster_of(QUESTIONS[0]), cluster_of(QUESTIONS[1]));
    assert_eq!(cluster_of(QUESTIONS[4]), cluster_of(QUESTIONS[5]));
    assert_eq!(cluster_of(QUESTIONS[8]), cluster_of(QUESTIONS[9]));

    // A new question gets its nearest cluster when it is asked, and counts in the trends.
    ask(&server, &alice, "Can I use Remote Desktop to help a user?");
    let (_, history) = call(
        reqwest::Method::GET,
        &format!("{}/history?limit=1", server.base),
        &alice,
    );
    let newest = &history["items"][0];
    assert_eq!(newest["cluster"]["run"], run["run"], "{newest}");
    assert_eq!(
        newest["cluster"]["cluster"].as_u64(),
        Some(cluster_of(QUESTIONS[0])),
        "{newest}"
    );
    let (_, latest) = call(reqwest::Method::GET, &clusters_url, &admin);
    let total: u64 = latest["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .filter_map(|c| c["size"].as_u64())
        .sum();
    assert_eq!(total, QUESTIONS.len() as u64 + 1);
}
