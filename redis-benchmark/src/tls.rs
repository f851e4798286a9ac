//! `--tls` and its flags, as Redis's tool built with OpenSSL takes them: the CA to verify
//! with (`--cacert`, `--cacertdir`, else the system's bundle), `--insecure`, a client
//! certificate (`--cert`, `--key`), `--sni`, and the cipher lists in OpenSSL's names
//! (`--tls-ciphers` for TLS 1.2, `--tls-ciphersuites` for TLS 1.3). Built on rustls, so
//! only the suites rustls implements can be chosen.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_rustls::TlsConnector;

/// The TLS flags of the command line.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct TlsOptions {
    pub(crate) enabled: bool,
    pub(crate) sni: Option<String>,
    pub(crate) cacert: Option<PathBuf>,
    pub(crate) cacertdir: Option<PathBuf>,
    pub(crate) insecure: bool,
    pub(crate) cert: Option<PathBuf>,
    pub(crate) key: Option<PathBuf>,
    pub(crate) ciphers: Option<String>,
    pub(crate) ciphersuites: Option<String>,
}

/// What every connection of the process uses once `--tls` is set up.
#[derive(Clone)]
pub(crate) struct Tls {
    pub(crate) connector: TlsConnector,
    /// `--sni`: the name sent instead of the host.
    pub(crate) sni: Option<String>,
}

static TLS: OnceLock<Tls> = OnceLock::new();

/// The process's TLS set-up, if `--tls` was given.
pub(crate) fn get() -> Option<&'static Tls> {
    TLS.get()
}

/// Builds the TLS set-up from the flags and makes every later connection use it.
pub(crate) fn init(o: &TlsOptions) -> Result<(), String> {
    let tls = Tls {
        connector: TlsConnector::from(Arc::new(client_config(o)?)),
        sni: o.sni.clone(),
    };
    // A second init (never done) would keep the first set-up.
    let _ = TLS.set(tls);
    Ok(())
}

/// The name the server's certificate is checked against.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let name = get()
        .and_then(|t| t.sni.clone())
        .unwrap_or_else(|| host.to_string());
    ServerName::try_from(name).map_err(|e| format!("invalid TLS server name: {e}"))
}

fn client_config(o: &TlsOptions) -> Result<ClientConfig, String> {
    let mut provider = ring::default_provider();
    provider.cipher_suites = choose_suites(&provider, o)?;
    let provider = Arc::new(provider);
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("Could not create an SSL context: {e}"))?;
    let builder = if o.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(
                provider.signature_verification_algorithms,
            )))
    } else {
        builder.with_root_certificates(roots(o)?)
    };
    match (&o.cert, &o.key) {
        (Some(cert), Some(key)) => {
            let certs = CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("Invalid client certificate: {}: {e}", cert.display()))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| format!("Invalid private key: {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("Invalid client certificate or key: {e}"))
        }
        (None, None) => Ok(builder.with_no_client_auth()),
        _ => Err("Both --cert and --key must be given".into()),
    }
}

/// `--cacert`, every certificate in `--cacertdir`, or else the system's bundle.
fn roots(o: &TlsOptions) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    let mut add_file = |path: &Path, strict: bool| -> Result<(), String> {
        let certs = match CertificateDer::pem_file_iter(path) {
            Ok(certs) => certs,
            Err(e) if strict => return Err(format!("Invalid CA Certificate File/Directory: {e}")),
            Err(_) => return Ok(()),
        };
        for cert in certs {
            match cert {
                Ok(cert) => {
                    let _ = store.add(cert);
                }
                Err(e) if strict => {
                    return Err(format!("Invalid CA Certificate File/Directory: {e}"));
                }
                Err(_) => {}
            }
        }
        Ok(())
    };
    if let Some(file) = &o.cacert {
        add_file(file, true)?;
    }
    if let Some(dir) = &o.cacertdir {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("Invalid CA Certificate File/Directory: {e}"))?;
        for entry in entries.flatten() {
            add_file(&entry.path(), false)?;
        }
    }
    if o.cacert.is_none() && o.cacertdir.is_none() {
        // OpenSSL's defaults: $SSL_CERT_FILE, else Debian's bundle.
        let file = std::env::var_os("SSL_CERT_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
        add_file(&file, false)?;
    }
    Ok(store)
}

