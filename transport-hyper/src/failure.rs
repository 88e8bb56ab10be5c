//! A request that got no answer, in the client's terms: a certificate that
//! does not verify is permanent, everything else (refused, reset, a TLS
//! hiccup, a proxy failing) worth retrying.

use std::error::Error as StdError;

use timber_core::transport::TransportError;

use crate::proxy_error::ProxyError;

/// A request that got no answer: certificate failures are permanent,
/// everything else (refused, reset, TLS hiccups) is worth retrying.
pub(crate) fn from_io(error: &(dyn StdError + 'static), authority: &str) -> TransportError {
    if let Some(proxy) = find::<ProxyError>(error) {
        // It already names the proxy and the destination.
        return if proxy.permanent {
            TransportError::permanent(proxy.message.clone())
        } else {
            TransportError::retryable(proxy.message.clone())
        };
    }
    let chain = chain(error);
    if let Some(tls) = find::<rustls::Error>(error) {
        if is_certificate_failure(tls) {
            return TransportError::permanent(format!(
                "TLS certificate verification failed for {authority}: {tls} \
                 (certificates are always verified; trust the server's CA with \
                 HyperTransport::builder().add_root_certificate_pem(..))"
            ));
        }
        return TransportError::retryable(format!("TLS error with {authority}: {chain}"));
    }
    TransportError::retryable(format!("cannot reach {authority}: {chain}"))
}

/// The error and its causes, joined, without repeating a cause a message
/// already quotes.
pub(crate) fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut out = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

/// The first error of type `E` in the chain.
fn find<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        // io::Error's `source` skips the error it wraps: step into it instead.
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    None
}

fn is_certificate_failure(error: &rustls::Error) -> bool {
    use rustls::AlertDescription as A;
    match error {
        rustls::Error::InvalidCertificate(_)
        | rustls::Error::NoCertificatesPresented
        | rustls::Error::UnsupportedNameType
        | rustls::Error::InvalidCertRevocationList(_) => true,
        rustls::Error::AlertReceived(alert) => matches!(
            alert,
            A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::UnknownCA
        ),
        _ => false,
    }
}
