//! TLS set-up shared by the server and the tools, on rustls (ring): PEM certificates and
//! keys, CA bundles (`--cacert`/`tls-ca-cert-file`, `--cacertdir`/`tls-ca-cert-dir`), cipher
//! lists in OpenSSL's names, and the client side as redis-cli and redis-benchmark (hiredis)
//! use it.
//!
//! hiredis verifies the server's certificate chain but not its host name (it only sends the
//! name as SNI), so [`client_config`] does the same: a chain that verifies against the CAs is
//! accepted whatever names the certificate carries.
//!
//! Only what rustls implements can be chosen: TLS 1.2 and 1.3, ECDHE key exchange with
//! AES-GCM or ChaCha20-Poly1305. Other OpenSSL cipher names select nothing, as OpenSSL
//! ignores names it does not know; a list that selects nothing at all is refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
    SupportedCipherSuite, SupportedProtocolVersion,
};

pub use rustls;

/// The client-side TLS flags of redis-cli and redis-benchmark.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientOptions {
    /// `--sni`: the name sent instead of the host.
    pub sni: Option<String>,
    pub cacert: Option<PathBuf>,
    pub cacertdir: Option<PathBuf>,
    /// `--insecure`: no verification of the server's certificate.
    pub insecure: bool,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// `--tls-ciphers`: TLS 1.2 ciphers, an OpenSSL cipher list.
    pub ciphers: Option<String>,
    /// `--tls-ciphersuites`: TLS 1.3 suites, `:`-separated.
    pub ciphersuites: Option<String>,
}

impl ClientOptions {
    /// The name the server's certificate is presented for: `--sni`, else the host.
    pub fn server_name(&self, host: &str) -> Result<ServerName<'static>, String> {
        let name = self.sni.clone().unwrap_or_else(|| host.to_string());
        ServerName::try_from(name).map_err(|e| format!("invalid TLS server name: {e}"))
    }
}

/// The client configuration for `o`.
pub fn client_config(o: &ClientOptions) -> Result<ClientConfig, String> {
    let mut provider = ring::default_provider();
    let (suites, versions) = choose_suites(
        &provider.cipher_suites,
        o.ciphers.as_deref(),
        o.ciphersuites.as_deref(),
        &[&rustls::version::TLS13, &rustls::version::TLS12],
    )?;
    provider.cipher_suites = suites;
    let provider = Arc::new(provider);
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions)
        .map_err(|e| format!("Could not create an SSL context: {e}"))?;
    let algorithms = provider.signature_verification_algorithms;
    let verifier: Arc<dyn ServerCertVerifier> = if o.insecure {
        Arc::new(ServerCheck {
            chain: None,
            algorithms,
        })
    } else {
        let roots = match (&o.cacert, &o.cacertdir) {
            (None, None) => system_roots(),
            (file, dir) => load_roots(file.as_deref(), dir.as_deref())
                .map_err(|e| format!("Invalid CA Certificate File/Directory: {e}"))?,
        };
        chain_verifier(Arc::new(roots), Arc::clone(&provider))
            .map_err(|e| format!("Invalid CA Certificate File/Directory: {e}"))?
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    match (&o.cert, &o.key) {
        (Some(cert), Some(key)) => {
            let certs = load_certs(cert).map_err(|e| format!("Invalid client certificate: {e}"))?;
            let key = load_key(key).map_err(|e| format!("Invalid private key: {e}"))?;
            let certified = certified_key(certs, key, &provider)
                .map_err(|e| format!("Invalid private key: {e}"))?;
            Ok(builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(certified))))
        }
        (None, None) => Ok(builder.with_no_client_auth()),
        _ => Err("Both --cert and --key must be given".into()),
    }
}

/// hiredis's verification of a server: its chain must lead to one of `roots`; its names are
/// not compared with the host.
pub fn chain_verifier(
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, String> {
    let algorithms = provider.signature_verification_algorithms;
    let inner = WebPkiServerVerifier::builder_with_provider(roots, provider)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(ServerCheck {
        chain: Some(inner),
        algorithms,
    }))
}

/// A certificate chain and its private key, refused only when the key is not the
/// certificate's. A certificate webpki cannot parse (X.509 v1, as `openssl x509 -req` makes
/// without extensions) is still served, as OpenSSL serves it: the peer decides.
pub fn certified_key(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, String> {
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| e.to_string())?;
    let certified = CertifiedKey::new(certs, signing);
    match certified.keys_match() {
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err("key values mismatch".into())
        }
        _ => Ok(Arc::new(certified)),
    }
}

/// Every certificate of a PEM file, in order (a chain: the leaf first).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate found", path.display()));
    }
    Ok(certs)
}

