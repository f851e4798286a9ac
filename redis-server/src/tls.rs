//! TLS for `tls-port` clients (and, later, outgoing replication and cluster links), on
//! rustls: the contexts built from the `tls-*` directives, rebuilt atomically by CONFIG SET
//! as Redis's `tlsConfigure` does, and the accept-side handshake.
//!
//! What rustls cannot do is refused with a logged reason: TLS 1.0/1.1, ciphers other than
//! ECDHE with AES-GCM or ChaCha20-Poly1305, and encrypted private keys
//! (`tls-key-file-pass`). `tls-dh-params-file` is read and checked, but rustls has no
//! finite-field DHE suites to use it with.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::config::Config;
use common::tls::rustls::server::{
    NoServerSessionStorage, ServerSessionMemoryCache, StoresServerSessions, WebPkiClientVerifier,
};
use common::tls::rustls::sign::SingleCertAndKey;
use common::tls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long an accepted TLS connection may take to finish its handshake.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// `tls-auth-clients`, as the config stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthClients {
    No = 0,
    Yes = 1,
    Optional = 2,
}

impl AuthClients {
    pub(crate) fn of(config: &Config) -> AuthClients {
        match config.get_str("tls-auth-clients") {
            Some("no") => AuthClients::No,
            Some("optional") => AuthClients::Optional,
            _ => AuthClients::Yes,
        }
    }
}

/// The server's TLS state: `None` until TLS is first configured.
#[derive(Default)]
pub(crate) struct Tls {
    contexts: RwLock<Option<Arc<Contexts>>>,
    /// The session cache outlives reconfiguration only while its settings stay the same.
    sessions: Mutex<Option<(SessionSettings, Arc<dyn StoresServerSessions>)>>,
}

/// One configuration's contexts: a server side per `tls-auth-clients` mode, chosen for each
/// connection when it is accepted (as Redis sets the verify mode per connection), and the
/// client side for outgoing links.
struct Contexts {
    no: TlsAcceptor,
    /// `None` when no CA is configured: nothing can be verified, so no client is accepted.
    yes: Option<TlsAcceptor>,
    optional: Option<TlsAcceptor>,
    /// `tls-client-cert-file`/`-key-file`, else `tls-cert-file`/`-key-file`, verified against
    /// the CAs: what a replica or cluster link presents. `None` without CAs.
    client: Option<Arc<ClientConfig>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SessionSettings {
    caching: bool,
    size: usize,
    timeout_secs: u64,
}

impl Tls {
    /// Whether TLS was configured successfully at least once.
    pub(crate) fn is_configured(&self) -> bool {
        self.contexts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Builds every context from `config` and puts them in force; on failure nothing changes
    /// and the error is the line Redis logs.
    pub(crate) fn configure(&self, config: &Config) -> Result<(), String> {
        let settings = SessionSettings {
            caching: config.get_bool("tls-session-caching").unwrap_or(true),
            size: usize::try_from(config.get_int("tls-session-cache-size").unwrap_or(20480))
                .unwrap_or(0),
            timeout_secs: u64::try_from(config.get_int("tls-session-cache-timeout").unwrap_or(300))
                .unwrap_or(0),
        };
        let sessions = {
            let mut kept = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
            match &*kept {
                Some((s, cache)) if *s == settings => cache.clone(),
                _ => {
                    let cache = session_cache(settings);
                    *kept = Some((settings, cache.clone()));
                    cache
                }
            }
        };
        let contexts = build(config, sessions)?;
        *self
            .contexts
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(contexts));
        Ok(())
    }

    /// The acceptor for a new connection under `auth`; the error says why none can be had.
    pub(crate) fn acceptor(&self, auth: AuthClients) -> Result<TlsAcceptor, &'static str> {
        let contexts = self.contexts.read().unwrap_or_else(PoisonError::into_inner);
        let Some(c) = contexts.as_ref() else {
            return Err("TLS is not configured");
        };
        match auth {
            AuthClients::No => Ok(c.no.clone()),
            AuthClients::Yes => c
                .yes
                .clone()
                .ok_or("tls-auth-clients needs tls-ca-cert-file or tls-ca-cert-dir"),
            AuthClients::Optional => Ok(c.optional.clone().unwrap_or_else(|| c.no.clone())),
        }
    }

    /// The client side for outgoing TLS links (replication, cluster bus).
    #[allow(dead_code)] // Used by outgoing TLS replication, which is not built yet.
    pub(crate) fn client_config(&self) -> Option<Arc<ClientConfig>> {
        self.contexts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|c| c.client.clone())
    }
}

