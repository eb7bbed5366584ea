//! Fetching a model's ONNX bytes from the URI it was registered with (`http://` or `https://`),
//! bounded in size and in time. The bytes are then checked against the registered ONNX hash
//! like on-chain bytes, so a server that sends anything else only gets the model refused.
//!
//! Redirects are not followed: the registered URI must serve the file itself.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::{
	client::legacy::{connect::HttpConnector, Client},
	rt::TokioExecutor,
};

/// GETs `uri` and returns its body, refusing more than `max_bytes` and anything that takes
/// longer than `timeout` in all.
pub fn fetch(uri: &str, max_bytes: u64, timeout: Duration) -> Result<Vec<u8>, String> {
	let uri: hyper::Uri = uri
		.parse()
		.map_err(|e| format!("invalid URI {uri:?}: {e}"))?;
	let runtime = tokio::runtime::Builder::new_current_thread()
		.enable_all()
		.build()
		.map_err(|e| format!("no runtime for the download: {e}"))?;
	runtime.block_on(async {
		tokio::time::timeout(timeout, get(uri.clone(), max_bytes))
			.await
			.map_err(|_| format!("{uri}: no complete answer within {timeout:?}"))?
	})
}

async fn get(uri: hyper::Uri, max_bytes: u64) -> Result<Vec<u8>, String> {
	let response = match uri.scheme_str() {
		Some("http") => {
			let client: Client<_, Empty<Bytes>> =
				Client::builder(TokioExecutor::new()).build(HttpConnector::new());
			client.get(uri.clone()).await
		}
		Some("https") => {
			let connector = hyper_rustls::HttpsConnectorBuilder::new()
				.with_provider_and_native_roots(rustls::crypto::ring::default_provider())
				.map_err(|e| format!("no TLS root certificates: {e}"))?
				.https_only()
				.enable_http1()
				.build();
			let client: Client<_, Empty<Bytes>> =
				Client::builder(TokioExecutor::new()).build(connector);
			client.get(uri.clone()).await
		}
		_ => return Err(format!("{uri}: only http:// and https:// URIs are fetched")),
	}
	.map_err(|e| format!("{uri}: {e}"))?;
	if !response.status().is_success() {
		return Err(format!("{uri}: HTTP {}", response.status()));
	}
	let declared = response
		.headers()
		.get(hyper::header::CONTENT_LENGTH)
		.and_then(|v| v.to_str().ok())
		.and_then(|v| v.parse::<u64>().ok());
	if declared.is_some_and(|n| n > max_bytes) {
		return Err(format!(
			"{uri}: {} bytes, more than {max_bytes}",
			declared.unwrap_or(0)
		));
	}
	let mut body = response.into_body();
	let mut bytes = Vec::new();
	while let Some(frame) = body.frame().await {
		let frame = frame.map_err(|e| format!("{uri}: {e}"))?;
		if let Some(data) = frame.data_ref() {
			if (bytes.len() + data.len()) as u64 > max_bytes {
				return Err(format!("{uri}: more than {max_bytes} bytes"));
			}
			bytes.extend_from_slice(data);
		}
	}
	Ok(bytes)
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::{
		io::{Read, Write},
		net::TcpListener,
	};

	/// A one-connection HTTP server answering `response`; returns its URI.
	fn serve_once(response: Vec<u8>) -> String {
		let listener = TcpListener::bind("127.0.0.1:0").unwrap();
		let addr = listener.local_addr().unwrap();
		std::thread::spawn(move || {
			if let Ok((mut stream, _)) = listener.accept() {
				let mut request = [0u8; 1024];
				let _ = stream.read(&mut request);
				let _ = stream.write_all(&response);
			}
		});
		format!("http://{addr}/model.onnx")
	}

	fn ok(body: &[u8]) -> Vec<u8> {
		let mut r = format!(
			"HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
			body.len()
		)
		.into_bytes();
		r.extend_from_slice(body);
		r
	}

	#[test]
	fn fetches_the_body() {
		let uri = serve_once(ok(b"onnx bytes"));
		assert_eq!(
			fetch(&uri, 100, Duration::from_secs(30)).unwrap(),
			b"onnx bytes"
		);
	}

	#[test]
	fn refuses_more_than_the_bound() {
		let uri = serve_once(ok(&[7u8; 200]));
		let e = fetch(&uri, 100, Duration::from_secs(30)).unwrap_err();
		assert!(e.contains("more than 100"), "{e}");
		// Without a Content-Length, the body is cut off as it streams.
		let mut chunked = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
		chunked.extend_from_slice(&[7u8; 200]);
		let uri = serve_once(chunked);
		let e = fetch(&uri, 100, Duration::from_secs(30)).unwrap_err();
		assert!(e.contains("more than 100"), "{e}");
	}

	#[test]
	fn refuses_errors_other_schemes_and_slow_servers() {
		let uri = serve_once(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec());
		assert!(fetch(&uri, 100, Duration::from_secs(30))
			.unwrap_err()
			.contains("404"));
		assert!(
			fetch("ftp://example.org/m.onnx", 100, Duration::from_secs(1))
				.unwrap_err()
				.contains("only http")
		);
		// Accepts, then never answers.
		let listener = TcpListener::bind("127.0.0.1:0").unwrap();
		let uri = format!("http://{}/m.onnx", listener.local_addr().unwrap());
		let e = fetch(&uri, 100, Duration::from_millis(300)).unwrap_err();
		assert!(e.contains("within"), "{e}");
		drop(listener);
	}
}
