//! The bodies the edge checks before they travel, and how the functions check them again.

use serde::{Deserialize, Serialize};

use crate::limits::{DEFAULT_TOP_K, MAX_BODY_BYTES, MAX_QUESTION_CHARS, MAX_TOP_K};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueryRequest {
    /// 1 to 1000 characters.
    pub question: String,
    /// Number of sources, 1 to 20 (default 5).
    pub top_k: Option<usize>,
}

/// A request refused for its body: each has its status and code, the same at the edge and in
/// the functions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("request body too large")]
    BodyTooLarge,
    /// Not JSON, not the documented shape, or not sent as `application/json`.
    #[error("{0}")]
    Malformed(String),
    #[error("the question is empty")]
    EmptyQuestion,
    #[error("the question is longer than {max} characters")]
    QuestionTooLong { max: usize },
    #[error("top_k must be between 1 and {max}")]
    InvalidTopK { max: usize },
}

impl RequestError {
    pub fn status(&self) -> u16 {
        match self {
            RequestError::BodyTooLarge => 413,
            RequestError::Malformed(_) => 400,
            _ => 422,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            RequestError::BodyTooLarge => "body_too_large",
            RequestError::Malformed(_) => "bad_request",
            RequestError::EmptyQuestion => "empty_question",
            RequestError::QuestionTooLong { .. } => "question_too_long",
            RequestError::InvalidTopK { .. } => "invalid_top_k",
        }
    }
}

/// Parses a JSON body of at most [`MAX_BODY_BYTES`].
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, RequestError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(RequestError::BodyTooLarge);
    }
    serde_json::from_slice(body)
        .map_err(|e| RequestError::Malformed(format!("invalid JSON body: {e}")))
}

/// Whether a `Content-Type` value announces JSON (`application/json`, parameters allowed).
pub fn is_json_content_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

impl QueryRequest {
    /// The number of sources asked for, the default when absent.
    pub fn top_k(&self) -> usize {
        self.top_k.unwrap_or(DEFAULT_TOP_K)
    }

    /// Checks the question and `top_k` without answering.
    pub fn check(&self) -> Result<(), RequestError> {
        validate_question(&self.question, self.top_k()).map(|_| ())
    }
}

/// Checks a question and returns it trimmed.
pub fn validate_question(question: &str, top_k: usize) -> Result<&str, RequestError> {
    let q = question.trim();
    if q.is_empty() {
        return Err(RequestError::EmptyQuestion);
    }
    if q.chars().count() > MAX_QUESTION_CHARS {
        return Err(RequestError::QuestionTooLong {
            max: MAX_QUESTION_CHARS,
        });
    }
    if top_k == 0 || top_k > MAX_TOP_K {
        return Err(RequestError::InvalidTopK { max: MAX_TOP_K });
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_checked_against_the_shared_limits() {
        assert_eq!(validate_question("  VPN ?  ", 5), Ok("VPN ?"));
        assert_eq!(
            validate_question("   ", 5),
            Err(RequestError::EmptyQuestion)
        );
        let long = "é".repeat(MAX_QUESTION_CHARS + 1);
        assert_eq!(
            validate_question(&long, 5).unwrap_err().code(),
            "question_too_long"
        );
        assert_eq!(
            validate_question(&"é".repeat(MAX_QUESTION_CHARS), 5).map(|_| ()),
            Ok(())
        );
        assert_eq!(validate_question("q", 0).unwrap_err().status(), 422);
        assert_eq!(
            validate_question("q", MAX_TOP_K + 1).unwrap_err().code(),
            "invalid_top_k"
        );
    }

    #[test]
    fn bodies_are_bounded_and_shaped() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(parse_json::<QueryRequest>(&big).unwrap_err().status(), 413);
        let err = parse_json::<QueryRequest>(br#"{"question": 3}"#).unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "bad_request"));
        let err = parse_json::<LoginRequest>(br#"{"username": "a"}"#).unwrap_err();
        assert_eq!(err.status(), 400);
        let ok: QueryRequest = parse_json(br#"{"question": "VPN"}"#).expect("valid");
        assert_eq!(ok.top_k(), DEFAULT_TOP_K);
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type("application/json"));
        assert!(is_json_content_type("Application/JSON; charset=utf-8"));
        assert!(!is_json_content_type("text/plain"));
        assert!(!is_json_content_type("application/jsonp"));
    }
}