/// Runs the server side of the handshake on an accepted socket, within [`HANDSHAKE_TIMEOUT`].
/// A peer whose first byte does not open a TLS handshake record gets its connection reset
/// without an alert, as Redis's clients see it (OpenSSL gives up at the bad record header,
/// so closing finds unread data).
pub(crate) async fn accept(
    acceptor: TlsAcceptor,
    stream: TcpStream,
) -> Result<TlsStream<TcpStream>, String> {
    /// The TLS record type of a handshake message.
    const HANDSHAKE_RECORD: u8 = 0x16;
    let handshake = async {
        let mut first = [0u8; 1];
        match stream.peek(&mut first).await {
            Ok(1) if first[0] == HANDSHAKE_RECORD => {}
            Ok(0) => return Err("connection closed before the TLS handshake".to_string()),
            Ok(_) => {
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                return Err("the client does not speak TLS".to_string());
            }
            Err(e) => return Err(e.to_string()),
        }
        acceptor.accept(stream).await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(done) => done,
        Err(_) => Err("TLS handshake timed out".into()),
    }
}

/// The directives `tlsConfigure` reads: a change to one rebuilds the contexts when TLS is in
/// use (`tls-port`, `tls-replication` or `tls-cluster`).
pub(crate) const CONTEXT_DIRECTIVES: &[&str] = &[
    "tls-session-cache-size",
    "tls-session-cache-timeout",
    "tls-cluster",
    "tls-replication",
    "tls-prefer-server-ciphers",
    "tls-session-caching",
    "tls-cert-file",
    "tls-key-file",
    "tls-key-file-pass",
    "tls-client-cert-file",
    "tls-client-key-file",
    "tls-client-key-file-pass",
    "tls-dh-params-file",
    "tls-ca-cert-file",
    "tls-ca-cert-dir",
    "tls-protocols",
    "tls-ciphers",
    "tls-ciphersuites",
];

/// Whether the configuration asks for TLS at all.
pub(crate) fn wanted(config: &Config) -> bool {
    config.get_int("tls-port").unwrap_or(0) != 0
        || config.get_bool("tls-replication").unwrap_or(false)
        || config.get_bool("tls-cluster").unwrap_or(false)
}

fn non_empty<'a>(config: &'a Config, name: &str) -> Option<&'a str> {
    config.get_str(name).filter(|s| !s.is_empty())
}