/// The private key of a PEM file (PKCS#1, PKCS#8 or SEC1). Encrypted keys are refused:
/// rustls cannot decrypt them.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if is_encrypted_key(&text) {
        return Err(format!(
            "{}: encrypted private keys are not supported by this server; decrypt it first \
             (openssl pkey -in KEY -out PLAIN)",
            path.display()
        ));
    }
    PrivateKeyDer::from_pem_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn is_encrypted_key(pem: &[u8]) -> bool {
    let has = |needle: &[u8]| pem.windows(needle.len()).any(|w| w == needle);
    has(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || has(b"Proc-Type: 4,ENCRYPTED")
}

/// The CAs of a PEM file and of every PEM file in a folder (files that hold no certificate
/// are skipped there, as OpenSSL's hashed folders hold other files too).
pub fn load_roots(file: Option<&Path>, dir: Option<&Path>) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    if let Some(file) = file {
        for cert in load_certs(file)? {
            store
                .add(cert)
                .map_err(|e| format!("{}: {e}", file.display()))?;
        }
    }
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            if let Ok(certs) = load_certs(&entry.path()) {
                for cert in certs {
                    let _ = store.add(cert);
                }
            }
        }
    }
    Ok(store)
}

/// OpenSSL's default CAs: `$SSL_CERT_FILE`, else Debian's bundle.
fn system_roots() -> RootCertStore {
    let file = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
    let mut store = RootCertStore::empty();
    if let Ok(certs) = CertificateDer::pem_file_iter(&file) {
        for cert in certs.flatten() {
            let _ = store.add(cert);
        }
    }
    store
}

/// The suites and protocol versions that the TLS 1.2 cipher list `ciphers` (OpenSSL's
/// syntax) and the TLS 1.3 list `ciphersuites` leave among `available`, for the `wanted`
/// versions (`None`: every suite of that version). A version left without suites is dropped;
/// an error when nothing is left.
pub fn choose_suites(
    available: &[SupportedCipherSuite],
    ciphers: Option<&str>,
    ciphersuites: Option<&str>,
    wanted: &[&'static SupportedProtocolVersion],
) -> Result<
    (
        Vec<SupportedCipherSuite>,
        Vec<&'static SupportedProtocolVersion>,
    ),
    String,
> {
    let tls12: Vec<SupportedCipherSuite> = match ciphers {
        None => available
            .iter()
            .copied()
            .filter(|s| matches!(s, SupportedCipherSuite::Tls12(_)))
            .collect(),
        Some(list) => select_tls12(available, list),
    };
    let tls13: Vec<SupportedCipherSuite> = available
        .iter()
        .copied()
        .filter(|s| matches!(s, SupportedCipherSuite::Tls13(_)))
        .filter(|s| match ciphersuites {
            None => true,
            Some(list) => list.split(':').any(|name| name.trim() == openssl_name(*s)),
        })
        .collect();
    let mut versions = Vec::new();
    let mut suites = Vec::new();
    for v in wanted {
        let of_version = if v.version == rustls::ProtocolVersion::TLSv1_3 {
            &tls13
        } else {
            &tls12
        };
        if !of_version.is_empty() {
            versions.push(*v);
            suites.extend(of_version.iter().copied());
        }
    }
    if suites.is_empty() {
        return Err("no supported cipher suite is left by the cipher lists".into());
    }
    Ok((suites, versions))
}

/// The TLS 1.2 suites an OpenSSL cipher string selects, in `available`'s order: names and
/// aliases joined by `:` (or `,`/space), `+` for "and", `!`/`-` to remove. Unknown names
/// select nothing.
fn select_tls12(available: &[SupportedCipherSuite], list: &str) -> Vec<SupportedCipherSuite> {
    let tls12: Vec<SupportedCipherSuite> = available
        .iter()
        .copied()
        .filter(|s| matches!(s, SupportedCipherSuite::Tls12(_)))
        .collect();
    let mut chosen = vec![false; tls12.len()];
    let mut banned = vec![false; tls12.len()];
    for item in list.split([':', ',', ' ']).filter(|s| !s.is_empty()) {
        let (op, expr) = match item.as_bytes()[0] {
            b'!' => ('!', &item[1..]),
            b'-' => ('-', &item[1..]),
            b'+' => ('+', &item[1..]),
            _ => (' ', item),
        };
        if expr.starts_with('@') {
            continue;
        }
        for (i, suite) in tls12.iter().enumerate() {
            let name = openssl_name(*suite);
            let hit = expr
                .split('+')
                .all(|alias| cipher_alias_matches(alias, name));
            if !hit {
                continue;
            }
            match op {
                '!' => {
                    banned[i] = true;
                    chosen[i] = false;
                }
                '-' => chosen[i] = false,
                // `+X` moves X to the end: order is rustls's, so only membership counts.
                '+' => {}
                _ => chosen[i] = !banned[i],
            }
        }
    }
    tls12
        .into_iter()
        .zip(chosen)
        .filter_map(|(s, keep)| keep.then_some(s))
        .collect()
}

/// Whether OpenSSL's cipher `alias` covers the suite called `name` (OpenSSL's name).
fn cipher_alias_matches(alias: &str, name: &str) -> bool {
    if alias == name {
        return true;
    }
    let ecdsa = name.starts_with("ECDHE-ECDSA-");
    let gcm = name.contains("GCM");
    let chacha = name.contains("CHACHA20");
    let aes128 = name.contains("AES128");
    let aes256 = name.contains("AES256");
    match alias {
        // Every suite rustls has is ECDHE with an AEAD cipher: high strength, in DEFAULT.
        "DEFAULT" | "ALL" | "HIGH" | "TLSv1.2" | "ECDHE" | "EECDH" | "kECDHE" | "kEECDH"
        | "AEAD" | "SHA256" | "SHA384" => match alias {
            "SHA256" => name.ends_with("SHA256") || chacha,
            "SHA384" => name.ends_with("SHA384"),
            _ => true,
        },
        "aRSA" | "RSA" => !ecdsa,
        "aECDSA" | "ECDSA" => ecdsa,
        "AESGCM" => gcm,
        "AES" => aes128 || aes256,
        "AES128" => aes128,
        "AES256" => aes256,
        "CHACHA20" => chacha,
        _ => false,
    }
}

/// OpenSSL's name of a suite: `TLS_AES_128_GCM_SHA256`, `ECDHE-RSA-AES128-GCM-SHA256`.
pub fn openssl_name(suite: SupportedCipherSuite) -> &'static str {
    use rustls::CipherSuite as C;
    match suite.suite() {
        C::TLS13_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        C::TLS13_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        C::TLS13_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256",
        C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384",
        C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-RSA-CHACHA20-POLY1305",
        _ => "",
    }
}