/// The suites `--tls-ciphers` (OpenSSL's TLS 1.2 names, `:`-separated) and
/// `--tls-ciphersuites` (TLS 1.3 names) allow; all of a version when its list is absent.
fn choose_suites(
    provider: &CryptoProvider,
    o: &TlsOptions,
) -> Result<Vec<rustls::SupportedCipherSuite>, String> {
    let allowed = |suite: &rustls::SupportedCipherSuite| {
        let rustls_name = format!("{:?}", suite.suite());
        let tls13 = matches!(suite, rustls::SupportedCipherSuite::Tls13(_));
        let list = if tls13 { &o.ciphersuites } else { &o.ciphers };
        match list {
            None => true,
            Some(list) => list
                .split(':')
                .any(|name| openssl_name(name.trim()).as_deref() == Some(rustls_name.as_str())),
        }
    };
    let suites: Vec<_> = provider
        .cipher_suites
        .iter()
        .filter(|s| allowed(s))
        .copied()
        .collect();
    if suites.is_empty() {
        return Err("Could not create an SSL context: no cipher matches".into());
    }
    Ok(suites)
}

/// rustls's name of a suite given by its OpenSSL name (`TLS_AES_128_GCM_SHA256`,
/// `ECDHE-RSA-AES128-GCM-SHA256`).
fn openssl_name(name: &str) -> Option<String> {
    if let Some(rest) = name.strip_prefix("TLS_") {
        return Some(format!("TLS13_{rest}"));
    }
    let (kx, rest) = if let Some(rest) = name.strip_prefix("ECDHE-RSA-") {
        ("ECDHE_RSA", rest)
    } else if let Some(rest) = name.strip_prefix("ECDHE-ECDSA-") {
        ("ECDHE_ECDSA", rest)
    } else {
        return None;
    };
    let cipher = match rest {
        "AES128-GCM-SHA256" => "AES_128_GCM_SHA256",
        "AES256-GCM-SHA384" => "AES_256_GCM_SHA384",
        "CHACHA20-POLY1305" => "CHACHA20_POLY1305_SHA256",
        _ => return None,
    };
    Some(format!("TLS_{kx}_WITH_{cipher}"))
}

/// `--insecure`: any certificate is accepted; signatures are still checked, so the
/// handshake itself stays sound.
#[derive(Debug)]
struct AcceptAny(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_cipher_names_map_to_rustls_suites() {
        assert_eq!(
            openssl_name("TLS_AES_128_GCM_SHA256").as_deref(),
            Some("TLS13_AES_128_GCM_SHA256")
        );
        assert_eq!(
            openssl_name("ECDHE-RSA-AES256-GCM-SHA384").as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        );
        assert_eq!(openssl_name("DES-CBC3-SHA"), None);
        let provider = ring::default_provider();
        let only = TlsOptions {
            ciphersuites: Some("TLS_CHACHA20_POLY1305_SHA256".into()),
            ciphers: Some("ECDHE-RSA-AES128-GCM-SHA256".into()),
            ..TlsOptions::default()
        };
        let suites = choose_suites(&provider, &only).unwrap();
        let names: Vec<String> = suites.iter().map(|s| format!("{:?}", s.suite())).collect();
        assert_eq!(
            names,
            [
                "TLS13_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
            ]
        );
        let none = TlsOptions {
            ciphersuites: Some("NOPE".into()),
            ciphers: Some("NOPE".into()),
            ..TlsOptions::default()
        };
        assert!(choose_suites(&provider, &none).is_err());
    }

    #[test]
    fn client_auth_needs_both_files() {
        let o = TlsOptions {
            enabled: true,
            insecure: true,
            cert: Some("/nonexistent".into()),
            ..TlsOptions::default()
        };
        assert_eq!(
            client_config(&o).err().as_deref(),
            Some("Both --cert and --key must be given")
        );
    }
}
