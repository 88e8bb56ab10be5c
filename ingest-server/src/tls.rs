//! Certificates for loopback HTTPS, generated at start-up.

use std::fmt;
use std::io;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A server certificate and its private key, signed by a throw-away
/// certificate authority whose PEM a client adds to its trust store.
///
/// The leaf names `localhost` and `127.0.0.1`. `Debug` never shows the key.
///
/// ```
/// let identity = timber_ingest_server::TlsIdentity::generate()?;
/// assert!(identity.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct TlsIdentity {
    ca_pem: String,
    cert_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key_pkcs8: Arc<Vec<u8>>,
}

impl TlsIdentity {
    /// A fresh CA and a leaf certificate for `localhost` and `127.0.0.1`.
    pub fn generate() -> io::Result<Self> {
        let ca_key = KeyPair::generate().map_err(io::Error::other)?;
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "timber local test CA");
        let ca = ca_params.self_signed(&ca_key).map_err(io::Error::other)?;

        let leaf_key = KeyPair::generate().map_err(io::Error::other)?;
        let mut leaf_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .map_err(io::Error::other)?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "timber local ingest server");
        let leaf = leaf_params
            .signed_by(&leaf_key, &ca, &ca_key)
            .map_err(io::Error::other)?;

        Ok(TlsIdentity {
            ca_pem: ca.pem(),
            cert_pem: leaf.pem(),
            chain: vec![leaf.der().clone(), ca.der().clone()],
            key_pkcs8: Arc::new(leaf_key.serialize_der()),
        })
    }

    /// The PEM of the certificate authority to trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The PEM of the server's own (leaf) certificate.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// rustls settings offering HTTP/2 and HTTP/1.1 through ALPN.
    pub(crate) fn server_config(&self) -> io::Result<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.to_vec()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), key)
            .map_err(io::Error::other)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("names", &["localhost", "127.0.0.1"])
            .finish_non_exhaustive()
    }
}