fn build(config: &Config, sessions: Arc<dyn StoresServerSessions>) -> Result<Contexts, String> {
    let cert_file = non_empty(config, "tls-cert-file").ok_or("No tls-cert-file configured!")?;
    let key_file = non_empty(config, "tls-key-file").ok_or("No tls-key-file configured!")?;
    let ca_file = non_empty(config, "tls-ca-cert-file");
    let ca_dir = non_empty(config, "tls-ca-cert-dir");
    let needs_ca = AuthClients::of(config) != AuthClients::No
        || config.get_bool("tls-cluster").unwrap_or(false)
        || config.get_bool("tls-replication").unwrap_or(false);
    if needs_ca && ca_file.is_none() && ca_dir.is_none() {
        return Err("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!".into());
    }
    let versions = protocols(non_empty(config, "tls-protocols"))?;

    let mut provider = common::tls::provider();
    let ciphers = non_empty(config, "tls-ciphers");
    let ciphersuites = non_empty(config, "tls-ciphersuites");
    // Each list is checked alone first, for Redis's log line naming the one at fault.
    if let Some(list) = ciphers {
        common::tls::choose_suites(
            &provider.cipher_suites,
            Some(list),
            Some(""),
            &[&rustls::version::TLS12],
        )
        .map_err(|_| {
            format!(
                "Failed to configure ciphers: {list} (this server's TLS 1.2 ciphers are {})",
                supported_tls12(&provider.cipher_suites)
            )
        })?;
    }
    let (suites, versions) =
        common::tls::choose_suites(&provider.cipher_suites, ciphers, ciphersuites, &versions)
            .map_err(|_| {
                format!(
                    "Failed to configure ciphersuites: {}",
                    ciphersuites.unwrap_or("")
                )
            })?;
    provider.cipher_suites = suites;
    let provider = Arc::new(provider);

    let certs = common::tls::load_certs(Path::new(cert_file))
        .map_err(|e| format!("Failed to load certificate: {cert_file}: {e}"))?;
    if non_empty(config, "tls-key-file-pass").is_some() {
        return Err(format!(
            "Failed to load private key: {key_file}: encrypted private keys (tls-key-file-pass) are not supported by this server"
        ));
    }
    let key = common::tls::load_key(Path::new(key_file))
        .map_err(|e| format!("Failed to load private key: {key_file}: {e}"))?;
    let roots = if ca_file.is_some() || ca_dir.is_some() {
        common::tls::load_roots(ca_file.map(Path::new), ca_dir.map(Path::new))
            .map_err(|e| format!("Failed to configure CA certificate(s) file/directory: {e}"))?
    } else {
        RootCertStore::empty()
    };
    let roots = Arc::new(roots);
    if let Some(dh) = non_empty(config, "tls-dh-params-file") {
        check_dh_params(dh)?;
    }

    let prefer_server = config
        .get_bool("tls-prefer-server-ciphers")
        .unwrap_or(false);
    let certified = common::tls::certified_key(certs, key, &provider)
        .map_err(|e| format!("Failed to load private key: {key_file}: {e}"))?;
    let resolver = Arc::new(SingleCertAndKey::from(certified));
    let server_config = |verifier: Arc<dyn rustls::server::danger::ClientCertVerifier>| {
        let mut c = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| format!("Failed to configure TLS: {e}"))?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(resolver.clone());
        c.ignore_client_order = prefer_server;
        c.session_storage = sessions.clone();
        Ok::<_, String>(TlsAcceptor::from(Arc::new(c)))
    };
    let no = server_config(WebPkiClientVerifier::no_client_auth())?;
    let (yes, optional) = if roots.is_empty() {
        (None, None)
    } else {
        let verifier = |optional: bool| {
            let b = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone());
            let b = if optional {
                b.allow_unauthenticated()
            } else {
                b
            };
            b.build()
                .map_err(|e| format!("Failed to configure CA certificate(s) file/directory: {e}"))
        };
        (
            Some(server_config(verifier(false)?)?),
            Some(server_config(verifier(true)?)?),
        )
    };

    let client = if roots.is_empty() {
        None
    } else {
        let client = client_context(config, &provider, &versions, roots, (cert_file, key_file))?;
        Some(Arc::new(client))
    };
    Ok(Contexts {
        no,
        yes,
        optional,
        client,
    })
}

/// OpenSSL's names of the TLS 1.2 suites rustls offers, for error messages.
fn supported_tls12(suites: &[rustls::SupportedCipherSuite]) -> String {
    suites
        .iter()
        .filter(|s| matches!(s, rustls::SupportedCipherSuite::Tls12(_)))
        .map(|s| common::tls::openssl_name(*s))
        .collect::<Vec<_>>()
        .join(":")
}

/// `tls-protocols`: space-separated names, any case; empty means TLSv1.2 and TLSv1.3.
fn protocols(
    value: Option<&str>,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
    let Some(value) = value else {
        return Ok(vec![&rustls::version::TLS13, &rustls::version::TLS12]);
    };
    let (mut v12, mut v13, mut old) = (false, false, false);
    for name in value.split(' ').filter(|s| !s.is_empty()) {
        match name.to_ascii_lowercase().as_str() {
            "tlsv1" | "tlsv1.1" => old = true,
            "tlsv1.2" => v12 = true,
            "tlsv1.3" => v13 = true,
            _ => {
                return Err("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.".into());
            }
        }
    }
    let mut versions = Vec::new();
    if v13 {
        versions.push(&rustls::version::TLS13);
    }
    if v12 {
        versions.push(&rustls::version::TLS12);
    }
    if versions.is_empty() {
        return Err(if old {
            "TLSv1 and TLSv1.1 are not supported by this server: tls-protocols must include TLSv1.2 or TLSv1.3".into()
        } else {
            "Invalid tls-protocols configuration string".into()
        });
    }
    Ok(versions)
}

/// Reads the DH parameters file as Redis does, so that a bad path fails the same way.
fn check_dh_params(path: &str) -> Result<(), String> {
    let text = std::fs::read(path).map_err(|e| format!("Failed to load {path}: {e}"))?;
    let marker = b"-----BEGIN DH PARAMETERS-----";
    if !text.windows(marker.len()).any(|w| w == marker) {
        return Err(format!("{path}: failed to read DH params."));
    }
    Ok(())
}

