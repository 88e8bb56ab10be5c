//! The OpenTelemetry SDKs' standard variables (feature `otlp`): with
//! `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` set,
//! and no `TIMBERLOGS_ENDPOINT`, [`builder`](crate::builder) ships over OTLP,
//! read the way the OpenTelemetry SDKs read them: a signal-specific variable
//! over the generic one, a builder call over either.

use std::sync::Arc;
use std::time::Duration;

use timber_core::transport::{async_trait, Batch, Endpoint, Transport, TransportError};
use timber_core::{ClientBuilder, ConfigError, Environment};
use timber_transport_otlp::{BuildError, Encoding, HttpClient, OtlpTransport};

/// Every variable read, signal-specific first where there are two.
pub const OTEL_VARS: &[&str] = &[
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_SDK_DISABLED",
];

/// The API key core requires, which OTLP does not send (a collector asks
/// for none; `OTEL_EXPORTER_OTLP_HEADERS` carries any authentication).
const NO_KEY: &str = "otlp-no-api-key";

/// `builder` in OTLP mode when the variables say so; unchanged otherwise.
pub(crate) fn apply(builder: ClientBuilder, var: impl Fn(&str) -> Option<String>) -> ClientBuilder {
    let var = |name: &str| {
        var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let endpoint = match (
        var("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
        var("OTEL_EXPORTER_OTLP_ENDPOINT"),
    ) {
        (Some(url), _) => endpoint("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &url, false),
        (None, Some(url)) => endpoint("OTEL_EXPORTER_OTLP_ENDPOINT", &url, true),
        (None, None) => return builder,
    };
    if var("TIMBERLOGS_ENDPOINT").is_some() {
        return builder;
    }
    let resource = resource_attributes(var("OTEL_RESOURCE_ATTRIBUTES"));
    let named = |key: &str| {
        resource
            .as_ref()
            .ok()
            .and_then(|r| r.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
    };
    // What the Timberlogs variables leave unset, from OpenTelemetry's.
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| name.starts_with("TIMBERLOGS_"))
        .collect();
    let mut fill = |name: &str, value: Option<String>| {
        if let (None, Some(value)) = (var(name), value) {
            vars.push((name.to_owned(), value));
        }
    };
    if let Ok((base, _)) = &endpoint {
        fill("TIMBERLOGS_ENDPOINT", Some(base.clone()));
    }
    let service = var("OTEL_SERVICE_NAME").or_else(|| named("service.name"));
    fill(
        "TIMBERLOGS_SOURCE",
        Some(service.unwrap_or_else(|| "unknown_service".into())),
    );
    fill("TIMBERLOGS_API_KEY", Some(NO_KEY.into()));
    fill("TIMBERLOGS_VERSION", named("service.version"));
    let environment =
        named("deployment.environment.name").or_else(|| named("deployment.environment"));
    fill(
        "TIMBERLOGS_ENVIRONMENT",
        environment.filter(|e| e.parse::<Environment>().is_ok()),
    );
    let settings = Settings {
        endpoint,
        encoding: protocol(&var),
        headers: pick(
            &var,
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            "OTEL_EXPORTER_OTLP_HEADERS",
        )
        .map_or(Ok(Vec::new()), |(name, v)| headers(name, &v)),
        timeout: pick(
            &var,
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        )
        .map(|(name, v)| timeout(name, &v))
        .transpose(),
        gzip: pick(
            &var,
            "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        )
        .map_or(Ok(false), |(name, v)| compression(name, &v)),
        certificate: pick(
            &var,
            "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
        ),
        resource,
        disabled: var("OTEL_SDK_DISABLED").map_or(Ok(false), |v| disabled(&v)),
    };
    builder
        .with_env_vars(vars)
        .default_transport(move || settings.transport())
}

/// The settings read, each value checked (its error names its variable).
struct Settings {
    /// The base URL and the path of the logs.
    endpoint: Result<(String, String), ConfigError>,
    encoding: Result<Encoding, ConfigError>,
    headers: Result<Vec<(String, String)>, ConfigError>,
    timeout: Result<Option<Duration>, ConfigError>,
    gzip: Result<bool, ConfigError>,
    certificate: Option<(&'static str, String)>,
    resource: Result<Vec<(String, String)>, ConfigError>,
    disabled: Result<bool, ConfigError>,
}

impl Settings {
    fn transport(self) -> Result<Arc<dyn Transport>, ConfigError> {
        if self.disabled? {
            return Ok(Arc::new(Disabled));
        }
        let (base, path) = self.endpoint?;
        let mut http = HttpClient::builder().allow_http(base.starts_with("http://"));
        for (name, value) in self.headers? {
            http = http.header(name, value);
        }
        if let Some(timeout) = self.timeout? {
            http = http.request_timeout(timeout);
        }
        if self.gzip? {
            http = gzip(http)?;
        }
        if let Some((name, path)) = &self.certificate {
            let pem = std::fs::read(path).map_err(|e| ConfigError {
                field: name,
                reason: format!("expected a readable PEM file of CA certificates: {e}"),
            })?;
            http = http.add_root_certificate_pem(pem);
        }
        let encoding = self.encoding?;
        let mut otlp = OtlpTransport::builder().http(http).encoding(encoding);
        // gRPC takes the endpoint as it is: the call names its own path.
        if encoding != Encoding::Grpc {
            otlp = otlp.path(path);
        }
        for (key, value) in self.resource? {
            otlp = otlp.resource_attribute(key, value);
        }
        match otlp.build() {
            Ok(transport) => Ok(Arc::new(transport)),
            Err(BuildError::Config(e)) => Err(e),
            Err(e) => Err(ConfigError {
                field: self
                    .certificate
                    .map_or("OTEL_EXPORTER_OTLP_ENDPOINT", |(name, _)| name),
                reason: e.to_string(),
            }),
        }
    }
}

#[cfg(feature = "gzip")]
fn gzip(
    http: timber_transport_otlp::HttpClientBuilder,
) -> Result<timber_transport_otlp::HttpClientBuilder, ConfigError> {
    Ok(http.gzip_min_bytes(0))
}

#[cfg(not(feature = "gzip"))]
fn gzip(
    _: timber_transport_otlp::HttpClientBuilder,
) -> Result<timber_transport_otlp::HttpClientBuilder, ConfigError> {
    Err(ConfigError {
        field: "OTEL_EXPORTER_OTLP_COMPRESSION",
        reason: "gzip needs timber-sdk's `gzip` feature".into(),
    })
}

/// With `OTEL_SDK_DISABLED=true`: records are accepted and sent nowhere.
struct Disabled;

#[async_trait]
impl Transport for Disabled {
    async fn send_batch(&self, _: &Endpoint, _: &Batch) -> Result<(), TransportError> {
        Ok(())
    }
}

/// The variable that is set, signal-specific first, and its value.
fn pick(
    var: &impl Fn(&str) -> Option<String>,
    specific: &'static str,
    generic: &'static str,
) -> Option<(&'static str, String)> {
    var(specific)
        .map(|v| (specific, v))
        .or_else(|| var(generic).map(|v| (generic, v)))
}

fn bad(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        field,
        reason: reason.into(),
    }
}

/// `scheme://host[:port][/path]`: the base URL, and the path of the logs
/// (the signal-specific variable's as it is; the generic one's plus
/// `/v1/logs`).
fn endpoint(name: &'static str, url: &str, generic: bool) -> Result<(String, String), ConfigError> {
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
        .ok_or_else(|| bad(name, "expected an http:// or https:// URL"))?;
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    if authority.is_empty() || path.contains(['?', '#']) || authority.contains(['?', '#']) {
        return Err(bad(name, "expected scheme://host[:port][/path], no query"));
    }
    let path = if generic {
        format!("{}/v1/logs", path.trim_end_matches('/'))
    } else if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    };
    Ok((format!("{scheme}://{authority}"), path))
}

fn protocol(var: &impl Fn(&str) -> Option<String>) -> Result<Encoding, ConfigError> {
    let Some((name, value)) = pick(
        var,
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ) else {
        return Ok(Encoding::Protobuf);
    };
    match value.as_str() {
        "http/protobuf" => Ok(Encoding::Protobuf),
        "http/json" => Ok(Encoding::Json),
        "grpc" => Ok(Encoding::Grpc),
        _ => Err(bad(name, "expected http/protobuf, http/json or grpc")),
    }
}

/// `key=value,key=value`, values percent-decoded (W3C baggage's form).
/// Errors never show a value: a header may be a secret.
fn headers(name: &'static str, text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    pairs(text)
        .enumerate()
        .map(|(i, entry)| {
            let (key, value) =
                entry.ok_or_else(|| bad(name, format!("entry {} is not key=value", i + 1)))?;
            let value = percent_decoded(&value).ok_or_else(|| {
                bad(
                    name,
                    format!("the value of {key} is not valid percent-encoded UTF-8"),
                )
            })?;
            Ok((key, value))
        })
        .collect()
}

/// `OTEL_RESOURCE_ATTRIBUTES`, in the same form as the headers.
fn resource_attributes(text: Option<String>) -> Result<Vec<(String, String)>, ConfigError> {
    text.map_or(Ok(Vec::new()), |text| {
        headers("OTEL_RESOURCE_ATTRIBUTES", &text)
    })
}

/// The `key=value` entries of a comma-separated list (`None` for one
/// without `=` or without a key); empty entries are skipped.
fn pairs(text: &str) -> impl Iterator<Item = Option<(String, String)>> + '_ {
    text.split(',')
        .filter(|e| !e.trim().is_empty())
        .map(|entry| {
            let (key, value) = entry.split_once('=')?;
            let key = key.trim();
            (!key.is_empty()).then(|| (key.to_owned(), value.trim().to_owned()))
        })
}

fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn timeout(name: &'static str, text: &str) -> Result<Duration, ConfigError> {
    match text.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
        _ => Err(bad(name, "expected a whole number of milliseconds above 0")),
    }
}

fn compression(name: &'static str, text: &str) -> Result<bool, ConfigError> {
    match text {
        "gzip" => Ok(true),
        "none" => Ok(false),
        _ => Err(bad(name, "expected gzip or none")),
    }
}

fn disabled(text: &str) -> Result<bool, ConfigError> {
    match text.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad("OTEL_SDK_DISABLED", "expected true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_specification() {
        let generic = |url| endpoint("E", url, true).map_err(|e| e.reason);
        let specific = |url| endpoint("E", url, false).map_err(|e| e.reason);
        assert_eq!(
            generic("http://c:4318"),
            Ok(("http://c:4318".into(), "/v1/logs".into()))
        );
        assert_eq!(
            generic("https://c/otlp/"),
            Ok(("https://c".into(), "/otlp/v1/logs".into()))
        );
        assert_eq!(
            specific("http://c:4318/custom"),
            Ok(("http://c:4318".into(), "/custom".into()))
        );
        assert_eq!(
            specific("http://c:4318"),
            Ok(("http://c:4318".into(), "/".into()))
        );
        for url in ["c:4318", "ftp://c", "http://", "http://c/?q=1"] {
            assert!(generic(url).is_err(), "{url}");
        }
    }

    #[test]
    fn headers_are_decoded_and_their_values_never_shown() {
        let read = headers("H", "Authorization=Bearer%20s3cret , x-tenant=acme,").unwrap();
        assert_eq!(
            read,
            [
                ("Authorization".into(), "Bearer s3cret".into()),
                ("x-tenant".into(), "acme".into())
            ]
        );
        let err = headers("H", "a=1,s3cret").unwrap_err();
        assert_eq!(
            (err.field, err.reason.as_str()),
            ("H", "entry 2 is not key=value")
        );
        let err = headers("H", "k=s3cret%zz").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn other_values_are_checked() {
        assert_eq!(timeout("T", "2500").unwrap(), Duration::from_millis(2500));
        assert!(timeout("T", "0").is_err() && timeout("T", "1.5").is_err());
        assert!(compression("C", "gzip").unwrap() && !compression("C", "none").unwrap());
        assert!(compression("C", "zstd").is_err());
        assert!(disabled("TRUE").unwrap() && !disabled("false").unwrap());
        assert!(disabled("yes").is_err());
        let attributes =
            resource_attributes(Some("service.name=a%2Cb,k8s.pod.name=p".into())).unwrap();
        assert_eq!(attributes[0], ("service.name".into(), "a,b".into()));
    }
}
