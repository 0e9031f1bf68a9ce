//! A local server speaking the OpenAI chat-completions wire format, JSON or streamed (SSE over
//! chunked encoding, optionally cut), that records each request body.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// What the chat-completions server answers.
#[derive(Clone)]
pub enum Reply {
    /// Status and JSON body.
    Json(u16, String),
    /// SSE `data:` events sent one by one (chunked); `cut`: the connection drops after them.
    Stream { events: Vec<String>, cut: bool },
}

/// A chat-completions server: answers with `reply` and keeps each request body.
pub struct Llm {
    pub url: String,
    reply: Arc<Mutex<Reply>>,
    seen: Arc<Mutex<Vec<Value>>>,
}

impl Llm {
    pub fn answer(&self, reply: Reply) {
        *self.reply.lock().expect("lock") = reply;
    }

    pub fn requests(&self) -> Vec<Value> {
        self.seen.lock().expect("lock").clone()
    }
}

pub fn llm() -> Llm {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
    let reply = Arc::new(Mutex::new(Reply::Json(200, String::new())));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (r, s) = (reply.clone(), seen.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            s.lock()
                .expect("lock")
                .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
            let reply = r.lock().expect("lock").clone();
            let _ = respond(stream, reply);
        }
    });
    Llm { url, reply, seen }
}

fn respond(mut stream: std::net::TcpStream, reply: Reply) -> std::io::Result<()> {
    match reply {
        Reply::Json(status, text) => write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
            text.len()
        ),
        Reply::Stream { events, cut } => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )?;
            for event in events {
                let data = format!("data: {event}\n\n");
                write!(stream, "{:x}\r\n{data}\r\n", data.len())?;
                stream.flush()?;
                std::thread::sleep(std::time::Duration::from_millis(30));
            }
            if !cut {
                write!(stream, "0\r\n\r\n")?;
            }
            Ok(())
        }
    }
}

pub fn completion(text: &str) -> Reply {
    Reply::Json(
        200,
        json!({"id": "c1", "object": "chat.completion", "model": "test-model",
               "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": text}}]})
        .to_string(),
    )
}

/// A streamed completion of these pieces, ended properly unless `cut`.
pub fn streamed(pieces: &[&str], cut: bool) -> Reply {
    let mut events: Vec<String> = pieces
        .iter()
        .map(|p| {
            json!({"id": "c1", "object": "chat.completion.chunk", "model": "test-model",
                   "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": null}]})
            .to_string()
        })
        .collect();
    if !cut {
        events.push("[DONE]".into());
    }
    Reply::Stream { events, cut }
}
