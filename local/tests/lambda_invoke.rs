//! Every function as it runs in AWS Lambda: the release packages built by
//! `infra/lambda/package.sh` (the `bootstrap` of each zip), started against `cargo lambda watch`'s
//! runtime API and driven by `cargo lambda invoke` with the event fixtures shipped in the
//! `aws_lambda_events` crate (API Gateway v2 and REST v1 requests, an S3 `ObjectCreated` event,
//! an EventBridge schedule). The store is a real PostgreSQL, the bucket and the SSM parameters
//! holding the secrets live on moto: no function is given a secret in its environment. A second
//! test runs login and history on a DynamoDB table (moto).
//!
//! Prints each function's package size, cold start (process start → first answer) and warm p50.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Backend, free_port, support};
use reqwest::blocking::Client;
use serde_json::{Value, json};

const FUNCTIONS: [&str; 6] = ["login", "query", "history", "health", "ingest", "cluster"];
const SAMPLE: &str = "procedures-support-it.pdf";
const SECRET: &str = "lambda-test-secret-of-at-least-thirty-two-bytes";
const ADMIN_PASSWORD: &str = "admin-password-from-ssm";

/// moto routes a request to a service by the credential scope of its (unchecked) signature.
fn auth(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    )
}

/// Where cargo-lambda left the packages: `$CARGO_TARGET_DIR/lambda`, else `target/lambda`.
fn packages() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| support::repo_root().join("target"), PathBuf::from)
        .join("lambda")
}

/// `$CARGO_LAMBDA`, else the virtualenv `infra/lambda/package.sh` installs it into.
fn cargo_lambda() -> PathBuf {
    std::env::var_os("CARGO_LAMBDA").map_or_else(
        || {
            std::env::temp_dir()
                .join("rag-ci-lambda")
                .join("bin")
                .join("cargo-lambda")
        },
        PathBuf::from,
    )
}

/// The `aws_lambda_events` sources of the version in Cargo.lock, in cargo's registry.
fn fixtures() -> Option<PathBuf> {
    let lock = std::fs::read_to_string(support::repo_root().join("Cargo.lock")).ok()?;
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"aws_lambda_events\""))?
        .lines()
        .find_map(|l| l.strip_prefix("version = "))?
        .trim_matches('"')
        .to_string();
    let cargo_home = std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        PathBuf::from,
    );
    std::fs::read_dir(cargo_home.join("registry/src"))
        .ok()?
        .flatten()
        .map(|index| {
            index
                .path()
                .join(format!("aws_lambda_events-{version}/src/fixtures"))
        })
        .find(|p| p.is_dir())
}