/// How a client checks the server's certificate. Signatures are checked either way, so the
/// handshake itself stays sound.
#[derive(Debug)]
struct ServerCheck {
    /// hiredis's check: the chain must lead to a trusted CA; the names in the certificate are
    /// not compared with the host. `None` for `--insecure`: any certificate is accepted.
    chain: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ServerCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            // The name is checked only once the chain verified.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The provider every TLS context of this workspace uses.
pub fn provider() -> CryptoProvider {
    ring::default_provider()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(suites: &[SupportedCipherSuite]) -> Vec<&'static str> {
        suites.iter().map(|s| openssl_name(*s)).collect()
    }

    const BOTH: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

    #[test]
    fn cipher_lists_select_by_openssl_names() {
        let all = provider().cipher_suites;
        let (suites, versions) = choose_suites(
            &all,
            Some("ECDHE-RSA-AES128-GCM-SHA256"),
            Some("TLS_CHACHA20_POLY1305_SHA256"),
            BOTH,
        )
        .unwrap();
        assert_eq!(
            names(&suites),
            [
                "TLS_CHACHA20_POLY1305_SHA256",
                "ECDHE-RSA-AES128-GCM-SHA256"
            ]
        );
        assert_eq!(versions.len(), 2);
        // OpenSSL's aliases and removals; unknown names select nothing.
        let (suites, _) =
            choose_suites(&all, Some("DEFAULT:-AES128-SHA256"), Some(""), BOTH).unwrap();
        assert_eq!(suites.len(), 6);
        let (suites, _) =
            choose_suites(&all, Some("HIGH:!aECDSA:!CHACHA20"), Some(""), BOTH).unwrap();
        assert_eq!(
            names(&suites),
            ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"]
        );
        let (suites, _) = choose_suites(&all, Some("ECDHE+AESGCM+aRSA"), Some(""), BOTH).unwrap();
        assert_eq!(suites.len(), 2);
        // A list that selects nothing of TLS 1.2 drops 1.2; nothing at all is an error.
        let (_, versions) = choose_suites(&all, Some("AES128-SHA256"), None, BOTH).unwrap();
        assert_eq!(versions.len(), 1);
        assert!(
            choose_suites(
                &all,
                Some("AES128-SHA256"),
                None,
                &[&rustls::version::TLS12]
            )
            .is_err()
        );
        assert!(choose_suites(&all, Some("NOPE"), Some("NOPE"), BOTH).is_err());
    }

    #[test]
    fn encrypted_keys_are_recognised() {
        assert!(is_encrypted_key(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
        ));
        assert!(is_encrypted_key(
            b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        ));
        assert!(!is_encrypted_key(b"-----BEGIN PRIVATE KEY-----\nAAAA\n"));
    }

    #[test]
    fn client_auth_needs_both_files() {
        let o = ClientOptions {
            insecure: true,
            cert: Some("/nonexistent".into()),
            ..ClientOptions::default()
        };
        assert_eq!(
            client_config(&o).err().as_deref(),
            Some("Both --cert and --key must be given")
        );
    }
}
