//! The rustls client settings: which roots are trusted.

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

use crate::build_error::BuildError;

/// Which certificate authorities the transport trusts. Certificates are
/// always verified; only the set of trusted roots can change.
#[derive(Clone, Default)]
pub(crate) struct Trust {
    pub(crate) no_webpki_roots: bool,
    #[cfg(feature = "native-roots")]
    pub(crate) native_roots: bool,
    pub(crate) extra: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Trust");
        d.field("webpki_roots", &!self.no_webpki_roots);
        #[cfg(feature = "native-roots")]
        d.field("native_roots", &self.native_roots);
        d.field("extra_roots", &self.extra.len()).finish()
    }
}

impl Trust {
    /// Adds every certificate of a PEM text; at least one is required.
    pub(crate) fn add_pem(&mut self, pem: &[u8]) -> Result<(), BuildError> {
        let mut found = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| BuildError::Certificate(e.to_string()))?;
            self.extra.push(cert);
            found += 1;
        }
        if found == 0 {
            return Err(BuildError::Certificate(
                "no CERTIFICATE block in the PEM text".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn client_config(&self) -> Result<ClientConfig, BuildError> {
        let mut roots = RootCertStore::empty();
        if !self.no_webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        #[cfg(feature = "native-roots")]
        if self.native_roots {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
        for cert in &self.extra {
            roots
                .add(cert.clone())
                .map_err(|e| BuildError::Certificate(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(BuildError::NoTrustedRoots);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| BuildError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }
}