fn fixture(dir: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(name)).expect("fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

/// An API Gateway HTTP API (v2) request.
fn v2(dir: &Path, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
    let mut event = fixture(dir, "example-apigw-v2-request-no-authorizer.json");
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["routeKey"] = json!(format!("{method} {path}"));
    let headers = event["headers"].as_object_mut().expect("headers");
    headers.remove("content-length");
    if let Some(token) = token {
        headers.insert("authorization".into(), json!(format!("Bearer {token}")));
    }
    if let Some(body) = body {
        headers.insert("content-type".into(), json!("application/json"));
        event["body"] = json!(body.to_string());
    }
    event
}

/// An API Gateway REST API (v1) request, on stage `prod`.
fn v1(dir: &Path, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
    let mut event = fixture(dir, "example-apigw-request.json");
    event["path"] = json!(path);
    event["httpMethod"] = json!(method);
    event["resource"] = json!(path);
    event["pathParameters"] = Value::Null;
    event["queryStringParameters"] = Value::Null;
    event["multiValueQueryStringParameters"] = Value::Null;
    event["requestContext"]["stage"] = json!("prod");
    event["requestContext"]["path"] = json!(format!("/prod{path}"));
    event["requestContext"]["httpMethod"] = json!(method);
    let mut headers = serde_json::Map::new();
    headers.insert("Host".into(), json!("api.example.com"));
    if let Some(token) = token {
        headers.insert("Authorization".into(), json!(format!("Bearer {token}")));
    }
    if body.is_some() {
        headers.insert("Content-Type".into(), json!("application/json"));
    }
    event["multiValueHeaders"] = Value::Object(
        headers
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect(),
    );
    event["headers"] = Value::Object(headers);
    event["body"] = body.map_or(Value::Null, |b| json!(b.to_string()));
    event
}

/// The bucket's notification of a PDF created under `docs/`.
fn s3_created(dir: &Path, bucket: &str, key: &str) -> Value {
    let mut event = fixture(dir, "example-s3-event.json");
    let record = &mut event["Records"][0];
    record["eventName"] = json!("ObjectCreated:Put");
    record["s3"]["bucket"]["name"] = json!(bucket);
    record["s3"]["bucket"]["arn"] = json!(format!("arn:aws:s3:::{bucket}"));
    record["s3"]["object"]["key"] = json!(key.replace(' ', "+"));
    event
}

/// The emulated Lambda service: `cargo lambda watch` serving the runtime and invoke APIs only;
/// the functions are the packaged binaries, started by the test.
struct Watch {
    child: Child,
    port: u16,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A function process, killed on drop; its stdout (the JSON logs) goes to `log`.
struct Function {
    child: Child,
    log: PathBuf,
    cold_start: Duration,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Stack {
    watch: Watch,
    dir: tempfile::TempDir,
    fixtures: PathBuf,
    env: Vec<(String, String)>,
    http: Client,
}

impl Stack {
    /// Unzips the function's package and starts its `bootstrap` as Lambda would.
    fn bootstrap(&self, name: &str, extra: &[(&str, &str)]) -> Command {
        let home = self.dir.path().join(name);
        std::fs::create_dir_all(&home).expect("function dir");
        let unzip = Command::new("unzip")
            .args(["-o", "-q"])
            .arg(packages().join(name).join("bootstrap.zip"))
            .arg("-d")
            .arg(&home)
            .status()
            .expect("unzip");
        assert!(unzip.success(), "unzip {name}");
        let mut cmd = Command::new(home.join("bootstrap"));
        cmd.current_dir(&home)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt/{name}", self.watch.port),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(extra.iter().copied());
        cmd
    }

    /// Starts the function and invokes it once with `event`: the cold start.
    fn start(&self, name: &str, extra: &[(&str, &str)], event: &Value) -> (Function, Value) {
        let log = self.dir.path().join(format!("{name}.log"));
        let started = Instant::now();
        let child = self
            .bootstrap(name, extra)
            .stdout(std::fs::File::create(&log).expect("log"))
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the function");
        let answer = self.invoke(name, event);
        let function = Function {
            child,
            log,
            cold_start: started.elapsed(),
        };
        (function, answer)
    }

    /// One invocation through `cargo lambda invoke`, as a developer would send it.
    fn invoke(&self, name: &str, event: &Value) -> Value {
        let file = self.dir.path().join(format!("event-{name}.json"));
        std::fs::write(&file, event.to_string()).expect("event file");
        let out = Command::new(cargo_lambda())
            .args(["lambda", "invoke", name, "--output-format", "json"])
            .args(["-A", "127.0.0.1", "-P", &self.watch.port.to_string()])
            .arg("--data-file")
            .arg(&file)
            .output()
            .expect("cargo lambda invoke");
        assert!(
            out.status.success(),
            "cargo lambda invoke {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{name} answered no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Median time of `n` invocations of a warm function, through the Lambda invoke API.
    fn warm_p50(&self, name: &str, event: &Value, n: usize) -> Duration {
        let url = format!(
            "http://127.0.0.1:{}/2015-03-31/functions/{name}/invocations",
            self.watch.port
        );
        let mut times: Vec<Duration> = (0..n)
            .map(|_| {
                let t = Instant::now();
                let status = self
                    .http
                    .post(&url)
                    .body(event.to_string())
                    .send()
                    .expect("invoke")
                    .status();
                assert!(status.is_success(), "{name}: {status}");
                t.elapsed()
            })
            .collect();
        times.sort();
        times[n / 2]
    }
}

/// The body of an HTTP answer, with its status checked.
fn body(answer: &Value, status: u16) -> Value {
    assert_eq!(answer["statusCode"], json!(status), "{answer}");
    let text = answer["body"].as_str().unwrap_or("null");
    serde_json::from_str(text).unwrap_or_else(|_| json!(text))
}

fn put_parameter(http: &Client, endpoint: &str, name: &str, value: &str) {
    let status = http
        .post(endpoint)
        .header("Authorization", auth("ssm"))
        .header("X-Amz-Target", "AmazonSSM.PutParameter")
        .header("Content-Type", "application/x-amz-json-1.1")
        .body(
            json!({"Name": name, "Value": value, "Type": "SecureString", "Overwrite": true})
                .to_string(),
        )
        .send()
        .expect("put parameter")
        .status();
    assert!(status.is_success(), "put parameter {name}: {status}");
}

fn s3_put(http: &Client, endpoint: &str, path: &str, bytes: Vec<u8>) {
    let status = http
        .put(format!("{endpoint}/{path}"))
        .header("Authorization", auth("s3"))
        .body(bytes)
        .send()
        .expect("s3 put")
        .status();
    assert!(status.is_success(), "put {path}: {status}");
}

/// Size of a function's zip, in MB.
fn zip_mb(name: &str) -> f64 {
    std::fs::metadata(packages().join(name).join("bootstrap.zip")).map_or(0.0, |m| m.len() as f64)
        / 1e6
}

/// The packages, cargo-lambda, the models, moto and the event fixtures: (moto's endpoint, the
/// fixtures), or `None` when one is missing (a failure under CI).
fn prerequisites() -> Option<(String, PathBuf)> {
    let endpoint =
        std::env::var("RAG_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5001".into());
    if !support::available(
        &packages().join("login/bootstrap.zip"),
        "Lambda packages (infra/lambda/package.sh)",
    ) || !support::available(&cargo_lambda(), "cargo-lambda")
        || !support::available(&support::model_dir().join("use-m3"), "model files")
        || !support::service_or_skip(&endpoint, "S3/SSM server (moto)")
    {
        return None;
    }
    let Some(fixtures) = fixtures() else {
        support::available(
            Path::new("aws_lambda_events/src/fixtures"),
            "event fixtures",
        );
        return None;
    };
    Some((endpoint, fixtures))
}

/// `cargo lambda watch` serving the runtime and invoke APIs on a free port.
fn watch() -> Watch {
    let port = free_port();
    let watch = Watch {
        child: Command::new(cargo_lambda())
            .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1"])
            .args(["-P", &port.to_string()])
            .current_dir(support::repo_root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo lambda watch"),
        port,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "cargo lambda watch did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    watch
}

#[test]
fn every_function_runs_as_in_lambda() {
    let Some((endpoint, fixtures)) = prerequisites() else {
        return;
    };
    let Some(db) = support::ScratchDb::create("lambda") else {
        return;
    };
    let http = Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");

    // The deployment: a bucket with the manual under docs/, secrets in Parameter Store.
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let bucket = format!("rag-lambda-{stamp}");
    s3_put(&http, &endpoint, &bucket, Vec::new());
    let sample = std::fs::read(support::repo_root().join("data/pdf").join(SAMPLE)).expect("sample");
    s3_put(&http, &endpoint, &format!("{bucket}/docs/{SAMPLE}"), sample);
    let prefix = format!("/rag-test-{stamp}");
    put_parameter(&http, &endpoint, &format!("{prefix}/jwt-secret"), SECRET);
    put_parameter(&http, &endpoint, &format!("{prefix}/database-url"), &db.url);
    put_parameter(
        &http,
        &endpoint,
        &format!("{prefix}/admin-password"),
        ADMIN_PASSWORD,
    );

    let model_dir = support::model_dir().display().to_string();
    let stack = Stack {
        watch: watch(),
        dir: tempfile::tempdir().expect("tempdir"),
        fixtures,
        env: vec![
            ("AWS_ENDPOINT_URL".into(), endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), "test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("S3_BUCKET".into(), bucket.clone()),
            (
                "JWT_SECRET_PARAMETER".into(),
                format!("{prefix}/jwt-secret"),
            ),
            (
                "DATABASE_URL_PARAMETER".into(),
                format!("{prefix}/database-url"),
            ),
            ("RAG_MODEL_DIR".into(), model_dir),
        ],
        http: http.clone(),
    };
    let fx = stack.fixtures.clone();

    // In Lambda, a function that would write to its throwaway disk refuses to start, and so
    // does one whose DynamoDB table is missing (the template creates it; a function does not).
    let missing_table = format!("rag-missing-{stamp}");
    for (function, settings, says) in [
        ("query", vec![("S3_BUCKET", "")], "S3_BUCKET must be set"),
        (
            "history",
            vec![("DATABASE_URL_PARAMETER", "")],
            "the store must be set",
        ),
        (
            "history",
            vec![
                ("DATABASE_URL_PARAMETER", ""),
                ("DYNAMODB_TABLE", missing_table.as_str()),
            ],
            "does not exist",
        ),
    ] {
        let refused = stack
            .bootstrap(function, &settings)
            .output()
            .expect("run the function");
        assert!(
            !refused.status.success(),
            "{function} started with {settings:?}"
        );
        let said = String::from_utf8_lossy(&refused.stdout).to_string()
            + &String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains(says), "{function} with {settings:?}: {said}");
    }

    // ingest: the bucket's notification → a new index version.
    let (ingest, synced) = stack.start(
        "ingest",
        &[],
        &s3_created(&fx, &bucket, &format!("docs/{SAMPLE}")),
    );
    assert_eq!(synced["published"], json!(true), "{synced}");
    let version = synced["index_version"]
        .as_str()
        .expect("index version")
        .to_string();

    // login: the first administrator (password from SSM) → token; an account through REST v1.
    let admin_login = v2(
        &fx,
        "POST",
        "/auth/login",
        None,
        Some(json!({"username": "admin", "password": ADMIN_PASSWORD})),
    );
    let (login, answer) = stack.start(
        "login",
        &[
            ("RAG_ADMIN_USERNAME", "admin"),
            (
                "RAG_ADMIN_PASSWORD_PARAMETER",
                &format!("{prefix}/admin-password"),
            ),
        ],
        &admin_login,
    );
    let admin = body(&answer, 200)["token"]
        .as_str()
        .expect("token")
        .to_string();
    let created = stack.invoke(
        "login",
        &v1(
            &fx,
            "POST",
            "/auth/login",
            None,
            Some(json!({"username": "admin", "password": "wrong-password"})),
        ),
    );
    body(&created, 401);
    let created = stack.invoke(
        "login",
        &v1(
            &fx,
            "POST",
            "/admin/users",
            Some(&admin),
            Some(json!({"username": "alice", "password": "alice-password-1"})),
        ),
    );
    body(&created, 201);
    let alice_login = v2(
        &fx,
        "POST",
        "/auth/login",
        None,
        Some(json!({"username": "alice", "password": "alice-password-1"})),
    );
    let alice = body(&stack.invoke("login", &alice_login), 200)["token"]
        .as_str()
        .expect("token")
        .to_string();

    // Through API Gateway, what an anonymous caller and a plain user can reach: no account
    // creation for alice, no upload or history without a token, and no forged S3 event (an HTTP
    // request is never taken for the bucket's notification).
    body(
        &stack.invoke(
            "login",
            &v2(
                &fx,
                "POST",
                "/admin/users",
                Some(&alice),
                Some(json!({"username": "mallory", "password": "mallory-password"})),
            ),
        ),
        403,
    );
    body(
        &stack.invoke("ingest", &v2(&fx, "GET", "/documents", None, None)),
        401,
    );
    body(
        &stack.invoke("ingest", &v2(&fx, "GET", "/documents", Some(&alice), None)),
        403,
    );
    body(
        &stack.invoke(
            "ingest",
            &v2(
                &fx,
                "POST",
                "/events/s3",
                None,
                Some(s3_created(&fx, &bucket, "docs/forged.pdf")),
            ),
        ),
        404,
    );

    // query: a French question → a cited answer from the version just published.
    let ask = |q: &str| {
        v2(
            &fx,
            "POST",
            "/query",
            Some(&alice),
            Some(json!({"question": q})),
        )
    };
    let (query, answer) = stack.start(
        "query",
        &[],
        &ask("Comment réinitialiser mon mot de passe ?"),
    );
    let answered = body(&answer, 200);
    assert_eq!(answered["index_version"], json!(version), "{answered}");
    assert!(
        answered["sources"][0]["page"]
            .as_u64()
            .is_some_and(|p| p >= 1),
        "{answered}"
    );
    assert_eq!(
        answered["sources"][0]["document"],
        json!(SAMPLE),
        "{answered}"
    );
    let ready = body(
        &stack.invoke("query", &v2(&fx, "GET", "/health/ready", None, None)),
        200,
    );
    assert_eq!(ready["ready"], json!(true), "{ready}");
    let questions = [
        "Que faire si l'imprimante ne répond plus ?",
        "How do I connect to the VPN from home?",
        "Comment configurer la messagerie sur mon téléphone ?",
        "Who do I call when my laptop is stolen?",
        "Comment demander un nouveau badge d'accès ?",
        "How do I reset my password?",
    ];
    for q in questions {
        body(&stack.invoke("query", &ask(q)), 200);
    }

    // history (REST v1): alice's questions, newest first.
    let (history, answer) = stack.start(
        "history",
        &[],
        &v1(&fx, "GET", "/history", Some(&alice), None),
    );
    let items = body(&answer, 200)["items"]
        .as_array()
        .expect("items")
        .clone();
    assert_eq!(items.len(), questions.len() + 1);
    assert_eq!(items[0]["question"], json!(questions[questions.len() - 1]));

    // health: liveness, store, and the API's description.
    let (health, answer) = stack.start("health", &[], &v2(&fx, "GET", "/health", None, None));
    assert_eq!(body(&answer, 200)["store"], json!("postgres"));
    let openapi = body(
        &stack.invoke("health", &v2(&fx, "GET", "/openapi.json", None, None)),
        200,
    );
    assert!(openapi["paths"]["/query"].is_object(), "{openapi}");

    // cluster: the EventBridge schedule → a clustering run over the recorded questions.
    let (cluster, run) = stack.start(
        "cluster",
        &[],
        &fixture(&fx, "example-eventbridge-schedule.json"),
    );
    let run = if run.get("statusCode").is_some() {
        body(&run, 200)
    } else {
        run
    };
    assert!(run["run"].as_i64().is_some_and(|r| r > 0), "{run}");
    assert!(run["k"].as_u64().is_some_and(|k| k >= 2), "{run}");

    // Logs are JSON lines carrying the Lambda request id.
    let logged = std::fs::read_to_string(&query.log).expect("query log");
    assert!(
        logged
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|l| l.to_string().contains("requestId")),
        "no JSON log line with the request id:\n{logged}"
    );

    // The table for the README: package, cold start, warm p50 (this machine).
    let warm = [
        ("login", admin_login.clone(), 20),
        ("query", ask("Comment réinitialiser mon mot de passe ?"), 20),
        (
            "history",
            v2(&fx, "GET", "/history?limit=5", Some(&alice), None),
            20,
        ),
        ("health", v2(&fx, "GET", "/health", None, None), 20),
    ];
    let started = [&login, &query, &history, &health, &ingest, &cluster];
    eprintln!("| function | zip | cold start | warm p50 |\n|---|---:|---:|---:|");
    for (name, function) in FUNCTIONS.iter().zip(started) {
        let p50 = warm
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(n, event, count)| {
                format!(
                    "{:.1} ms",
                    stack.warm_p50(n, event, *count).as_secs_f64() * 1e3
                )
            })
            .unwrap_or_else(|| "—".into());
        eprintln!(
            "| {name} | {:.1} MB | {:.0} ms | {p50} |",
            zip_mb(name),
            function.cold_start.as_secs_f64() * 1e3
        );
    }
}

/// The functions on DynamoDB as the template deploys them with `Store=dynamodb`: the table made
/// beforehand (by CloudFormation there, by `rag user add` outside Lambda here), then login and
/// history in Lambda, with the JWT secret from SSM.
#[test]
fn login_and_history_run_in_lambda_on_dynamodb() {
    let Some((endpoint, fixtures)) = prerequisites() else {
        return;
    };
    let Some(table) = support::ScratchTable::moto("lambda") else {
        return;
    };
    let data = tempfile::tempdir().expect("tempdir");
    for user in ["alice", "bob"] {
        common::add_user(data.path(), Backend::Dynamo(&table), user, false);
    }
    let http = Client::new();
    let parameter = format!("/rag-test-dynamo-{}", table.table);
    put_parameter(&http, &endpoint, &parameter, SECRET);
    let mut env: Vec<(String, String)> = table
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.push(("JWT_SECRET_PARAMETER".into(), parameter));
    let stack = Stack {
        watch: watch(),
        dir: tempfile::tempdir().expect("tempdir"),
        fixtures,
        env,
        http,
    };
    let fx = stack.fixtures.clone();
    let login = |user: &str| {
        v2(
            &fx,
            "POST",
            "/auth/login",
            None,
            Some(json!({"username": user, "password": format!("{user}-password")})),
        )
    };
    let (_login, answer) = stack.start("login", &[], &login("alice"));
    let alice = body(&answer, 200)["token"]
        .as_str()
        .expect("token")
        .to_string();
    let bob = stack.invoke("login", &login("bob"));
    let bob = body(&bob, 200)["token"]
        .as_str()
        .expect("token")
        .to_string();

    let (_history, answer) = stack.start(
        "history",
        &[],
        &v2(&fx, "GET", "/history", Some(&alice), None),
    );
    assert_eq!(body(&answer, 200)["items"], json!([]));
    let peek = stack.invoke(
        "history",
        &v2(&fx, "GET", "/history?user=alice", Some(&bob), None),
    );
    assert_eq!(body(&peek, 403)["error"]["code"], "admin_required");
    let cursor = stack.invoke(
        "history",
        &v2(&fx, "GET", "/history?cursor=12", Some(&alice), None),
    );
    assert_eq!(body(&cursor, 400)["error"]["code"], "invalid_cursor");
}