fn client_context(
    config: &Config,
    provider: &Arc<rustls::crypto::CryptoProvider>,
    versions: &[&'static rustls::SupportedProtocolVersion],
    roots: Arc<RootCertStore>,
    (cert_file, key_file): (&str, &str),
) -> Result<ClientConfig, String> {
    let (cert, key) = match (
        non_empty(config, "tls-client-cert-file"),
        non_empty(config, "tls-client-key-file"),
    ) {
        (Some(c), Some(k)) => {
            if non_empty(config, "tls-client-key-file-pass").is_some() {
                return Err(format!(
                    "Failed to load private key: {k}: encrypted private keys (tls-client-key-file-pass) are not supported by this server"
                ));
            }
            (c, k)
        }
        _ => (cert_file, key_file),
    };
    let certs = common::tls::load_certs(Path::new(cert))
        .map_err(|e| format!("Failed to load certificate: {cert}: {e}"))?;
    let key_der = common::tls::load_key(Path::new(key))
        .map_err(|e| format!("Failed to load private key: {key}: {e}"))?;
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("Failed to configure TLS: {e}"))?;
    // A link without CAs (tls-replication and tls-cluster need them) verifies nothing.
    let verifier = common::tls::chain_verifier(roots, provider.clone())
        .map_err(|e| format!("Failed to configure CA certificate(s) file/directory: {e}"))?;
    let certified = common::tls::certified_key(certs, key_der, provider)
        .map_err(|e| format!("Failed to load private key: {key}: {e}"))?;
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(certified))))
}

/// The session cache `tls-session-caching`, `-cache-size` and `-cache-timeout` ask for.
fn session_cache(s: SessionSettings) -> Arc<dyn StoresServerSessions> {
    if !s.caching {
        return Arc::new(NoServerSessionStorage {});
    }
    // OpenSSL reads a size of 0 as "no limit"; a bound is kept all the same.
    let size = if s.size == 0 { 1 << 20 } else { s.size };
    Arc::new(TimedSessions {
        inner: ServerSessionMemoryCache::new(size),
        timeout_secs: s.timeout_secs,
    })
}

/// A bounded session cache whose entries expire after `tls-session-cache-timeout` seconds:
/// each value is stored behind the second it expires at.
#[derive(Debug)]
struct TimedSessions {
    inner: Arc<ServerSessionMemoryCache>,
    timeout_secs: u64,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl TimedSessions {
    fn unwrap_fresh(value: Vec<u8>) -> Option<Vec<u8>> {
        let (stamp, rest) = value.split_first_chunk::<8>()?;
        (u64::from_be_bytes(*stamp) > now_secs()).then(|| rest.to_vec())
    }
}

impl StoresServerSessions for TimedSessions {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let mut stamped = (now_secs().saturating_add(self.timeout_secs))
            .to_be_bytes()
            .to_vec();
        stamped.extend_from_slice(&value);
        self.inner.put(key, stamped)
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.inner.get(key).and_then(TimedSessions::unwrap_fresh)
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.inner.take(key).and_then(TimedSessions::unwrap_fresh)
    }

    fn can_cache(&self) -> bool {
        self.timeout_secs > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_as_redis_names_them() {
        assert_eq!(protocols(None).unwrap().len(), 2);
        assert_eq!(protocols(Some("TLSv1.2")).unwrap().len(), 1);
        assert_eq!(protocols(Some("tlsv1.2  TLSv1.3")).unwrap().len(), 2);
        assert_eq!(protocols(Some("TLSv1 TLSv1.3")).unwrap().len(), 1);
        assert!(
            protocols(Some("TLSv1.1"))
                .unwrap_err()
                .contains("not supported")
        );
        assert!(
            protocols(Some("SSLv3"))
                .unwrap_err()
                .starts_with("Invalid tls-protocols specified.")
        );
    }

    #[test]
    fn sessions_expire_after_the_timeout() {
        let live = TimedSessions {
            inner: ServerSessionMemoryCache::new(4),
            timeout_secs: 300,
        };
        assert!(live.put(b"k".to_vec(), b"v".to_vec()));
        assert_eq!(live.get(b"k").as_deref(), Some(&b"v"[..]));
        assert_eq!(live.take(b"k").as_deref(), Some(&b"v"[..]));
        assert_eq!(live.get(b"k"), None);
        let expired = TimedSessions {
            inner: ServerSessionMemoryCache::new(4),
            timeout_secs: 0,
        };
        expired.put(b"k".to_vec(), b"v".to_vec());
        assert_eq!(expired.get(b"k"), None);
    }

    #[test]
    fn configure_reports_redis_log_lines() {
        let tls = Tls::default();
        let config = Config::default();
        assert_eq!(
            tls.configure(&config).unwrap_err(),
            "No tls-cert-file configured!"
        );
        assert!(!tls.is_configured());
    }
}
