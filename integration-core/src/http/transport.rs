//! One exchange over the pool: send, read the body under a size limit, and turn reqwest's
//! failures into [`Error`]s that say how far the request got. URLs (and so query strings, which
//! may carry keys) are stripped from every error.

use bytes::Bytes;
use http::HeaderMap;
use reqwest::StatusCode;

use super::gathered::Gathered;
use crate::error::{Delivery, Error, ErrorKind, Result};

/// What an exchange answered: a body read whole, or (streaming, on success) the response whose
/// body is still to be read.
pub(crate) enum Answer {
    Read(Bytes),
    Live(reqwest::Response),
}

/// Sends `request` and reads the whole response.
pub(crate) async fn exchange(
    client: &reqwest::Client,
    request: reqwest::Request,
    max_body: usize,
) -> Result<(StatusCode, HeaderMap, Bytes)> {
    let response = client.execute(request).await.map_err(|e| from_reqwest(e, false))?;
    read_whole(response, max_body).await
}

/// Sends `request`; on a 2xx (or 304) returns as soon as the head is in, the body left to read
/// — other answers are read whole (bounded), as [`exchange`] does, for their error.
pub(crate) async fn exchange_streaming(
    client: &reqwest::Client,
    request: reqwest::Request,
    max_body: usize,
) -> Result<(StatusCode, HeaderMap, Answer)> {
    let mut response = client.execute(request).await.map_err(|e| from_reqwest(e, false))?;
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let headers = std::mem::take(response.headers_mut());
        return Ok((status, headers, Answer::Live(response)));
    }
    let (status, headers, body) = read_whole(response, max_body).await?;
    Ok((status, headers, Answer::Read(body)))
}

async fn read_whole(mut response: reqwest::Response, max_body: usize) -> Result<(StatusCode, HeaderMap, Bytes)> {
    let status = response.status();
    if response.content_length().is_some_and(|len| len > max_body as u64) {
        return Err(too_large(status, max_body));
    }
    let headers = std::mem::take(response.headers_mut());
    let mut body = Gathered::default();
    while let Some(chunk) = response.chunk().await.map_err(|e| from_reqwest(e, true))? {
        if !body.push(chunk, max_body) {
            return Err(too_large(status, max_body));
        }
    }
    Ok((status, headers, body.finish()))
}

fn too_large(status: StatusCode, max: usize) -> Error {
    Error::invalid_response(format!("the response body is larger than the {max} bytes allowed (policy max_body_bytes)"))
        .with_status(status.as_u16())
        .with_delivery(Delivery::Responded)
}

/// How far a failed reqwest call got, as an [`Error`].
pub(crate) fn from_reqwest(error: reqwest::Error, reading_body: bool) -> Error {
    let error = error.without_url();
    let (kind, delivery, message) = if error.is_builder() {
        (ErrorKind::Validation, Delivery::NotSent, "the request could not be built")
    } else if error.is_connect() {
        (ErrorKind::Transient, Delivery::NotSent, "could not connect to the provider")
    } else if error.is_timeout() {
        (ErrorKind::Transient, Delivery::MaybeSent, "the request timed out")
    } else if reading_body || error.is_body() || error.is_decode() {
        (ErrorKind::Transient, Delivery::Responded, "the connection broke while reading the response body")
    } else {
        (ErrorKind::Transient, Delivery::MaybeSent, "the connection broke before a response arrived")
    };
    Error::new(kind, message).with_delivery(delivery).with_source(error)
}
