//! GitHub's GraphQL API, for what REST cannot do (turning on a pull request's auto-merge). It goes
//! through the same client as REST ([`GitHub::send`]): same token, retries, rate-limit waits and
//! size limits. GraphQL answers `200` with an `errors` list when an operation is refused: those
//! are returned as [`GraphQlError::Refused`], with GitHub's messages.

use super::github::{GitHub, GitHubError};
use http::Method;
use serde_json::{Value, json};

/// A failed GraphQL call.
#[derive(Debug, thiserror::Error)]
pub enum GraphQlError {
    /// The request failed (network, HTTP status, rate limit).
    #[error(transparent)]
    Http(#[from] GitHubError),
    /// GitHub answered with GraphQL errors: their messages.
    #[error("{url}: GitHub refused the GraphQL operation: {}", messages.join("; "))]
    Refused {
        /// The GraphQL endpoint.
        url: String,
        /// GitHub's messages.
        messages: Vec<String>,
    },
    /// The answer is not a GraphQL response.
    #[error("{url}: unexpected GraphQL answer: {message}")]
    BadResponse {
        /// The GraphQL endpoint.
        url: String,
        /// What could not be read.
        message: String,
    },
}

/// The GraphQL endpoint for a REST API URL: `https://api.github.com/graphql`, and on GitHub
/// Enterprise Server `https://HOST/api/graphql` beside `https://HOST/api/v3`.
pub fn endpoint(api_url: &str) -> String {
    let api = api_url.trim_end_matches('/');
    match api.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{api}/graphql"),
    }
}

impl GitHub {
    /// Sends a GraphQL document with its variables; returns its `data`.
    pub async fn graphql(&self, query: &str, variables: Value) -> Result<Value, GraphQlError> {
        let url = endpoint(self.api_url());
        let body = json!({ "query": query, "variables": variables });
        let (_, bytes) = self.send(Method::POST, &url, Some(&body)).await?;
        let answer: Value =
            serde_json::from_slice(&bytes).map_err(|e| GraphQlError::BadResponse {
                url: url.clone(),
                message: e.to_string(),
            })?;
        let messages: Vec<String> = answer
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| {
                        e.get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("error")
                            .chars()
                            .take(300)
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !messages.is_empty() {
            return Err(GraphQlError::Refused { url, messages });
        }
        answer
            .get("data")
            .cloned()
            .ok_or_else(|| GraphQlError::BadResponse {
                url,
                message: "no data and no errors".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_sits_beside_the_rest_api() {
        assert_eq!(
            endpoint("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            endpoint("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/api/graphql"
        );
    }
}
